"""Retention in a running daemon: live passes, `prune` through it, and pruned cursors said."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from waitbus import wire
from waitbus.cli.exits import Exit
from waitbus.demo import processes
from waitbus.match import EVERYTHING
from waitbus.paths import StatePaths
from waitbus.sources import emitter
from waitbus.store.store import Store


def _serve(state_dir: Path, *flags: str) -> subprocess.Popen[str]:
    argv = processes.waitbus_argv(state_dir, "-v", "serve", "--listen-port", "off", *flags)
    return processes.start(argv, ready="serving", stream="stdout")


@pytest.fixture
def keeping_daemon(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """A daemon that prunes only when asked."""
    proc = _serve(state_dir, "--retain-rows", "off", "--retain-age", "off",
                  "--retain-bytes", "off")
    try:
        yield proc
    finally:
        processes.stop(proc)


@pytest.fixture
def pruning_daemon(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = _serve(state_dir, "--retain-rows", "100", "--retain-age", "off",
                  "--retain-bytes", "off")
    try:
        yield proc
    finally:
        processes.stop(proc)


def _emit(state_dir: Path, count: int, *, payload_bytes: int = 0) -> None:
    with Store(StatePaths(state_dir)) as store:
        for n in range(count):
            store.append(emitter.draft("ci", "build", fields={"n": n},
                                       payload="p" * payload_bytes if payload_bytes else None))


def test_the_daemon_prunes_as_events_arrive(state_dir: Path,
                                            pruning_daemon: subprocess.Popen[str]) -> None:
    _emit(state_dir, 1100)  # a pass is considered every 1000 new events
    assert pruning_daemon.stderr is not None
    line = processes.read_until(pruning_daemon.stderr, "retention pruned", 30.0)
    assert line is not None, "the daemon never reported a retention pass"
    with Store(StatePaths(state_dir), read_only=True) as store:
        assert store.count() <= 200
        assert store.pruned().through >= 900
    shown = run_cli(state_dir, "status").stdout
    assert "retention: keeps 100 events; pruned through cursor" in shown


def test_wait_since_a_pruned_cursor_is_told_so_and_exits_66(
        state_dir: Path, pruning_daemon: subprocess.Popen[str]) -> None:
    _emit(state_dir, 20)
    done = run_cli(state_dir, "prune", "--keep-rows", "5", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["via"] == "daemon"
    waited = run_cli(state_dir, "wait", "--source", "ci", "--since", "3", "--timeout", "10s")
    assert waited.returncode == Exit.PRUNED
    assert "after cursor 3 up to 15 were pruned by retention" in waited.stderr
    resumed = run_cli(state_dir, "wait", "--source", "ci", "--since", "15", "--timeout", "10s",
                      "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["cursor"] == 16


def test_prune_never_deletes_what_a_connected_subscriber_has_not_been_sent(
        state_dir: Path, keeping_daemon: subprocess.Popen[str]) -> None:
    # More than one replay batch (512 rows): the replay stalls on a full socket after one.
    _emit(state_dir, 1500, payload_bytes=4096)
    paths = StatePaths(state_dir)

    async def scenario() -> tuple[list[int], dict[str, object]]:
        reader, writer = await asyncio.open_unix_connection(paths.socket)
        writer.write(wire.encode(wire.Subscribe(EVERYTHING, since=0, payload=True)))
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        seen: list[int] = []
        while len(seen) < 10:  # read a little, then stop reading: the replay stalls
            for obj in decoder.feed(await reader.read(65536)):
                reply = wire.parse_reply(obj)
                assert not isinstance(reply, wire.Pruned)
                if isinstance(reply, wire.EventFrame):
                    seen.append(reply.event.cursor)
        pruned = await asyncio.create_subprocess_exec(
            *processes.waitbus_argv(state_dir, "prune", "--keep-rows", "0", "--json"),
            stdout=asyncio.subprocess.PIPE)
        out, _ = await pruned.communicate()
        report = json.loads(out)
        while len(seen) < 1500:  # now read everything: nothing may be missing
            async with asyncio.timeout(30):
                data = await reader.read(1 << 20)
            assert data, "the daemon closed the subscription"
            for obj in decoder.feed(data):
                reply = wire.parse_reply(obj)
                assert not isinstance(reply, wire.Pruned)
                if isinstance(reply, wire.EventFrame):
                    seen.append(reply.event.cursor)
        writer.close()
        return seen, report

    seen, report = asyncio.run(scenario())
    assert seen == list(range(1, 1501))
    assert report["via"] == "daemon"
    held = report["held_back_at"]
    assert isinstance(held, int)
    assert 10 <= held < 1500
    assert report["through"] == held
