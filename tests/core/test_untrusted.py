"""Text from outside: controls, bidi overrides and line separators stripped for a model and
escaped for a terminal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from waitbus.event import JSON
from waitbus.untrusted import clean, clean_json, escape


def test_clean_strips_controls_and_bidi_overrides_but_keeps_tabs_and_newlines() -> None:
    assert clean("a\x00b\x1b[31mc\x7fd\x9be\u202ef\u2066g\th\ni\r") == "ab[31mcdefg\th\ni"


def test_clean_json_cleans_keys_and_nested_values_and_keeps_other_types() -> None:
    value: JSON = {"k\x07": ["v\x1b", {"n": 1, "b": True, "z": None}]}
    assert clean_json(value) == {"k": ["v", {"n": 1, "b": True, "z": None}]}


def test_clean_strips_unicode_line_and_paragraph_separators() -> None:
    assert clean("one\u2028two\u2029three") == "onetwothree"


def test_escape_names_the_common_controls_and_numbers_the_rest() -> None:
    assert escape("a\x1b[2Jb\x07c\nd\te\rf\u202eg\x9bh") == (
        "a\\e[2Jb\\x07c\\nd\\te\\rf\\u202eg\\x9bh")


def test_escape_can_keep_line_breaks_for_multi_line_text() -> None:
    assert escape("line 1\n\tline 2\x1b]0;t\x07", keep_lines=True) == (
        "line 1\n\tline 2\\e]0;t\\x07")


@given(st.text())
def test_escaped_text_holds_no_control_character(text: str) -> None:
    shown = escape(text)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert "\u202e" not in shown
