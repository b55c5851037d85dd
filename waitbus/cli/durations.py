"""Parsing `30s`, `5m`, `1h` and bare seconds."""

from __future__ import annotations

import re

from waitbus.errors import UsageError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")


def seconds(text: str) -> float:
    """`90`, `90s`, `1.5m`, `2h` or `250ms` as seconds."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        msg = f"{text!r} is not a duration; write 30s, 5m, 1h or a number of seconds"
        raise UsageError(msg)
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def is_duration(text: str) -> bool:
    return bool(_DURATION.fullmatch(text.strip())) and not text.strip().isdigit()
