"""Where waitbus keeps its state: one private directory per user."""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.record import record

# sun_path is 108 bytes on Linux and 104 on macOS, including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 103


@record
class StatePaths:
    """The files inside one state directory."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / "events.db"

    @property
    def store_lock(self) -> Path:
        return self.root / "events.lock"

    @property
    def socket(self) -> Path:
        return self.root / "bus.sock"

    @property
    def doorbell(self) -> Path:
        return self.root / "doorbell.sock"

    @property
    def daemon_lock(self) -> Path:
        return self.root / "daemon.lock"

    @property
    def bridge_lock(self) -> Path:
        """Held by a running `waitbus bridge`; free when none runs."""
        return self.root / "bridge.lock"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    def ensure(self) -> StatePaths:
        """Create the directory (and missing parents) with mode 0700, tightening a wider one.

        Raises:
            UsageError: the path cannot be a private state directory: it is a symbolic link,
                not a directory, another user's, or cannot be created.
        """
        try:
            _make_private_dirs(self.root)
        except OSError as exc:
            raise UsageError(_unusable(self.root, exc)) from None
        self._check_private()
        for sock in (self.socket, self.doorbell):
            if len(os.fsencode(sock)) > MAX_SOCKET_PATH_BYTES:
                msg = (
                    f"socket path {sock} is longer than the kernel allows "
                    f"({MAX_SOCKET_PATH_BYTES} bytes); set WAITBUS_STATE_DIR to a shorter path"
                )
                raise UsageError(msg)
        return self

    def check(self) -> StatePaths:
        """Before trusting anything in the directory (a client's store read, the daemon's
        socket): it must be yours and private (a wider mode is narrowed), if it exists.

        Raises:
            UsageError: it is another user's, a symbolic link, or not a directory.
        """
        if os.path.lexists(self.root):
            self._check_private()
        return self

    def _check_private(self) -> None:
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise UsageError(_unusable(self.root, exc)) from None
        try:
            info = os.fstat(fd)
            if info.st_uid != os.getuid():
                msg = (
                    f"state directory {self.root} belongs to uid {info.st_uid}, not to you "
                    f"(uid {os.getuid()}): nothing in it is trusted (another user may have "
                    "created it first); choose another with --state-dir or WAITBUS_STATE_DIR"
                )
                raise UsageError(msg)
            if stat.S_IMODE(info.st_mode) & 0o077:
                os.fchmod(fd, 0o700)
        finally:
            os.close(fd)


def clear_socket(path: Path) -> None:
    """Remove a stale socket at `path` before binding; refuse to remove anything else."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        msg = (f"{path} is not a socket (something else is in its place); move it away so "
               "the daemon can bind its socket there")
        raise UsageError(msg)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _make_private_dirs(root: Path) -> None:
    """mkdir -p with mode 0700 for every directory it creates."""
    missing: list[Path] = []
    at = root
    while not os.path.lexists(at) and at != at.parent:
        missing.append(at)
        at = at.parent
    # A umask only removes bits, so 0700 stays at most 0700 whatever it is (even 000).
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            path.mkdir(mode=0o700)


def _unusable(root: Path, exc: OSError) -> str:
    if os.path.islink(root):
        return (f"state directory {root} is a symbolic link (to {os.readlink(root)}); "
                "give the directory itself with --state-dir or WAITBUS_STATE_DIR")
    if os.path.lexists(root) and not os.path.isdir(root):
        return (f"state directory {root} exists and is not a directory; remove it or choose "
                "another with --state-dir or WAITBUS_STATE_DIR")
    return (f"cannot use {root} as the state directory: {exc.strerror or exc}; choose another "
            "with --state-dir or WAITBUS_STATE_DIR")


def default_root() -> Path:
    """WAITBUS_STATE_DIR, else $XDG_STATE_HOME/waitbus, else ~/.local/state/waitbus."""
    explicit = os.environ.get("WAITBUS_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "waitbus"


def resolve(root: Path | str | None = None) -> StatePaths:
    """The state paths for `root`, or for the default directory."""
    return StatePaths(Path(root) if root is not None else default_root())


def of_state_dir(state_dir: str | os.PathLike[str] | None) -> StatePaths:
    """The API's `state_dir=` argument as paths; an explicit directory is resolved once."""
    if state_dir is None:
        return resolve()  # the environment may change between calls; do not cache it
    return _explicit(os.fspath(state_dir))


@functools.lru_cache(maxsize=16)
def _explicit(state_dir: str) -> StatePaths:
    # Path parsing was a sixth of a hot emit loop's time.
    return resolve(Path(state_dir))
