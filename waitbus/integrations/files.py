"""Client configuration files: read strictly, change little, write atomically."""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.event import JSONObject


@dataclass(frozen=True, slots=True)
class Change:
    """One file's content before (None: absent) and after a change."""

    path: Path
    before: str | None
    after: str | None

    def diff(self) -> str:
        old = [] if self.before is None else self.before.splitlines(keepends=True)
        new = [] if self.after is None else self.after.splitlines(keepends=True)
        label = str(self.path)
        return "".join(difflib.unified_diff(old, new, f"{label} (now)", f"{label} (after)"))


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read {path} ({exc}); nothing was changed"
        raise UsageError(msg) from exc


def load_json(path: Path, text: str | None) -> JSONObject:
    """The JSON object in `text` (empty when absent); anything else is a clear error."""
    if text is None or not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        msg = (f"{path} is not valid JSON ({exc}); fix or move it, then run this again "
               "(nothing was changed)")
        raise UsageError(msg) from None
    if not isinstance(doc, dict):
        msg = f"{path} holds a JSON {type(doc).__name__}, not an object; nothing was changed"
        raise UsageError(msg)
    return doc


def dump_json(doc: JSONObject) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load_toml(path: Path, text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = (f"{path} is not valid TOML ({exc}); fix or move it, then run this again "
               "(nothing was changed)")
        raise UsageError(msg) from None


def toml_array(words: list[str]) -> str:
    """A TOML array of basic strings (JSON string escapes are valid TOML ones)."""
    return "[" + ", ".join(json.dumps(word) for word in words) + "]"


def write(change: Change) -> None:
    """Apply `change`, keeping the file's mode; an `after` of None removes the file."""
    path = change.path
    if change.after is None:
        path.unlink(missing_ok=True)
        return
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(change.after)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        msg = f"cannot write {path} ({exc}); it was left as it was"
        raise UsageError(msg) from exc
