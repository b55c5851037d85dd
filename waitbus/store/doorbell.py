"""The doorbell: one datagram that tells the daemon the store has new rows."""

from __future__ import annotations

# The C module under `socket`: a writer needs only a datagram socket, and `socket` builds its
# enums of every address family and option at import (about 1.5 ms of each `waitbus emit`).
import _socket
import os

from waitbus.paths import clear_socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from pathlib import Path


class Doorbell:
    """The writer's side: ring after every commit. A ring nobody hears is harmless."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock: _socket.socket | None = None
        self._pid = -1

    def ring(self) -> bool:
        """Send one byte; True when a daemon's doorbell took it.

        The row is already committed, so a lost ring only delays delivery until the next one.
        """
        sock = self._open()
        try:
            sock.sendto(b".", os.fspath(self.path))
        except BlockingIOError:
            return True  # the daemon's queue is full of rings it has not read: it will wake
        except OSError:
            return False  # no daemon (ENOENT, ECONNREFUSED): it reads the store when it starts
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _open(self) -> _socket.socket:
        if self._sock is None or self._pid != os.getpid():
            self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
            self._sock.setblocking(False)
            self._pid = os.getpid()
        return self._sock


def bind(path: Path) -> socket.socket:
    """The daemon's side: a non-blocking datagram socket at `path`, mode 0600."""
    import socket

    clear_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    old = os.umask(0o177)
    try:
        sock.bind(os.fspath(path))
    finally:
        os.umask(old)
    sock.setblocking(False)
    return sock


def drain(sock: socket.socket) -> int:
    """Read every pending ring; many rings become one wake-up."""
    count = 0
    while True:
        try:
            sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return count
        count += 1
