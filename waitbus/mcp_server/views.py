"""Events as the MCP tools and resources show them: string cursors, ns units, cleaned text."""

from __future__ import annotations

from waitbus.errors import UsageError
from waitbus.event import JSON, Event, JSONObject, parse_cursor
from waitbus.mcp_server import uris
from waitbus.mcp_server.schemas import INLINE_PAYLOAD_BYTES
from waitbus.untrusted import clean, clean_json, escape


def cursor_of(value: JSON, what: str = "cursor") -> int:
    """Read an opaque cursor string (a bare integer is accepted too)."""
    try:
        return parse_cursor(value, what)
    except UsageError:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        msg = f"{what} must be a cursor string such as \"42\" from an earlier result, got {shown}"
        raise UsageError(msg) from None


def event_view(event: Event) -> JSONObject:
    """The event's JSON shape for a model, every outside string stripped of control characters."""
    return {
        "cursor": str(event.cursor),
        "delivery_id": clean(event.delivery_id),
        "source": clean(event.source),
        "type": clean(event.type),
        "subject": None if event.subject is None else clean(event.subject),
        "conclusion": None if event.conclusion is None else event.conclusion.value,
        "received_at_ns": event.received_at,
        "fields": clean_json(event.fields),
        "uri": uris.event(event.cursor),
    }


def payload_view(event: Event) -> JSON:
    """The payload inline up to 64 KiB; beyond that a marker with its size and raw URI."""
    if event.payload is None:
        return None
    size = len(event.payload.encode())
    inline = size <= INLINE_PAYLOAD_BYTES
    return {
        "size_bytes": size,
        "inline": inline,
        "text": clean(event.payload) if inline else None,
        "raw_uri": uris.raw(event.cursor),
    }


def summary(event: Event) -> str:
    """One trusted line naming an event, without any of its outside text but the names."""
    verdict = f" {event.conclusion.value}" if event.conclusion else ""
    return f"#{event.cursor} {name(event.source)}/{name(event.type)}{verdict}"


def name(text: str) -> str:
    """A source or type on a trusted line: one line (controls escaped), at most 64 characters."""
    shown = escape(text)
    return shown if len(shown) <= NAME_CHARS else shown[: NAME_CHARS - 3] + "..."


NAME_CHARS = 64
