"""Write unit files and record exactly what was written, so uninstall removes exactly that."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.install.units import Planned
from waitbus.paths import StatePaths


@dataclass(frozen=True, slots=True)
class Removal:
    removed: list[Path]
    # Files that changed since install (left alone) or were already gone.
    kept: list[Path]
    missing: list[Path]


def manifest_path(paths: StatePaths, kind: str) -> Path:
    return paths.root / "install" / f"{kind}.json"


def write(paths: StatePaths, kind: str, planned: list[Planned]) -> Path:
    """Write the files (atomically, 0644), then the manifest listing them with their sha256."""
    record = manifest_path(paths, kind)
    previous = {Path(f["path"]) for f in _load(record)} if record.exists() else set()
    for item in planned:
        if not item.path.exists() or item.path in previous:
            continue
        if item.path.read_bytes() != item.content:
            msg = (f"{item.path} exists and was not written by waitbus; move it away or remove "
                   "it, then install again")
            raise UsageError(msg)
    for item in planned:
        _write_atomic(item.path, item.content, 0o644)
    files = [{"path": str(p.path), "sha256": hashlib.sha256(p.content).hexdigest()}
             for p in planned]
    _write_atomic(record, json.dumps({"kind": kind, "files": files}, indent=2).encode(), 0o600)
    return record


def recorded(paths: StatePaths, kind: str) -> list[Path]:
    """The files the last install wrote."""
    return [Path(f["path"]) for f in _load(_existing(paths, kind))]


def remove(paths: StatePaths, kind: str) -> Removal:
    """Remove each recorded file whose bytes are still the ones written, then the manifest."""
    record = _existing(paths, kind)
    removed, kept, missing = [], [], []
    for entry in _load(record):
        path = Path(entry["path"])
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            missing.append(path)
            continue
        if current != entry["sha256"]:
            kept.append(path)
            continue
        path.unlink()
        removed.append(path)
    if not kept:
        record.unlink()
    return Removal(removed, kept, missing)


def _existing(paths: StatePaths, kind: str) -> Path:
    record = manifest_path(paths, kind)
    if not record.exists():
        msg = f"nothing to uninstall: no install manifest at {record}"
        raise UsageError(msg)
    return record


def _load(record: Path) -> list[dict[str, str]]:
    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
        return [{"path": str(f["path"]), "sha256": str(f["sha256"])} for f in doc["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"install manifest {record} is unreadable ({exc}); remove the listed files by hand"
        raise UsageError(msg) from exc


def _write_atomic(path: Path, content: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
