"""What a scenario runs against: the waitbus daemon, or a peer broker, behind one interface."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from benchmarks import peers
from benchmarks.children import spawn, worker
from benchmarks.workers import READY, SUBJECT
from waitbus.demo import processes
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter
from waitbus.store.store import Store


class Target(Protocol):
    """A bus a scenario can publish to and subscribe on."""

    name: str

    def pid(self) -> int: ...
    def worker_args(self) -> list[str]: ...
    def send(self, seq: int) -> None: ...
    def stop_subscribers(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class WaitbusTarget:
    """A real `waitbus serve` over a fresh temporary state directory; sends are durable emits."""

    name: str = "waitbus"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wb-bench-")))
    proc: subprocess.Popen[str] | None = None

    def __post_init__(self) -> None:
        self.state_dir = self.root / "s"
        self.paths = resolve(self.state_dir)
        self.proc = spawn(processes.waitbus_argv(self.state_dir, "serve"), ready="serving",
                          stream="stdout")

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_args(self) -> list[str]:
        return ["--state-dir", str(self.state_dir)]

    def send(self, seq: int) -> None:
        emitter.append(self.paths, emitter.draft("bench", "tick", fields={"seq": seq}))

    def stop_subscribers(self) -> None:
        emitter.append(self.paths, emitter.draft("bench", "stop"))

    def count(self) -> int:
        with _reader(self.paths) as store:
            return store.count()

    def wait_argv(self, seq: int) -> tuple[list[str], str]:
        argv = processes.waitbus_argv(self.state_dir, "-v", "wait", "--source", "bench",
                                      "--match", f"fields.seq={seq}", "--timeout", "60s")
        return argv, "live at cursor"

    def close(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PeerTarget:
    """redis-server pub/sub or core NATS on loopback: in-memory, nothing is stored."""

    name: str
    server: peers.Server | None = None

    def __post_init__(self) -> None:
        self.server = peers.start_redis() if self.name == "redis" else peers.start_nats()
        self.client: peers.RedisClient | peers.NatsClient
        if self.name == "redis":
            self.client = peers.RedisClient(self.server.port)
        else:
            self.client = peers.NatsClient(self.server.port)

    def pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    def worker_args(self) -> list[str]:
        assert self.server is not None
        return ["--port", str(self.server.port)]

    def send(self, seq: int) -> None:
        self.client.publish(SUBJECT, b"%d" % seq)

    def stop_subscribers(self) -> None:
        self.client.publish(SUBJECT, b"stop")
        if isinstance(self.client, peers.NatsClient):
            self.client.flush()

    def wait_argv(self, seq: int) -> tuple[list[str], str]:
        del seq  # a peer waiter exits on any message; only one is live at a time
        return worker("wait", self.name, *self.worker_args()), READY[self.name]

    def close(self) -> None:
        self.client.close()
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass
class InotifyTarget:
    """The kernel's file notifier through `inotifywait`: a file created in a watched folder."""

    name: str = "inotifywait"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wb-inotify-")))
    sent: int = 0

    def __post_init__(self) -> None:
        if shutil.which("inotifywait") is None:
            msg = "inotifywait is not installed; install inotify-tools"
            raise RuntimeError(msg)

    def send(self, seq: int) -> None:
        # A fresh name each time: creating a file that exists already is no create event.
        self.sent += 1
        fd = os.open(self.root / f"{seq}-{self.sent}", os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)

    def wait_argv(self, seq: int) -> tuple[list[str], str]:
        del seq
        return ["inotifywait", "-e", "create", str(self.root)], "Watches established"

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def open_target(name: str) -> WaitbusTarget | PeerTarget:
    return WaitbusTarget() if name == "waitbus" else PeerTarget(name)


def _reader(paths: StatePaths) -> Store:
    """A read-only store; commits from before the reader mode (--snapshot) take create=False."""
    try:
        return Store(paths, read_only=True)
    except TypeError:
        return Store(paths, create=False)  # type: ignore[call-arg]
