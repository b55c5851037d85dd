"""Read a named secret: systemd's credentials directory first, else a private file in state."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.paths import StatePaths

GITHUB_WEBHOOK = "github-webhook"
ALERTMANAGER_TOKEN = "alertmanager-token"  # noqa: S105 (a name, not a value)
NATS_CREDS = "nats-creds"
NATS_NKEY = "nats-nkey"
CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"
# The suffix of a secret stored encrypted by systemd-creds; only systemd can open it.
ENCRYPTED_SUFFIX = ".cred"
MAX_SECRET_BYTES = 64 * 1024
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class SecretError(UsageError):
    """A secret exists but cannot be used safely as it is."""


def check_name(name: str) -> str:
    """Secret names are short lowercase words usable as file and credential names."""
    if not is_secret_name(name):
        msg = (f"secret name {name!r} is not allowed; use lowercase letters, digits, '.', '_' "
               f"and '-' (e.g. {GITHUB_WEBHOOK})")
        raise UsageError(msg)
    return name


def is_secret_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and not name.endswith(ENCRYPTED_SUFFIX)


def read_secret(name: str, paths: StatePaths) -> bytes | None:
    """The secret's bytes from $CREDENTIALS_DIRECTORY/NAME, else <state>/secrets/NAME, else None.

    Trailing line breaks are not part of a secret: `echo` and editors add one, and Alertmanager
    trims its own credentials_file the same way.

    Raises:
        SecretError: the state file is readable by group or others, is not yours, is over
            MAX_SECRET_BYTES, or is only stored encrypted (which systemd alone can decrypt).
    """
    check_name(name)
    creds = os.environ.get(CREDENTIALS_DIRECTORY_ENV)
    if creds:
        found = _read_private(Path(creds) / name, trusted_dir=True)
        if found is not None:
            return found.rstrip(b"\r\n")
    found = _read_private(paths.secrets / name, trusted_dir=False)
    if found is not None:
        return found.rstrip(b"\r\n")
    if found is None and (paths.secrets / (name + ENCRYPTED_SUFFIX)).exists():
        msg = (f"secret {name} is stored encrypted in {paths.secrets}; only the systemd unit "
               "can read it (start the daemon with `systemctl --user start waitbus`)")
        raise SecretError(msg)
    return found


def read_private_file(path: Path) -> bytes:
    """A secret named by a flag (`--creds FILE`): a regular file you own that only you can read.

    Raises:
        SecretError: the file is missing, or readable by group or others, or not yours.
    """
    found = _read_private(path, trusted_dir=False)
    if found is None:
        msg = f"no secret file at {path}; fix the path"
        raise SecretError(msg)
    return found


def _read_private(path: Path, *, trusted_dir: bool) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        msg = f"cannot open secret {path}: {exc.strerror}; it must be a regular file you own"
        raise SecretError(msg) from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        # systemd owns and sets the mode of its credentials directory; the state copy is ours.
        if not trusted_dir:
            _check_private(path, info)
        data = handle.read(MAX_SECRET_BYTES + 1)
    if len(data) > MAX_SECRET_BYTES:
        msg = (f"secret {path} is over the {MAX_SECRET_BYTES}-byte limit; refusing it rather "
               "than using a truncated copy: store a shorter one with `waitbus secret set`")
        raise SecretError(msg)
    return data


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        msg = f"secret {path} is not a regular file; store it with `waitbus secret set`"
        raise SecretError(msg)
    if info.st_uid != os.getuid():
        msg = f"secret {path} belongs to uid {info.st_uid}, not to you; remove it and set it again"
        raise SecretError(msg)
    if stat.S_IMODE(info.st_mode) & 0o077:
        msg = (f"secret {path} is readable by group or others (mode "
               f"{stat.S_IMODE(info.st_mode):04o}); refusing it: run `chmod 600 {path}` or set "
               "it again with `waitbus secret set`")
        raise SecretError(msg)
