"""Store a secret under <state>/secrets: systemd-creds encrypted where possible, else 0600."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.install import creds
from waitbus.install.creds import Storage
from waitbus.paths import StatePaths
from waitbus.secrets import ENCRYPTED_SUFFIX, MAX_SECRET_BYTES, check_name


@dataclass(frozen=True, slots=True)
class Stored:
    path: Path
    storage: Storage


def store(paths: StatePaths, name: str, value: bytes, storage: Storage | None = None) -> Stored:
    """Store `value` as secret `name`; `storage` None picks what this systemd supports."""
    check_name(name)
    if len(value) > MAX_SECRET_BYTES:
        msg = (f"secret {name} is {len(value)} bytes, over the {MAX_SECRET_BYTES}-byte limit; "
               "nothing was stored")
        raise UsageError(msg)
    version = creds.systemd_version()
    chosen = storage or creds.storage_for_user_unit(version)
    if chosen is Storage.ENCRYPTED and creds.storage_for_user_unit(version) is Storage.FILE:
        msg = (f"systemd {version or '(absent)'} cannot decrypt credentials for a user unit "
               f"(that needs systemd >= {creds.USER_ENCRYPTED_MIN_VERSION}); use --storage file")
        raise UsageError(msg)
    paths.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.secrets.chmod(0o700)
    plain, encrypted = paths.secrets / name, paths.secrets / (name + ENCRYPTED_SUFFIX)
    if chosen is Storage.ENCRYPTED:
        creds.encrypt(name, value, encrypted, user=True)
        encrypted.chmod(0o600)
        plain.unlink(missing_ok=True)
        return Stored(encrypted, chosen)
    tmp = paths.secrets / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    os.replace(tmp, plain)
    encrypted.unlink(missing_ok=True)
    return Stored(plain, chosen)
