"""The peers: redis-server and nats-server on loopback, and tiny stdlib clients for both."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass

from benchmarks.children import spawn
from waitbus.demo import processes


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A peer broker process we started; stopped by its PID."""

    name: str
    port: int
    proc: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        processes.stop(self.proc)


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        msg = f"{tool} is not installed; install the Debian package (see .ci/setup.d/50-bench.sh)"
        raise RuntimeError(msg)
    return path


def start_redis() -> Server:
    """redis-server on 127.0.0.1 with persistence off: pub/sub only, as a user would run it."""
    port = free_port()
    argv = [_require("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
    proc = spawn(argv, ready="Ready to accept connections", stream="stdout")
    return Server("redis", port, proc)


def start_nats() -> Server:
    """Core NATS (no JetStream) on 127.0.0.1."""
    port = free_port()
    argv = [_require("nats-server"), "-a", "127.0.0.1", "-p", str(port)]
    proc = spawn(argv, ready="Server is ready", stream="stderr")
    return Server("nats", port, proc)


class RedisClient:
    """RESP over one TCP connection: PUBLISH, or SUBSCRIBE and read messages."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def _send(self, *parts: bytes) -> None:
        out = [b"*%d\r\n" % len(parts)]
        for part in parts:
            out.append(b"$%d\r\n%s\r\n" % (len(part), part))
        self.sock.sendall(b"".join(out))

    def _reply(self) -> object:
        text = self.file.readline()
        kind, rest = text[:1], text[1:-2]
        if kind in (b"+", b"-"):
            return rest
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.file.read(size + 2)[:-2]
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        msg = f"unexpected reply from redis: {text!r}"
        raise ConnectionError(msg)

    def publish(self, channel: bytes, data: bytes) -> None:
        self._send(b"PUBLISH", channel, data)
        self._reply()

    def subscribe(self, channel: bytes) -> None:
        self._send(b"SUBSCRIBE", channel)
        self._reply()  # the subscribe confirmation: from here on, messages arrive

    def message(self) -> bytes:
        while True:
            reply = self._reply()
            if isinstance(reply, list) and reply[0] == b"message":
                data = reply[2]
                assert isinstance(data, bytes)
                return data


class NatsClient:
    """The core NATS text protocol: PUB, or SUB and read MSG lines."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")
        self.file.readline()  # INFO {...}
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        self.flush()

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def flush(self) -> None:
        """Round trip with PING/PONG: everything sent before is processed by the server."""
        self.sock.sendall(b"PING\r\n")
        while self.file.readline() != b"PONG\r\n":
            pass

    def publish(self, subject: bytes, data: bytes) -> None:
        self.sock.sendall(b"PUB %s %d\r\n%s\r\n" % (subject, len(data), data))

    def subscribe(self, subject: bytes) -> None:
        self.sock.sendall(b"SUB %s 1\r\n" % subject)
        self.flush()

    def message(self) -> bytes:
        while True:
            text = self.file.readline()
            if text.startswith(b"MSG "):
                size = int(text.split()[-1])
                return self.file.read(size + 2)[:-2]
            if text == b"PING\r\n":
                self.sock.sendall(b"PONG\r\n")
            elif not text:
                msg = "nats-server closed the connection"
                raise ConnectionError(msg)
