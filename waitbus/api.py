"""The Python API: emit, wait and subscribe, each with a native asyncio twin."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping, Sequence

from waitbus.consumers import wait as waiting
from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed
from waitbus.consumers.since import Since
from waitbus.consumers.waitlog import logged
from waitbus.errors import UsageError
from waitbus.event import JSON, Conclusion, Event
from waitbus.match import Match
from waitbus.paths import of_state_dir
from waitbus.sources import emitter


def emit(source: str, type: str, *, subject: str | None = None,
         conclusion: Conclusion | str | None = None, fields: Mapping[str, JSON] | None = None,
         payload: str | None = None, delivery_id: str | None = None,
         state_dir: str | os.PathLike[str] | None = None) -> Event:
    """Commit one event and wake the daemon; works while the daemon is down.

    Emitting a `delivery_id` that is already stored is a no-op that returns the stored event.
    """
    item = emitter.draft(source, type, subject=subject, conclusion=conclusion, fields=fields,
                         payload=payload, delivery_id=delivery_id)
    return emitter.append(of_state_dir(state_dir), item)[0]


def emit_many(events: Iterable[Mapping[str, object]], *,
              state_dir: str | os.PathLike[str] | None = None) -> list[Event]:
    """Commit a burst of events in one transaction and wake the daemon once.

    Each item is a JSON object with emit's keywords: `source` and `type`, and optionally
    `subject`, `conclusion`, `fields`, `payload` and `delivery_id`. Every item is checked
    before anything is stored, so one bad item stores none. Returns the stored events in the
    same order; an already stored `delivery_id` returns the stored event, as `emit` does.
    """
    drafts = []
    for index, spec in enumerate(events):
        try:
            drafts.append(emitter.draft_of(spec))
        except UsageError as exc:
            msg = f"event {index}: {exc}"
            raise UsageError(msg) from None
    return emitter.append_many(of_state_dir(state_dir), drafts)


async def aemit_many(events: Iterable[Mapping[str, object]], *,
                     state_dir: str | os.PathLike[str] | None = None) -> list[Event]:
    """The asyncio twin of emit_many: the commit runs in a worker thread."""
    return await asyncio.to_thread(emit_many, list(events), state_dir=state_dir)


async def aemit(source: str, type: str, *, subject: str | None = None,
                conclusion: Conclusion | str | None = None,
                fields: Mapping[str, JSON] | None = None, payload: str | None = None,
                delivery_id: str | None = None,
                state_dir: str | os.PathLike[str] | None = None) -> Event:
    """The asyncio twin of emit: the commit (a file lock and SQLite) runs in a worker thread,
    so the event loop keeps running while other writers hold the lock."""
    item = emitter.draft(source, type, subject=subject, conclusion=conclusion, fields=fields,
                         payload=payload, delivery_id=delivery_id)
    event, _new = await asyncio.to_thread(emitter.append, of_state_dir(state_dir), item)
    return event


async def await_for(match: str | Sequence[str] | Match | None = None, *,
                    source: str | None = None, all_of: Sequence[str] = (),
                    any_of: Sequence[str] = (), timeout_s: float | None = None,
                    since: int | Since | None = None,
                    state_dir: str | os.PathLike[str] | None = None,
                    reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Wait for a matching event committed after this call (or after `since`).

    `since` is a cursor, or a `Since` such as `Since.process_start()` (everything since this
    process began, so work started just before the wait cannot slip past it). Returns the
    event that completed the wait. Raises WaitTimeout after `timeout_s`, and NotRunning when
    no daemon answers within `reconnect_s`.
    """
    wait = waiting.build(match, source=source, all_of=all_of, any_of=any_of, since=since,
                         timeout_s=timeout_s)
    paths = of_state_dir(state_dir)
    with logged(paths, wait, "api") as timing:
        outcome = await waiting.run(wait, paths, reconnect_s=reconnect_s)
        timing.woke(outcome)
    timing.save()
    return outcome.events[-1]


def wait_for(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
             all_of: Sequence[str] = (), any_of: Sequence[str] = (),
             timeout_s: float | None = None, since: int | Since | None = None,
             state_dir: str | os.PathLike[str] | None = None,
             reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Blocking form of await_for; call it from code that is not already in an event loop."""
    refuse_inside_a_loop("wait_for", "await await_for(...)")
    wait = waiting.build(match, source=source, all_of=all_of, any_of=any_of, since=since,
                         timeout_s=timeout_s)
    paths = of_state_dir(state_dir)
    with logged(paths, wait, "api") as timing:
        outcome = waiting.run_blocking(wait, paths, reconnect_s=reconnect_s,
                                       on_live=timing.prepare)
        timing.woke(outcome)
    timing.save()
    return outcome.events[-1]


async def asubscribe(match: str | Sequence[str] | Match | None = None, *,
                     source: str | None = None, since: int | Since | None = None,
                     payload: bool = False, state_dir: str | os.PathLike[str] | None = None,
                     reconnect_s: float = DEFAULT_RECONNECT_S) -> AsyncGenerator[Event, None]:
    """Yield every matching event after this call (or after `since`), then live ones."""
    paths = of_state_dir(state_dir)
    wait = waiting.build(match, source=source, since=since)
    feed = Feed(paths, wait.subscription, cursor=wait.since.start(paths), payload=payload,
                reconnect_s=reconnect_s)
    # Closing this generator closes the connection now, not whenever the feed is collected.
    async with contextlib.aclosing(feed.events()) as events:
        async for event in events:
            yield event


def subscribe(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
              since: int | Since | None = None, payload: bool = False,
              state_dir: str | os.PathLike[str] | None = None,
              reconnect_s: float = DEFAULT_RECONNECT_S) -> Iterator[Event]:
    """Blocking generator form of asubscribe (a plain socket: no event loop, no task per event)."""
    refuse_inside_a_loop("subscribe", "async for event in asubscribe(...)")
    paths = of_state_dir(state_dir)
    wait = waiting.build(match, source=source, since=since)
    feed = Feed(paths, wait.subscription, cursor=wait.since.start(paths), payload=payload,
                reconnect_s=reconnect_s)
    # Closing this generator closes the connection at once.
    with contextlib.closing(feed.blocking_events()) as events:
        yield from events


def refuse_inside_a_loop(name: str, twin: str) -> None:
    """Raise a UsageError naming `twin` when a blocking call is made on a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    msg = f"{name}() blocks, and this thread runs an asyncio loop; use `{twin}` instead"
    raise UsageError(msg)

