"""The docker source against a real engine: container ends become events, one each."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess, run_cli, start_wait
from waitbus.demo import processes
from waitbus.event import Conclusion, Draft, Event, JSONObject
from waitbus.paths import resolve
from waitbus.sources.docker_events import DEFAULT_SOCKET, ContainerEnds, DockerEvents
from waitbus.store.store import Store

IMAGE = "waitbus-busybox:test"
START_HINT = (
    "these tests need a running Docker engine and the local image {image}: as root, run "
    "`bash -c 'APT_PACKAGES=(); STARTERS=(); CLEANUP=(); source .ci/setup.d/40-docker.sh; "
    "start_docker'` (it starts dockerd and imports the image)"
)


@pytest.fixture(scope="module")
def engine() -> Path:
    """The engine's socket; fails (never skips) when Docker is not there."""
    try:
        probe = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True,
                               text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"docker CLI unusable ({exc}); " + START_HINT.format(image=IMAGE))
    if probe.returncode != 0:
        pytest.fail(f"docker said: {probe.stderr.strip()}; " + START_HINT.format(image=IMAGE))
    return DEFAULT_SOCKET


@pytest.fixture
def docker_daemon(state_dir: Path, engine: Path) -> Iterator[DaemonProcess]:
    running = DaemonProcess(state_dir, extra_args=("--docker", str(engine))).start()
    try:
        yield running
    finally:
        running.stop()


def container_name() -> str:
    return f"wb-test-{uuid.uuid4().hex[:10]}"


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def test_container_exiting_3_wakes_wait_with_exit_1_and_its_fields(
        docker_daemon: DaemonProcess) -> None:
    name = container_name()
    waiter = start_wait(docker_daemon.state_dir, "--source", "docker",
                        "--match", f'subject="{name}"', "--json")
    ran = docker("run", "--rm", "--name", name, IMAGE, "sh", "-c", "exit 3")
    assert ran.returncode == 3, ran.stderr
    out, _ = waiter.communicate(timeout=20)
    assert waiter.returncode == 1
    event = json.loads(out)
    assert event["conclusion"] == "failure"
    assert event["type"] == "container.exit"
    fields = event["fields"]
    assert (fields["name"], fields["image"], fields["exit_code"], fields["action"]) == (
        name, IMAGE, 3, "die")
    assert len(fields["id"]) == 64


def test_container_exiting_0_wakes_wait_with_exit_0(docker_daemon: DaemonProcess) -> None:
    name = container_name()
    waiter = start_wait(docker_daemon.state_dir, "--source", "docker",
                        "--match", f'subject="{name}"')
    assert docker("run", "--rm", "--name", name, IMAGE, "true").returncode == 0
    waiter.communicate(timeout=20)
    assert waiter.returncode == 0


def test_docker_stop_is_one_cancelled_event(docker_daemon: DaemonProcess) -> None:
    name, sentinel = container_name(), container_name()
    assert docker("run", "-d", "--name", name, IMAGE, "sleep", "300").returncode == 0
    try:
        waiter = start_wait(docker_daemon.state_dir, "--source", "docker",
                            "--match", f'subject="{sentinel}"')
        # `-t 0`: SIGTERM, then SIGKILL at once (sleep as PID 1 ignores SIGTERM).
        assert docker("stop", "-t", "0", name).returncode == 0
        # The engine's stream is ordered: once the later sentinel's end is in, everything the
        # stop produced (kill, kill, die, stop) has been through the source.
        assert docker("run", "--rm", "--name", sentinel, IMAGE, "true").returncode == 0
        waiter.communicate(timeout=20)
        assert waiter.returncode == 0
    finally:
        docker("rm", "-f", name)
    tail = run_cli(docker_daemon.state_dir, "tail", "--source", "docker", "-n", "50", "--json")
    ends = [e for e in map(json.loads, tail.stdout.splitlines()) if e["subject"] == name]
    assert len(ends) == 1
    assert ends[0]["conclusion"] == "cancelled"
    assert ends[0]["fields"]["action"] == "kill"
    assert ends[0]["fields"]["exit_code"] == 137


def test_stop_sequence_makes_one_cancelled_draft_without_an_engine() -> None:
    """The engine's own order for `docker stop`, fed as recorded: kill, kill, die, stop."""
    ends = ContainerEnds()
    cid = "c" * 64
    verdicts = [ends.feed(message(cid, action, n, attrs)) for n, (action, attrs) in enumerate([
        ("start", {}), ("kill", {"signal": "15"}), ("kill", {"signal": "9"}),
        ("die", {"exitCode": "137"}), ("stop", {}), ("destroy", {}),
    ], start=1)]
    made = [d for d in verdicts if d is not None]
    assert len(made) == 1
    assert made[0].conclusion is Conclusion.CANCELLED


def test_reload_signal_does_not_make_a_later_exit_cancelled() -> None:
    ends = ContainerEnds()
    cid = "d" * 64
    assert ends.feed(message(cid, "kill", 1, {"signal": "1"})) is None
    made = ends.feed(message(cid, "die", 2, {"exitCode": "2"}))
    assert made is not None
    assert made.conclusion is Conclusion.FAILURE


def test_replayed_die_after_reconnect_is_not_emitted_twice() -> None:
    ends = ContainerEnds()
    die = message("e" * 64, "die", 5, {"exitCode": "0"})
    assert ends.feed(die) is not None
    assert ends.since() == "0.000000005"
    assert ends.feed(die) is None


def message(cid: str, action: str, when_ns: int, attrs: dict[str, str]) -> JSONObject:
    return {"Type": "container", "Action": action, "id": cid, "timeNano": when_ns,
            "Actor": {"ID": cid, "Attributes": {"name": "n", "image": IMAGE, **attrs}}}


class StoreSink:
    """A real store behind the Sink protocol, announcing each commit to the test."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.changed = asyncio.Event()
        self.results: list[tuple[Event, bool]] = []

    def report(self, source: str, problem: str | None) -> None:
        pass  # this test is about events; a source's health is tested on a real daemon

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        return self.append(draft)

    def append(self, draft: Draft) -> tuple[Event, bool]:
        result = self.store.append(draft)
        self.results.append(result)
        self.changed.set()
        return result

    async def wait_for(self, subject: str) -> Event:
        async with asyncio.timeout(20):
            while True:
                for event, _new in self.results:
                    if event.subject == subject:
                        return event
                self.changed.clear()
                await self.changed.wait()


class CuttableRelay:
    """A real unix-socket relay to the engine that the test can cut, like an engine going away."""

    def __init__(self, path: Path, engine: Path) -> None:
        self.path, self.engine = path, engine
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self.server = await asyncio.start_unix_server(self._relay, path=self.path)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()
        self.path.unlink(missing_ok=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.engine)
        self.writers += [writer, up_writer]
        async with asyncio.TaskGroup() as group:
            group.create_task(_pump(reader, up_writer))
            group.create_task(_pump(up_reader, writer))


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


async def run_container(name: str, code: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        "docker", "run", "--rm", "--name", name, IMAGE, "sh", "-c", f"exit {code}",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await proc.wait() == code


def test_lost_engine_connection_resumes_with_since_and_no_duplicates(
        state_dir: Path, engine: Path) -> None:
    """Cut the stream, end a container while disconnected, reconnect: each end stored once."""
    store = Store(resolve(state_dir).ensure())
    try:
        names = asyncio.run(_resume_scenario(state_dir, engine, store))
        # Other tests may run containers on the same engine at the same time: count ours.
        subjects = [e.subject for e in store.read_after(0) if e.subject in names]
    finally:
        store.close()
    assert sorted(subjects) == sorted(names)


async def _resume_scenario(state_dir: Path, engine: Path, store: Store) -> tuple[str, str]:
    relay = CuttableRelay(state_dir / "engine.sock", engine)
    await relay.open()
    before_ns = time.time_ns()
    source = DockerEvents(relay.path, max_backoff_s=0.2)
    sink = StoreSink(store)
    task = asyncio.create_task(source.run(sink))
    try:
        first, second = container_name(), container_name()
        await run_container(first, 3)
        await sink.wait_for(first)
        await relay.cut()
        await run_container(second, 0)  # ends while the source cannot reach the engine
        await relay.open()
        await sink.wait_for(second)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await relay.cut()
    # A fresh source that replays everything since before both (a restarted daemon would)
    # commits nothing new: delivery ids are the container id and the engine's timeNano.
    replay = DockerEvents(engine)
    replay.ends.last_ns = before_ns
    async with asyncio.timeout(20), contextlib.aclosing(replay.follow()) as messages:
        async for msg in messages:
            made = replay.ends.feed(msg)
            if made is not None:
                assert store.append(made)[1] is False
                if made.subject == second:
                    break
    return first, second


class PrivateEngine:
    """A second dockerd with its own socket, data and exec roots, which the test may restart.

    It runs in its own network namespace: with `--bridge=none` dockerd deletes any `docker0` it
    sees, which must not be the shared engine's.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "d.sock"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        argv = ["unshare", "--net", "dockerd", "--host", f"unix://{self.socket}",
                "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "d.pid"), "--bridge=none", "--iptables=false"]
        self.proc = processes.start(argv, ready="API listen on", stream="stderr", timeout_s=60)
        # dockerd keeps logging; a pipe nobody reads would fill up and block it.
        threading.Thread(target=_drain, args=(self.proc,), daemon=True).start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            processes.stop(self.proc, timeout_s=60)
        # dockerd makes its data root a private bind mount of itself and leaves it behind.
        subprocess.run(["umount", str(self.root / "data")], capture_output=True, check=False)

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return docker("-H", f"unix://{self.socket}", *args)


def _drain(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for _line in proc.stderr or ():
            pass


@pytest.fixture
def private_engine(engine: Path) -> Iterator[PrivateEngine]:
    private = PrivateEngine(Path(tempfile.mkdtemp(prefix="wbe-")))
    try:
        private.start()
        saved = subprocess.run(["docker", "save", IMAGE], capture_output=True, check=True,
                               timeout=60).stdout
        subprocess.run(["docker", "-H", f"unix://{private.socket}", "load", "-q"], input=saved,
                       capture_output=True, check=True, timeout=60)
        yield private
    finally:
        private.stop()
        shutil.rmtree(private.root, ignore_errors=True)


def test_engine_restart_is_followed_and_each_end_is_one_event(
        state_dir: Path, private_engine: PrivateEngine) -> None:
    """A container killed by the engine's shutdown, then one run on the restarted engine."""
    daemon = DaemonProcess(state_dir, extra_args=("--docker", str(private_engine.socket))).start()
    try:
        longrun, after = container_name(), container_name()
        waiter = start_wait(state_dir, "--source", "docker", "--match", f'subject="{longrun}"')
        ran = private_engine.docker("run", "-d", "--stop-timeout", "1", "--name", longrun,
                                    IMAGE, "sleep", "300")
        assert ran.returncode == 0, ran.stderr
        private_engine.stop()  # stops its containers: longrun ends, cancelled
        waiter.communicate(timeout=30)
        assert waiter.returncode == 1
        private_engine.start()
        waiter = start_wait(state_dir, "--source", "docker", "--match", f'subject="{after}"')
        assert private_engine.docker("run", "--rm", "--name", after, IMAGE, "true").returncode == 0
        waiter.communicate(timeout=30)  # bounded by the source's reconnect backoff (5 s at most)
        assert waiter.returncode == 0
        tail = run_cli(state_dir, "tail", "--source", "docker", "-n", "50", "--json")
        ends = [(e["subject"], e["conclusion"]) for e in map(json.loads, tail.stdout.splitlines())]
        assert ends == [(longrun, "cancelled"), (after, "success")]
    finally:
        daemon.stop()
        private_engine.docker("rm", "-f", longrun)
