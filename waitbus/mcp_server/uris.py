"""The waitbus:// resource URIs: build them, and parse one back into what it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from waitbus.errors import UsageError
from waitbus.event import MAX_CURSOR, parse_cursor

SCHEME = "waitbus://"
EVENT_TEMPLATE = SCHEME + "events/{cursor}"
RAW_TEMPLATE = SCHEME + "events/{cursor}/raw"
LATEST_SOURCE_TEMPLATE = SCHEME + "latest/{source}"
LATEST_SUBJECT_TEMPLATE = SCHEME + "latest/{source}/{subject}"
# ASCII digits up to the largest cursor (a number over it is an unknown resource).
_CURSOR = re.compile(f"[0-9]{{1,{len(str(MAX_CURSOR))}}}")


@dataclass(frozen=True, slots=True)
class EventRef:
    """waitbus://events/N, or its raw payload."""

    cursor: int
    raw: bool = False


@dataclass(frozen=True, slots=True)
class LatestRef:
    """waitbus://latest/SOURCE[/SUBJECT]: the newest event of a source, or of one subject."""

    source: str
    subject: str | None = None


def event(cursor: int) -> str:
    return f"{SCHEME}events/{cursor}"


def raw(cursor: int) -> str:
    return f"{SCHEME}events/{cursor}/raw"


def latest(source: str, subject: str | None = None) -> str:
    """The latest-view URI; source and subject are percent-encoded (a subject may hold '/')."""
    base = f"{SCHEME}latest/{quote(source, safe='')}"
    return base if subject is None else f"{base}/{quote(subject, safe='')}"


def parse(uri: str) -> EventRef | LatestRef:
    """Parse a waitbus:// URI, or raise a UsageError naming the forms that exist."""
    parts = uri.removeprefix(SCHEME).split("/") if uri.startswith(SCHEME) else []
    match parts:
        case ["events", number] if _CURSOR.fullmatch(number):
            return EventRef(parse_cursor(number))
        case ["events", number, "raw"] if _CURSOR.fullmatch(number):
            return EventRef(parse_cursor(number), raw=True)
        case ["latest", source] if source:
            return LatestRef(unquote(source))
        case ["latest", source, subject] if source:
            return LatestRef(unquote(source), unquote(subject))
    shown = repr(uri) if len(uri) <= 200 else repr(uri[:200]) + "..."
    msg = (f"unknown resource {shown}; use {EVENT_TEMPLATE}, {RAW_TEMPLATE}, "
           f"{LATEST_SOURCE_TEMPLATE} or {LATEST_SUBJECT_TEMPLATE}")
    raise UsageError(msg)
