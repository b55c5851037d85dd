"""`waitbus events`: fetch one stored event, or run a read-only SQL query over the store."""

from __future__ import annotations

import argparse
import json
import math
import sys

from waitbus.cli.commands import command
from waitbus.cli.output import Format, add_format_flags, format_of, renderer
from waitbus.cli.state import paths_from
from waitbus.event import JSON, dump_json, parse_cursor
from waitbus.untrusted import escape


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from waitbus.store import query

    p = command(sub, "events")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    get = actions.add_parser("get", help="one event by cursor or delivery id")
    get.add_argument("key", metavar="CURSOR|DELIVERY_ID",
                     help="a cursor (a number) or a delivery id")
    get.add_argument("--payload", action="store_true", help="include the raw payload")
    add_format_flags(get, what="the event")
    sql = actions.add_parser(
        "query", help="run one read-only SQL statement over the events table",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="the store opens read-only: writes, ATTACH and PRAGMAs that change state are "
        "refused\n  waitbus events query \"SELECT source, count(*) FROM events GROUP BY "
        "source\"\n  waitbus events query \"SELECT cursor, json_extract(fields, '$.exit_code')"
        " FROM events WHERE source = 'ci'\"")
    sql.add_argument("sql", metavar="SQL", help="one SELECT (or an introspection PRAGMA)")
    sql.add_argument("--max-rows", type=int, default=query.DEFAULT_MAX_ROWS, metavar="N",
                     help=f"stop after N rows (default {query.DEFAULT_MAX_ROWS})")
    sql.add_argument("--timeout", default=f"{query.DEFAULT_TIMEOUT_S:g}s", metavar="DURATION",
                     help=f"stop the query after this long (default {query.DEFAULT_TIMEOUT_S:g}s)")
    sql.add_argument("--json", action="store_true", help="one JSON object per row")


def run(args: argparse.Namespace) -> int:
    if args.action == "get":
        return _get(args)
    return _query(args)


def _get(args: argparse.Namespace) -> int:
    from waitbus.errors import UsageError
    from waitbus.store.store import Store

    paths = paths_from(args)
    if not paths.store.exists():
        msg = f"no event store at {paths.store}; run `waitbus init` or emit an event first"
        raise UsageError(msg)
    cursor = parse_cursor(args.key) if args.key.isascii() and args.key.isdigit() else None
    with Store(paths, read_only=True) as store:
        event = store.get(cursor, payload=args.payload) if cursor is not None else None
        if event is None:
            found = store.get_by_delivery(args.key)
            event = None if found is None else store.get(found.cursor, payload=args.payload)
        pruned = store.pruned().through
    if event is None and cursor is not None and cursor <= pruned:
        msg = (f"event {args.key} was pruned by retention (every cursor through {pruned} is "
               "gone); keep more with `waitbus serve --retain-age` or `--retain-bytes`")
        raise UsageError(msg)
    if event is None:
        msg = (f"no stored event has cursor or delivery id '{escape(args.key)}'; "
               "list them with `waitbus tail`")
        raise UsageError(msg)
    fmt = format_of(args)
    print(renderer(fmt)(event))
    if fmt is Format.TEXT:
        print(f"  delivery_id {escape(event.delivery_id)}")
        print(f"  fields {dump_json(event.fields)}")
        if event.payload is not None:
            print(f"  payload {escape(event.payload, keep_lines=True)}")
    return 0


def _query(args: argparse.Namespace) -> int:
    from waitbus.cli.durations import seconds
    from waitbus.store import query

    result = query.run(paths_from(args), args.sql, max_rows=args.max_rows,
                       timeout_s=seconds(args.timeout))
    if args.json:
        for row in result.rows:
            # Column order is the query's, so no key sorting here.
            print(json.dumps({c: _json(v) for c, v in zip(result.columns, row, strict=True)},
                             separators=(",", ":")))
    else:
        print("\t".join(escape(column) for column in result.columns))
        for row in result.rows:
            print("\t".join("NULL" if v is None else escape(str(_json(v))) for v in row))
    if result.truncated:
        print(f"waitbus: stopped at {args.max_rows} rows; raise --max-rows or narrow the query",
              file=sys.stderr)
    return 0


def _json(value: object) -> JSON:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)
