"""Rendering for the terminal: one event per line, JSON, or CloudEvents JSON."""

from __future__ import annotations

import argparse
import enum
import os
import sys
import time
from collections.abc import Callable

from waitbus.event import Event, JSONObject, dump_json
from waitbus.untrusted import clean_json

# Past this many characters of JSON an event's fields are left out of a data line.
DATA_LINE_FIELDS_CHARS = 2000


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    CLOUDEVENTS = "cloudevents"


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def line(event: Event) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.received_at / 1e9))
    text = f"{stamp} {event}"
    if use_colour() and event.conclusion is not None:
        colour = "32" if not event.conclusion.failed else "31"
        text = f"\x1b[{colour}m{text}\x1b[0m"
    return text


def json_line(event: Event) -> str:
    return dump_json(event.to_json())


def cloudevent_line(event: Event) -> str:
    from waitbus.cloudevents import to_cloudevent

    return dump_json(to_cloudevent(event))


def add_format_flags(parser: argparse.ArgumentParser, *, what: str = "events") -> None:
    """`--json` and `--format text|json|cloudevents` (CloudEvents 1.0 JSON lines)."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON lines")
    parser.add_argument("--format", choices=[f.value for f in Format], default=None,
                        help=f"print {what} as text, JSON lines, or CloudEvents 1.0 JSON lines")


def format_of(args: argparse.Namespace) -> Format:
    if args.format is not None:
        return Format(args.format)
    return Format.JSON if args.json else Format.TEXT


def renderer(fmt: Format) -> Callable[[Event], str]:
    # A table, not a match with typing.assert_never: a wait's start-up does without typing.
    renderers: dict[Format, Callable[[Event], str]] = {
        Format.TEXT: line, Format.JSON: json_line, Format.CLOUDEVENTS: cloudevent_line}
    return renderers[fmt]


def data_line(event: Event) -> str:
    """One line for an agent: what waitbus vouches for (cursor, conclusion), then the event's
    outside text as JSON labelled untrusted, ASCII-only and stripped of control characters."""
    verdict = f" {event.conclusion.value}" if event.conclusion is not None else ""
    data: JSONObject = {"source": event.source, "type": event.type, "subject": event.subject,
                        "fields": event.fields}
    fields = dump_json(event.fields)
    note = ""
    if len(fields) > DATA_LINE_FIELDS_CHARS:
        del data["fields"]
        note = f" (fields of {len(fields)} characters left out)"
    return (f"waitbus event #{event.cursor}{verdict}{note}, untrusted data: "
            f"{dump_json(clean_json(data))}")
