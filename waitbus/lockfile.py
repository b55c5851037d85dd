"""Exclusive lock files: one daemon and one bridge per state directory, released on exit."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from waitbus.errors import UsageError

# The PID of a holder that has not written it yet (between taking the lock and writing).
UNKNOWN_PID = -1


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
        pid = holder_pid(path)
        who = f" (pid {pid})" if pid not in (None, UNKNOWN_PID) else ""
        how = ("with `waitbus stop` (or `systemctl --user stop waitbus` when the service runs "
               "it)") if holder == "daemon" else "first"
        msg = f"another waitbus {holder}{who} already serves {path.parent}; stop it {how}"
        raise UsageError(msg)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def holder_pid(path: Path) -> int | None:
    """The PID of the process holding the lock at `path`, UNKNOWN_PID, or None when nobody does.

    flock locks belong to the open file, so probing from the holder's own process is safe.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isascii() and text.isdigit() else UNKNOWN_PID
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def wait_released(path: Path, timeout_s: float) -> bool:
    """Block until nobody holds the lock at `path` (True), or `timeout_s` passes (False)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    released = threading.Event()

    def take_shared() -> None:
        # A blocking flock wakes the moment the holder's exit drops the lock; no polling.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_SH)
            released.set()

    threading.Thread(target=take_shared, daemon=True).start()
    if not released.wait(timeout_s):
        return False  # the thread stays blocked on fd; it ends with this short-lived process
    os.close(fd)
    return True

