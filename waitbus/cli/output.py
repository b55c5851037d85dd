"""Rendering for the terminal: one event per line, or JSON."""

from __future__ import annotations

import os
import sys
import time

from waitbus.event import Event, dump_json


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
