"""Two hosts, each with its daemon and bridge, over a real nats-server -js on loopback."""

from __future__ import annotations

from tests.bridge.nats_server import Host, NatsServer
from tests.conftest import run_cli, start_wait
from waitbus import api


def test_event_emitted_on_a_wakes_a_wait_for_its_origin_on_b(
        nats_server: NatsServer, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    a.start_bridge(nats_server.url)
    b.start_bridge(nats_server.url)
    waiting = start_wait(b.state_dir, "--match", 'origin="a"', "--match", "fields.n=1",
                         "--timeout", "30s", "--json")
    api.emit("ci", "build", subject="me/repo", conclusion="success", fields={"n": 1},
             state_dir=a.state_dir)
    out, err = waiting.communicate(timeout=40)
    assert waiting.returncode == 0, err
    assert '"origin":"a"' in out
    (mine,) = a.events()
    (theirs,) = b.events()
    assert (mine.origin, theirs.origin) == ("local", "a")
    assert theirs.delivery_id == f"a:{mine.delivery_id}"
    status = run_cli(b.state_dir, "status")
    assert "bridge nats: connected to" in status.stdout, status.stdout + status.stderr
