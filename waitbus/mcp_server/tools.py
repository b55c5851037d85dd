"""The MCP tools: wait, events, get_event, emit and status, over the bus's own library calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from waitbus.consumers import wait as waiting
from waitbus.consumers.since import Since
from waitbus.consumers.status import status as daemon_status
from waitbus.consumers.waitlog import logged
from waitbus.errors import NotRunning, UsageError, WaitTimeout
from waitbus.event import JSON, Event, JSONObject
from waitbus.match import Match
from waitbus.mcp_server import schemas, uris
from waitbus.mcp_server.schemas import Schema
from waitbus.mcp_server.state import Bus
from waitbus.mcp_server.views import cursor_of, event_view, payload_view, summary
from waitbus.sources import agents, emitter
from waitbus.untrusted import clean
from waitbus.wire import StatusInfo

log = logging.getLogger(__name__)
Progress = Callable[[str], Awaitable[None]]
_SCAN_ROWS = 10_000
_BATCH_ROWS = 500


@dataclass(frozen=True, slots=True)
class Reply:
    """A tool's result: one trusted summary line and the structured (untrusted) data."""

    summary: str
    data: JSONObject


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    input_schema: Schema
    output_schema: Schema
    run: Callable[[Bus, JSONObject, Progress], Awaitable[Reply]]
    read_only: bool = True
    idempotent: bool = True
    task: bool = False  # runs as an MCP task where the client negotiates the extension


async def wait(bus: Bus, args: JSONObject, progress: Progress) -> Reply:
    since = args.get("since")
    wait = waiting.build(
        _strings(args, "match"), source=_text(args, "source"), all_of=_strings(args, "all_of"),
        any_of=_strings(args, "any_of"), inbox=_text(args, "inbox"),
        correlation=_text(args, "correlation"), sha=_text(args, "sha"), repo=_text(args, "repo"),
        since=None if since is None else Since(cursor_of(since, "since"),
                                               generation=_text(args, "generation")),
        timeout_s=float(cast(float, args.get("timeout_s", schemas.DEFAULT_WAIT_S))))
    started = time.monotonic()

    async def announce(cursor: int) -> None:
        try:
            await progress(f"live: waiting for events after cursor {cursor}")
        except Exception:  # a client that left cannot be told; the wait itself decides
            log.debug("could not report progress", exc_info=True)

    try:
        with logged(bus.paths, wait, "mcp") as timing:
            outcome = await waiting.run(wait, bus.paths, reconnect_s=bus.reconnect_s,
                                        on_live=announce)
            timing.woke(outcome)
    except WaitTimeout as exc:
        return _pending(exc, started)
    timing.save()
    verdict = "failed" if outcome.failed else "matched"
    return Reply(f"{verdict}: {', '.join(summary(e) for e in outcome.events)}"
                 f"{_REPLACED if outcome.replaced else ''}",
                 {"outcome": verdict, "events": [event_view(e) for e in outcome.events],
                  "cursor": str(outcome.cursor),
                  **_generation(outcome.generation, replaced=outcome.replaced),
                  "waited_s": round(time.monotonic() - started, 3)})


# Said when the store was replaced (moved aside and created again) before or during a wait.
_REPLACED_NOTE = ("the event store was replaced (moved aside and created again), so its "
                  "cursors started again and this wait counted its events from the start")
_REPLACED = f"; note: {_REPLACED_NOTE}"


def _generation(generation: str | None, *, replaced: bool) -> JSONObject:
    said: JSONObject = {} if generation is None else {"generation": generation}
    return {**said, "note": _REPLACED_NOTE} if replaced else said


def _pending(exc: WaitTimeout, started: float) -> Reply:
    return Reply(f"pending: nothing matched in {exc.timeout_s:g} s; call wait again with the "
                 f"same arguments and since {exc.cursor}"
                 + (f" and generation {exc.generation}" if exc.generation else "")
                 + (_REPLACED if exc.replaced else ""),
                 {"outcome": "pending", "events": [], "cursor": str(exc.cursor),
                  **_generation(exc.generation, replaced=exc.replaced),
                  "waited_s": round(time.monotonic() - started, 3)})


async def events(bus: Bus, args: JSONObject, _progress: Progress) -> Reply:
    limit = int(cast(int, args.get("limit", 50)))
    source = _text(args, "source")
    clauses = _strings(args, "match")
    wanted = Match.of(clauses, source=source) if (clauses or source) else None
    head = bus.store.head()
    since = args.get("since")
    if since is None:
        found = [e for e in bus.store.latest(_SCAN_ROWS, source=source) if _meets(wanted, e)]
        page, next_cursor = found[-limit:], head
    else:
        page, next_cursor = _page(bus, cursor_of(since, "since"), limit, wanted)
    return Reply(f"{len(page)} event(s); next page after cursor {next_cursor}",
                 {"events": [event_view(e) for e in page], "next_cursor": str(next_cursor),
                  "head": str(head)})


def _page(bus: Bus, cursor: int, limit: int, wanted: Match | None) -> tuple[list[Event], int]:
    page: list[Event] = []
    scanned = 0
    while scanned < _SCAN_ROWS:
        batch = bus.store.read_after(cursor, limit=_BATCH_ROWS)
        for event in batch:
            cursor = event.cursor
            if _meets(wanted, event):
                page.append(event)
                if len(page) == limit:
                    return page, cursor
        scanned += len(batch)
        if len(batch) < _BATCH_ROWS:
            break
    return page, cursor


async def get_event(bus: Bus, args: JSONObject, _progress: Progress) -> Reply:
    cursor = cursor_of(args.get("cursor"))
    event = bus.store.get(cursor, payload=True)
    if event is None:
        msg = f"no event at cursor {cursor}; list cursors with the events tool"
        raise UsageError(msg)
    payload = payload_view(event)
    note = "" if not isinstance(payload, dict) or payload["inline"] else (
        f"; payload of {payload['size_bytes']} bytes not inlined, read {payload['raw_uri']}")
    return Reply(f"{summary(event)}{note}", {"event": event_view(event), "payload": payload})


async def emit(bus: Bus, args: JSONObject, _progress: Progress) -> Reply:
    sender, to, body = cast(str, args["from"]), _text(args, "to"), _text(args, "body")
    thread, correlation = _text(args, "thread"), _text(args, "correlation")
    delivery_id = _text(args, "delivery_id")
    conclusion = cast(str | None, args.get("conclusion"))
    if args["kind"] == "message":
        if to is None or body is None:
            msg = 'an agent message needs `to` (a name, or "*" for every inbox) and `body`'
            raise UsageError(msg)
        item = agents.message(to, body, sender=sender, thread=thread, correlation=correlation,
                              conclusion=conclusion, delivery_id=delivery_id)
    else:
        fields: dict[str, JSON] = {k: args[k] for k in ("from", "state", "body", "thread",
                                                        "correlation") if k in args}
        item = emitter.draft(agents.SOURCE, "status", subject=sender, conclusion=conclusion,
                             fields=fields, delivery_id=delivery_id)
    event, new = emitter.append(bus.paths, item)
    return Reply(f"emitted {summary(event)}" + ("" if new else " (already stored)"),
                 {"cursor": str(event.cursor), "delivery_id": event.delivery_id,
                  "received_at_ns": event.received_at, "uri": uris.event(event.cursor),
                  "new": new})


async def status(bus: Bus, _args: JSONObject, _progress: Progress) -> Reply:
    head = bus.store.head()
    feed_cursor = bus.watcher.cursor if bus.watcher is not None else head
    try:
        info: StatusInfo | None = await daemon_status(bus.paths, reconnect_s=0.0)
    except NotRunning:
        info = None
    daemon: JSONObject = {
        "running": info is not None, "pid": None if info is None else info.pid,
        "started_at_ns": None if info is None else info.started_at,
        "subscribers": 0 if info is None else len(info.subscribers)}
    sources: JSONObject = {} if info is None else {
        name: {"state": source.state.value, "error": None if source.error is None
               else clean(source.error)} for name, source in info.sources.items()}
    state = "running" if info is not None else "not running (start it with `waitbus serve`)"
    return Reply(f"daemon {state}; head cursor {head}",
                 {"daemon": daemon, "head": str(head), "sources": sources,
                  "lag": {"feed_cursor": str(feed_cursor),
                          "feed_events_behind": max(0, head - feed_cursor),
                          "max_subscriber_events_behind": 0 if info is None else info.max_lag}})


def _meets(wanted: Match | None, event: Event) -> bool:
    return wanted is None or wanted.matches(event)


def _text(args: JSONObject, key: str) -> str | None:
    value = args.get(key)
    return value if isinstance(value, str) else None


def _strings(args: JSONObject, key: str) -> list[str]:
    value = args.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


TOOLS = (
    ToolSpec("wait", "Block until events match, then return them; if it comes back with "
             "outcome pending, call wait again with the same arguments and since=cursor. Takes "
             "the CLI's clause grammar (match, source, all_of, any_of), an agent inbox or "
             "correlation id, or a commit sha whose GitHub CI must settle. A call returns "
             "within timeout_s (default 45 s); clients that negotiate the MCP tasks extension "
             "get a task that completes when the event lands. Reports progress once "
             "subscribed and every 12 s after.",
             schemas.WAIT_IN, schemas.WAIT_OUT, wait, task=True),
    ToolSpec("events", "List events oldest first: after `since` page by page (pass next_cursor "
             "back), or the newest ones when `since` is omitted; filter by source and clauses.",
             schemas.EVENTS_IN, schemas.EVENTS_OUT, events),
    ToolSpec("get_event", "Fetch one event with its payload. A payload over 64 KiB comes back "
             "as a marker with its size and a raw_uri resource to read instead.",
             schemas.GET_EVENT_IN, schemas.GET_EVENT_OUT, get_event),
    ToolSpec("emit", "Write to the agent lane: a message to another agent (kind message: to, "
             "from, body, thread, correlation) or your own status (kind status: from, state, "
             "body, conclusion). The only tool that writes.",
             schemas.EMIT_IN, schemas.EMIT_OUT, emit, read_only=False, idempotent=False),
    ToolSpec("status", "The daemon's state: running or not, its sources, the store's head "
             "cursor and how far behind this server and the daemon's subscribers are.",
             schemas.STATUS_IN, schemas.STATUS_OUT, status),
)
