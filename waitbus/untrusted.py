"""Text from outside (webhooks, commits, alerts, agents) made safe to show: controls stripped
for a model, escaped for a terminal."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing's: emit's start-up does without typing
if TYPE_CHECKING:
    from waitbus.event import JSON

# C0 and C1 controls except tab and newline, DEL, the bidirectional overrides and isolates that
# can make text read differently from how it is stored, and the Unicode line and paragraph
# separators that some readers split lines on.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# For a terminal, also the line breaks: one event is one line.
_TERMINAL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def escape(text: str, *, keep_lines: bool = False) -> str:
    """Show control characters as visible escapes (ESC as \\e, others as \\xNN or \\uNNNN), so
    printed text cannot move the cursor, retitle the window or reorder what follows it.

    `keep_lines` leaves newlines and tabs alone, for multi-line text such as a payload.
    """
    pattern = _CONTROL if keep_lines else _TERMINAL
    return pattern.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


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
