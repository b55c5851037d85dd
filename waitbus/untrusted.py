"""Text from outside (webhooks, commits, alerts, agents) made safe to show: controls stripped."""

from __future__ import annotations

import re

from waitbus.event import JSON

# C0 and C1 controls except tab and newline, DEL, the bidirectional overrides and isolates that
# can make text read differently from how it is stored, and the Unicode line and paragraph
# separators that some readers split lines on.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Strip control characters, keeping tabs and newlines."""
    return _CONTROL.sub("", text)


def clean_json(value: JSON) -> JSON:
    """Strip control characters from every string in a JSON value, keys included."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, dict):
        return {clean(key): clean_json(item) for key, item in value.items()}
    return value
