"""systemd-creds: which storage a user unit supports here, and encrypting through the tool."""

from __future__ import annotations

import enum
import re
import shutil
import subprocess
from pathlib import Path

from waitbus.errors import UsageError

# `systemd-creds --user` and LoadCredentialEncrypted= in user units arrived in systemd 256.
USER_ENCRYPTED_MIN_VERSION = 256
TIMEOUT_S = 30.0


class Storage(enum.StrEnum):
    ENCRYPTED = "encrypted"  # systemd-creds encrypt, loaded with LoadCredentialEncrypted=
    FILE = "file"  # a 0600 file in <state>/secrets, loaded with LoadCredential=


def systemd_version() -> int | None:
    """The running systemd's major version, or None where there is no systemd-creds."""
    tool = shutil.which("systemd-creds")
    if tool is None:
        return None
    done = subprocess.run([tool, "--version"], capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    found = re.match(r"systemd (\d+)", done.stdout)
    return int(found.group(1)) if found else None


def storage_for_user_unit(version: int | None) -> Storage:
    """Encrypted where systemd can decrypt for a user unit (>= 256), else a private file."""
    if version is not None and version >= USER_ENCRYPTED_MIN_VERSION:
        return Storage.ENCRYPTED
    return Storage.FILE


def encrypt(name: str, value: bytes, out: Path, *, user: bool, key: str | None = None) -> None:
    """Encrypt `value` as credential `name` into `out` (value goes through stdin, never argv)."""
    argv = [_tool(), *(["--user"] if user else []), "encrypt", f"--name={name}",
            *([f"--with-key={key}"] if key else []), "-", str(out)]
    _run(argv, value, f"encrypt secret {name}")


def _tool() -> str:
    tool = shutil.which("systemd-creds")
    if tool is None:
        msg = "systemd-creds is not installed; store the secret as a file with --storage file"
        raise UsageError(msg)
    return tool


def _run(argv: list[str], stdin: bytes, what: str) -> bytes:
    done = subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        msg = f"systemd-creds could not {what}: {reason[-1] if reason else done.returncode}"
        raise UsageError(msg)
    return done.stdout
