"""`waitbus emit`: commit one event (the daemon need not be running)."""

from __future__ import annotations

import argparse
import json
import sys

from waitbus.cli.output import json_line, line
from waitbus.cli.state import paths_from
from waitbus.errors import UsageError
from waitbus.event import JSON, Conclusion


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emit", help="commit one event and wake the daemon")
    p.add_argument("--source", required=True, help="where the event comes from, e.g. agent")
    p.add_argument("--type", required=True, help="what kind of event, e.g. build_finished")
    p.add_argument("--id", dest="delivery_id", help="idempotency key: re-emitting it is a no-op")
    p.add_argument("--subject", help="what it is about: owner/repo, a container, a path")
    p.add_argument("--conclusion", choices=[c.value for c in Conclusion])
    p.add_argument("--field", action="append", default=[], metavar="KEY=JSON",
                   help='a normalized fact to match on, e.g. --field exit_code=3 '
                   '--field branch=\'"main"\' (repeatable)')
    p.add_argument("--payload", metavar="@FILE|-", help="raw payload from a file or stdin")
    p.add_argument("--json", action="store_true", help="print the stored event as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.sources import emitter

    item = emitter.draft(args.source, args.type, subject=args.subject,
                         conclusion=args.conclusion, fields=parse_fields(args.field),
                         payload=_payload(args.payload), delivery_id=args.delivery_id)
    event = emitter.append(paths_from(args).ensure(), item)
    print(json_line(event) if args.json else line(event))
    return 0


def parse_fields(items: list[str]) -> dict[str, JSON]:
    fields: dict[str, JSON] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            msg = f"--field {item!r}: write KEY=JSON, e.g. exit_code=3 or branch='\"main\"'"
            raise UsageError(msg)
        try:
            fields[key] = json.loads(raw)
        except ValueError:
            msg = f"--field {item!r}: {raw!r} is not JSON; quote strings: {key}='\"{raw}\"'"
            raise UsageError(msg) from None
    return fields


def _payload(spec: str | None) -> str | None:
    if spec is None:
        return None
    if spec == "-":
        return sys.stdin.read()
    if spec.startswith("@"):
        try:
            with open(spec[1:], encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"--payload {spec}: cannot read it ({exc})"
            raise UsageError(msg) from exc
    msg = f"--payload {spec!r}: write @FILE or - for stdin"
    raise UsageError(msg)
