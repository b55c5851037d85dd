"""Exclusive lock files: one daemon and one bridge per state directory, released on exit."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from waitbus.errors import UsageError


def try_take(path: Path) -> int | None:
    """A descriptor holding an exclusive lock on `path`, or None while another process holds it.

    The lock lives as long as the descriptor: closing it, or the process ending in any way,
    releases it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def take(path: Path, holder: str) -> int:
    """Lock `path` for this process (writing its pid in it), or refuse: another `holder` has it."""
    fd = try_take(path)
    if fd is None:
        msg = f"another waitbus {holder} already serves {path.parent}; stop it first"
        raise UsageError(msg)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
