"""`waitbus emit`: commit one event (the daemon need not be running)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator

from waitbus.cli.commands import command
from waitbus.cli.output import json_line, line
from waitbus.cli.state import paths_from
from waitbus.errors import UsageError
from waitbus.event import JSON, Conclusion, Draft, Event, parse_cursor
from waitbus.paths import StatePaths

# Nothing emit runs logs, so the CLI leaves logging (and its imports) out of every emit.
LOGS = False


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "emit")
    p.add_argument("--source", help="where the event comes from, e.g. ci (required unless "
                   "the agent flags below make it an agent message)")
    p.add_argument("--type", help="what kind of event, e.g. build_finished (required, as "
                   "--source)")
    p.add_argument("--id", dest="delivery_id", help="idempotency key: re-emitting it is a no-op")
    p.add_argument("--subject", help="what it is about: owner/repo, a container, a path")
    p.add_argument("--conclusion", choices=[c.value for c in Conclusion])
    p.add_argument("--field", action="append", default=[], metavar="KEY=JSON",
                   help='a normalized fact to match on, e.g. --field exit_code=3 '
                   '--field branch=\'"main"\' (repeatable)')
    p.add_argument("--payload", metavar="@FILE|-", help="raw payload from a file or stdin")
    p.add_argument("--json", action="store_true", help="print the stored event as JSON")
    p.add_argument("--batch", action="store_true",
                   help="read events from stdin, one JSON object per line with the keys "
                   "source, type, subject, conclusion, fields, payload, delivery_id; the lines "
                   "available at once are committed in one transaction")
    agent = p.add_argument_group(
        "agent messages", "any of these makes the event an agent message (source agent, "
        "type message)")
    agent.add_argument("--to", metavar="NAME", help='the inbox it is for; "*" for every inbox')
    agent.add_argument("--from", dest="sender", metavar="NAME",
                       help="who sends it (default: $WAITBUS_AGENT)")
    agent.add_argument("--body", help="the message text")
    agent.add_argument("--thread", metavar="ID", help="the conversation it belongs to")
    agent.add_argument("--correlation", metavar="ID", help="ties a request to its replies")
    agent.add_argument("--reply-to", metavar="CURSOR|ID",
                       help="answer this message: to its sender, with its thread and "
                       "correlation")


def run(args: argparse.Namespace) -> int:
    from waitbus.sources import emitter

    paths = paths_from(args).ensure()
    if args.batch:
        return _run_batch(args, paths)
    if _is_message(args):
        item = _message(args, paths)
    else:
        if args.source is None or args.type is None:
            msg = ("give --source and --type (for example --source ci --type build_finished), "
                   "or --to/--body for an agent message")
            raise UsageError(msg)
        item = emitter.draft(args.source, args.type, subject=args.subject,
                             conclusion=args.conclusion, fields=parse_fields(args.field),
                             payload=_payload(args.payload), delivery_id=args.delivery_id)
    event, _new = emitter.append(paths, item)
    print(json_line(event) if args.json else line(event))
    return 0


# Lines committed in one transaction at most, when more are waiting on stdin.
BATCH_MAX_LINES = 10_000


def _run_batch(args: argparse.Namespace, paths: StatePaths) -> int:
    from waitbus.sources import emitter

    given = [f"--{name.replace('_', '-')}" for name in (*_EVENT_FLAGS, *_AGENT_FLAGS)
             if getattr(args, name) not in (None, [])]
    if given:
        msg = f"--batch reads whole events from stdin; drop {', '.join(given)}"
        raise UsageError(msg)
    number = 0
    for chunk in _line_chunks(sys.stdin.fileno(), BATCH_MAX_LINES):
        drafts = []
        for text in chunk:
            number += 1
            try:
                drafts.append(emitter.draft_of(_object(text)))
            except UsageError as exc:
                stored = emitter.append_many(paths, drafts)
                _print(args, stored)
                msg = (f"stdin line {number}: {exc}; every line before it is stored, it and "
                       "the lines after it are not")
                raise UsageError(msg) from None
        _print(args, emitter.append_many(paths, drafts))
    return 0


def _print(args: argparse.Namespace, events: list[Event]) -> None:
    sys.stdout.writelines((json_line(e) if args.json else line(e)) + "\n" for e in events)
    sys.stdout.flush()


def _object(text: bytes) -> dict[str, JSON]:
    from waitbus.event import load_json_object

    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 ({exc})"
        raise UsageError(msg) from None
    return load_json_object(decoded, "the line")


def _line_chunks(fd: int, max_lines: int) -> Iterator[list[bytes]]:
    """Non-empty lines from `fd`, grouped by what arrived together (at most `max_lines`)."""
    import select

    pending = b""
    while True:
        data = os.read(fd, 1 << 16)
        chunk: list[bytes] = []
        while data:
            pending += data
            *lines, pending = pending.split(b"\n")
            chunk += [text for text in lines if text.strip()]
            if len(chunk) >= max_lines or not select.select([fd], [], [], 0)[0]:
                break
            data = os.read(fd, 1 << 16)
        if not data and pending.strip():
            chunk.append(pending)
            pending = b""
        if chunk:
            yield chunk
        if not data:
            return


_EVENT_FLAGS = ("source", "type", "delivery_id", "subject", "conclusion", "field", "payload")
_AGENT_FLAGS = ("to", "sender", "body", "thread", "correlation", "reply_to")


def _is_message(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) is not None for name in _AGENT_FLAGS)


def _message(args: argparse.Namespace, paths: StatePaths) -> Draft:
    from waitbus.sources import agents

    if args.source not in (None, agents.SOURCE) or args.type not in (None, agents.TYPE):
        msg = (f"--to, --from, --body, --thread, --correlation and --reply-to make an "
               f"{agents.SOURCE}/{agents.TYPE} event; drop --source/--type or set them to "
               f"{agents.SOURCE} and {agents.TYPE}")
        raise UsageError(msg)
    sender = args.sender or os.environ.get("WAITBUS_AGENT") or None
    request = _request(paths, args.reply_to) if args.reply_to is not None else None
    thread, correlation = args.thread, args.correlation
    to = args.to
    if request is not None:
        reply = agents.reply(request, "", sender=sender)
        to = to or reply.fields["to"]
        sender = sender or _optional(reply.fields["from"])
        thread = thread or reply.fields["thread"]
        correlation = correlation or reply.fields["correlation"]
    if to is None:
        msg = 'an agent message needs --to NAME ("*" for every inbox) or --reply-to'
        raise UsageError(msg)
    return agents.message(
        str(to), args.body or "", sender=sender, thread=_optional(thread),
        correlation=_optional(correlation),
        reply_to=None if request is None else request.delivery_id,
        conclusion=args.conclusion, extra=parse_fields(args.field),
        delivery_id=args.delivery_id, subject=args.subject, payload=_payload(args.payload))


def _optional(value: JSON) -> str | None:
    return None if value is None else str(value)


def _request(paths: StatePaths, ref: str) -> Event:
    from waitbus.store.store import Store

    cursor = parse_cursor(ref, "--reply-to") if ref.isascii() and ref.isdigit() else None
    found = None
    if paths.store.exists():
        with Store(paths, read_only=True) as store:
            found = store.get(cursor) if cursor is not None else store.get_by_delivery(ref)
    if found is None:
        msg = f"--reply-to {ref}: no event with that cursor or delivery id"
        raise UsageError(msg)
    return found


def parse_fields(items: list[str]) -> dict[str, JSON]:
    fields: dict[str, JSON] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            msg = f"--field {item!r}: write KEY=JSON, e.g. exit_code=3 or branch='\"main\"'"
            raise UsageError(msg)
        try:
            fields[key] = json.loads(raw, parse_constant=_refuse_constant)
        except RecursionError:
            msg = f"--field {key}: the value is nested too deeply; flatten it"
            raise UsageError(msg) from None
        except ValueError:
            shown = raw if len(raw) <= 80 else raw[:80] + "..."
            msg = f"--field {key}: {shown!r} is not JSON; quote strings: {key}='\"{shown}\"'"
            raise UsageError(msg) from None
    return fields


def _refuse_constant(name: str) -> float:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def _payload(spec: str | None) -> str | None:
    if spec is None:
        return None
    if spec == "-":
        try:
            return sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = (f"--payload -: standard input is not UTF-8 text ({exc.reason} at byte "
                   f"{exc.start})")
            raise UsageError(msg) from None
    if spec.startswith("@"):
        try:
            with open(spec[1:], encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"--payload {spec}: cannot read it ({exc})"
            raise UsageError(msg) from exc
    msg = f"--payload {spec!r}: write @FILE or - for stdin"
    raise UsageError(msg)
