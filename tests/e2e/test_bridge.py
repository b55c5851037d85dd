"""Two hosts, each with its daemon and bridge, over a real nats-server -js on loopback.

Every fault test ends the same way: each host holds every event exactly once, and host b holds
host a's events in a's order (and the other way round).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bridge.nats_server import Host, NatsServer, nkey_pair, tls_files
from tests.conftest import run_cli, start_wait
from tests.sources.webhook_client import SECRET, deliver, derived, listening_daemon, write_secret
from waitbus import api
from waitbus.demo import processes
from waitbus.event import Event
from waitbus.paths import resolve
from waitbus.secrets import GITHUB_WEBHOOK
from waitbus.sources import agents, emitter
from waitbus.store.store import Store

BOUND_S = 60.0


def emit_batch(host: Host, count: int, *, start: int = 0) -> None:
    for seq in range(start, start + count):
        api.emit("batch", "tick", subject=host.name, fields={"seq": seq}, state_dir=host.state_dir)


def wait_seq(host: Host, origin: str, seq: int) -> Event:
    """Block (bounded) until `host` holds the event numbered `seq` that came from `origin`."""
    return api.wait_for([f'origin="{origin}"', f"fields.seq={seq}"], source="batch", since=0,
                        state_dir=host.state_dir, timeout_s=BOUND_S)


def assert_exactly_once_in_order(host: Host, origin: str, count: int) -> None:
    mine = [e for e in host.events() if e.source == "batch" and e.origin == origin]
    seqs = [e.fields["seq"] for e in mine]
    assert seqs == list(range(count)), f"{host.name} holds {origin}'s events as {seqs[:20]}..."
    assert len({e.delivery_id for e in mine}) == count


def test_event_emitted_on_a_wakes_a_wait_for_its_origin_on_b(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    a.start_bridge(nats_server.url)
    b.start_bridge(nats_server.url)
    waiting = start_wait(b.state_dir, "--match", 'origin="a"', "--match", "fields.n=1",
                         "--timeout", "30s", "--json")
    api.emit("ci", "build", subject="me/repo", conclusion="success", fields={"n": 1},
             state_dir=a.state_dir)
    out, err = waiting.communicate(timeout=BOUND_S)
    assert waiting.returncode == 0, err
    assert '"origin":"a"' in out
    (mine,) = a.events()
    (theirs,) = b.events()
    assert (mine.origin, theirs.origin) == ("local", "a")
    assert theirs.delivery_id == f"a:{mine.delivery_id}"
    status = run_cli(b.state_dir, "status")
    assert "bridge nats: connected to" in status.stdout, status.stdout + status.stderr
    assert "export lag 0" in status.stdout


def test_kill_9_of_a_bridge_mid_stream_loses_and_repeats_nothing(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    b.start_bridge(nats_server.url)
    emit_batch(a, 1000)
    a.start_bridge(nats_server.url)
    wait_seq(b, "a", 20)
    a.kill_bridge()
    exported = _exported(a)
    assert exported < 1000, "the bridge finished before the kill; the test proves nothing"
    a.start_bridge(nats_server.url)
    wait_seq(b, "a", 999)
    assert_exactly_once_in_order(b, "a", 1000)
    assert_exactly_once_in_order(a, "local", 1000)


def test_nats_down_while_both_emit_then_back_with_file_storage(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    a.start_bridge(nats_server.url)
    b.start_bridge(nats_server.url)
    emit_batch(a, 50)
    wait_seq(b, "a", 49)
    nats_server.stop()
    # Down until both hosts have committed their batch (local work never needs the bridge).
    emit_batch(a, 150, start=50)
    emit_batch(b, 100)
    nats_server.start()
    wait_seq(b, "a", 199)
    wait_seq(a, "b", 99)
    assert_exactly_once_in_order(b, "a", 200)
    assert_exactly_once_in_order(a, "b", 100)
    assert_exactly_once_in_order(a, "local", 200)
    assert_exactly_once_in_order(b, "local", 100)


def test_a_bridge_started_late_imports_the_backlog(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    a.start_bridge(nats_server.url)
    b.start_bridge(nats_server.url)
    emit_batch(a, 10)
    wait_seq(b, "a", 9)
    b.stop_bridge()
    emit_batch(a, 290, start=10)
    b.start_bridge(nats_server.url)
    wait_seq(b, "a", 299)
    assert_exactly_once_in_order(b, "a", 300)


def test_agent_messages_cross_only_when_both_hosts_opt_in(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    for round_, (a_flags, b_flags) in enumerate([(["--agents"], []), ([], ["--agents"]),
                                                  (["--agents"], ["--agents"])]):
        a.start_bridge(nats_server.url, *a_flags)
        b.start_bridge(nats_server.url, *b_flags)
        emitter.append(resolve(a.state_dir),
                       agents.message("reviewer", f"round {round_}", sender="builder"))
        emit_batch(a, 1, start=round_)
        wait_seq(b, "a", round_)
        a.stop_bridge()
        b.stop_bridge()
    messages = [e.fields["body"] for e in b.events() if e.source == "agent"]
    assert messages == ["round 2"]
    assert [e.origin for e in b.events() if e.source == "agent"] == ["a"]


def test_a_signed_github_webhook_on_a_settles_wait_sha_on_b(nats_server: NatsServer) -> None:
    sha, repo = "3484a3fb816e0859fd6e1cea078d76385ff50625", "octo-org/octo-repo"
    root = Path(tempfile.mkdtemp(prefix="wbg-"))
    a, b = Host("a", root / "a"), Host("b", root / "b").start()
    write_secret(a.state_dir, GITHUB_WEBHOOK, SECRET)
    try:
        with listening_daemon(a.state_dir) as (url, _proc):
            a.start_bridge(nats_server.url)
            b.start_bridge(nats_server.url)
            waiter = start_wait(b.state_dir, "--sha", sha, "--repo", repo, "--timeout", "30s")
            suite = derived("check_suite.completed", "check_suite", {
                "id": 11, "head_sha": sha, "status": "completed", "conclusion": "failure"})
            body = suite.replace(b"Codertocat/Hello-World", repo.encode())
            assert deliver(url, "check_suite", "suite-11", body).status == 200
            assert waiter.wait(BOUND_S) == 1
            out = waiter.stdout.read() if waiter.stdout else ""
            processes.stop(waiter)
            a.stop_bridge()
        assert "check_suite" in out
        (imported,) = [e for e in b.events() if e.source == "github"]
        assert (imported.origin, imported.conclusion) == ("a", "failure")
    finally:
        a.stop()
        b.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def guarded_server() -> Iterator[tuple[NatsServer, str]]:
    """A JetStream server that admits one nkey user; yields it and that user's seed."""
    root = Path(tempfile.mkdtemp(prefix="wbn-"))
    seed, public = nkey_pair()
    server = NatsServer(root, config=f"authorization {{ users = [ {{ nkey: {public} }} ] }}\n")
    server.start()
    try:
        yield server, seed
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_wrong_nkey_is_refused_with_a_clear_message_and_no_secret_shown(
        guarded_server: tuple[NatsServer, str], hosts: tuple[Host, Host]) -> None:
    server, seed = guarded_server
    a, _ = hosts
    wrong, _ = nkey_pair()
    seeds = a.state_dir.parent / "seeds"
    seeds.mkdir(mode=0o700)
    for name, value in (("right", seed), ("wrong", wrong)):
        fd = os.open(seeds / name, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, value.encode())
        os.close(fd)
    refused = run_cli(a.state_dir, "-v", "bridge", "nats", "--url", server.url, "--host", "a",
                      "--nkey", str(seeds / "wrong"), timeout_s=BOUND_S)
    assert refused.returncode == 2, refused.stderr
    assert "refused this bridge" in refused.stderr
    assert "Authorization Violation" in refused.stderr
    assert f"--nkey {seeds / 'wrong'}" in refused.stderr
    assert wrong not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr
    anonymous = run_cli(a.state_dir, "bridge", "nats", "--url", server.url, "--host", "a",
                        timeout_s=BOUND_S)
    assert anonymous.returncode == 2
    assert "with no credentials" in anonymous.stderr
    (seeds / "loose").write_text(seed)
    (seeds / "loose").chmod(0o644)
    loose = run_cli(a.state_dir, "bridge", "nats", "--url", server.url, "--host", "a",
                    "--nkey", str(seeds / "loose"))
    assert loose.returncode == 2
    assert "readable by group or others" in loose.stderr
    a.start_bridge(server.url, "--nkey", str(seeds / "right"))
    assert a.bridge is not None
    assert seed not in " ".join(a.bridge.args)  # type: ignore[arg-type]


def _exported(host: Host) -> int:
    with Store(resolve(host.state_dir), read_only=True) as store:
        return store.bridges()["nats"][0]


def test_tls_with_the_team_ca_connects_and_an_unknown_server_is_refused(
        hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    root = Path(tempfile.mkdtemp(prefix="wbt-"))
    ca, cert, key = tls_files(root)
    server = NatsServer(root, config=f'tls {{ cert_file: "{cert}", key_file: "{key}" }}\n')
    server.start()
    url = f"tls://127.0.0.1:{server.port}"
    try:
        unknown = run_cli(a.state_dir, "bridge", "nats", "--url", url, "--host", "a",
                          timeout_s=BOUND_S)
        assert unknown.returncode == 2, unknown.stderr
        assert "certificate" in unknown.stderr
        assert "--tls-ca" in unknown.stderr
        a.start_bridge(url, "--tls-ca", str(ca))
        b.start_bridge(url, "--tls-ca", str(ca))
        emit_batch(a, 3)
        wait_seq(b, "a", 2)
        assert_exactly_once_in_order(b, "a", 3)
    finally:
        a.stop_bridge()
        b.stop_bridge()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
