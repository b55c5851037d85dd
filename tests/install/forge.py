"""Forge a wheel: a real one with some members replaced and its RECORD rewritten to match."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from pathlib import Path


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def forge(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    """Copy `source` to `target` with `replace`'s members swapped in and a consistent RECORD.

    This is what an attacker who can write the wheel's path would build: a wheel whose own
    RECORD vouches for the attacker's files.
    """
    with zipfile.ZipFile(source) as original:
        members = {name: original.read(name) for name in original.namelist()}
    members.update(replace)
    record_name = next(n for n in members if n.endswith(".dist-info/RECORD"))
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for name, data in members.items():
        if name != record_name:
            writer.writerow([name, record_hash(data), str(len(data))])
    writer.writerow([record_name, "", ""])
    members[record_name] = rows.getvalue().encode()
    with zipfile.ZipFile(target, "w") as forged:
        for name, data in members.items():
            forged.writestr(name, data)
    return target


def unpack(wheel: Path, root: Path) -> Path:
    """Unpack `wheel` as an installer would, into a directory nothing imports."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    return root
