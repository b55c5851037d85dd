"""Parsing `30s`, `5m`, `1h` and bare seconds."""

from __future__ import annotations

import re

from waitbus.errors import UsageError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,9})?)(ms|s|m|h|d)?")
# Ten years: beyond it a wall-clock bound or a deadline stops meaning anything.
MAX_DURATION_S = 10 * 365 * 86400.0


def seconds(text: str) -> float:
    """`90`, `90s`, `1.5m`, `2h` or `250ms` as seconds."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        shown = text if len(text) <= 40 else text[:40] + "..."
        msg = f"{shown!r} is not a duration; write 30s, 5m, 1h or a number of seconds"
        raise UsageError(msg)
    value = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if value > MAX_DURATION_S:
        msg = f"{text!r} is longer than ten years; give a shorter duration"
        raise UsageError(msg)
    return value


def is_duration(text: str) -> bool:
    stripped = text.strip()
    return bool(_DURATION.fullmatch(stripped)) and not (stripped.isascii() and stripped.isdigit())
