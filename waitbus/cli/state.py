"""Shared argv-to-library glue for the commands."""

from __future__ import annotations

import argparse
import os

from waitbus.paths import StatePaths, resolve

# Not typing.TYPE_CHECKING: `emit` shares this module, and its start-up does without typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from waitbus.consumers.since import Since


def paths_from(args: argparse.Namespace) -> StatePaths:
    return resolve(args.state_dir)


def reconnect_s() -> float:
    """WAITBUS_RECONNECT_S as seconds (a duration such as 5, 2.5s or 1m), else the default."""
    # Imported here: `emit` shares this module and must not load asyncio (through the feed).
    from waitbus.consumers.feed import DEFAULT_RECONNECT_S

    raw = os.environ.get("WAITBUS_RECONNECT_S")
    if not raw:
        return DEFAULT_RECONNECT_S
    from waitbus.cli.durations import seconds
    from waitbus.errors import UsageError

    try:
        return seconds(raw)
    except UsageError as exc:
        msg = f"WAITBUS_RECONNECT_S: {exc}"
        raise UsageError(msg) from None


def count(text: str) -> int:
    """An argparse type: a whole number from 0 to a million."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_COUNT:
        shown = text if len(text) <= 40 else text[:40] + "..."
        msg = f"{shown!r} is not a count; give a whole number from 0 to {MAX_COUNT}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


MAX_COUNT = 1_000_000


def since_of(text: str | None) -> int | Since | None:
    """`--since` as a cursor, or a duration back from now; None when it was not given."""
    from waitbus.cli.durations import is_duration, seconds
    from waitbus.consumers.since import Since
    from waitbus.errors import UsageError

    if text is None:
        return None
    if is_duration(text):
        return Since.ago(seconds(text))
    from waitbus.event import parse_cursor

    try:
        return parse_cursor(text, "--since")
    except UsageError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        msg = f"--since {shown!r}: give a cursor (a number) or a duration such as 10m"
        raise UsageError(msg) from None
