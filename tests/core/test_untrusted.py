"""Text from outside: control characters, bidi overrides and line separators stripped."""

from __future__ import annotations

from waitbus.event import JSON
from waitbus.untrusted import clean, clean_json


def test_clean_strips_controls_and_bidi_overrides_but_keeps_tabs_and_newlines() -> None:
    assert clean("a\x00b\x1b[31mc\x7fd\x9be\u202ef\u2066g\th\ni\r") == "ab[31mcdefg\th\ni"


def test_clean_json_cleans_keys_and_nested_values_and_keeps_other_types() -> None:
    value: JSON = {"k\x07": ["v\x1b", {"n": 1, "b": True, "z": None}]}
    assert clean_json(value) == {"k": ["v", {"n": 1, "b": True, "z": None}]}


def test_clean_strips_unicode_line_and_paragraph_separators() -> None:
    assert clean("one\u2028two\u2029three") == "onetwothree"
