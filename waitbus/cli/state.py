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
    # Imported here: `emit` shares this module and must not load asyncio (through the feed).
    from waitbus.consumers.feed import DEFAULT_RECONNECT_S

    raw = os.environ.get("WAITBUS_RECONNECT_S")
    return float(raw) if raw else DEFAULT_RECONNECT_S


def since_of(text: str | None) -> int | Since | None:
    """`--since` as a cursor, or a duration back from now; None when it was not given."""
    from waitbus.cli.durations import is_duration, seconds
    from waitbus.consumers.since import Since
    from waitbus.errors import UsageError

    if text is None:
        return None
    if is_duration(text):
        return Since.ago(seconds(text))
    try:
        return int(text)
    except ValueError:
        msg = f"--since {text!r}: give a cursor (a number) or a duration such as 10m"
        raise UsageError(msg) from None
