"""The Python API: emit, wait and subscribe, each with a native asyncio twin."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from pathlib import Path

from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed, start_cursor
from waitbus.consumers.wait import Goal, Mode, reach
from waitbus.errors import UsageError
from waitbus.event import JSON, Conclusion, Event
from waitbus.match import Match, parse_scoped
from waitbus.match import match as conjunction
from waitbus.paths import StatePaths, resolve
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
    return emitter.append(_paths(state_dir), item)


async def aemit(source: str, type: str, *, subject: str | None = None,
                conclusion: Conclusion | str | None = None,
                fields: Mapping[str, JSON] | None = None, payload: str | None = None,
                delivery_id: str | None = None,
                state_dir: str | os.PathLike[str] | None = None) -> Event:
    """The asyncio twin of emit: one short SQLite commit on the loop's thread."""
    return emit(source, type, subject=subject, conclusion=conclusion, fields=fields,
                payload=payload, delivery_id=delivery_id, state_dir=state_dir)


async def await_for(match: str | Sequence[str] | Match | None = None, *,
                    source: str | None = None, all_of: Sequence[str] = (),
                    any_of: Sequence[str] = (), timeout_s: float | None = None,
                    since: int | None = None, state_dir: str | os.PathLike[str] | None = None,
                    reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Wait for a matching event committed after this call (or after cursor `since`).

    Returns the event that completed the wait. Raises WaitTimeout after `timeout_s`, and
    NotRunning when no daemon answers within `reconnect_s`.
    """
    paths = resolve(_path(state_dir))
    goal = goal_of(match, source=source, all_of=all_of, any_of=any_of)
    outcome = await reach(goal, paths, cursor=start_cursor(paths, since), timeout_s=timeout_s,
                          reconnect_s=reconnect_s)
    return outcome.events[-1]


def wait_for(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
             all_of: Sequence[str] = (), any_of: Sequence[str] = (),
             timeout_s: float | None = None, since: int | None = None,
             state_dir: str | os.PathLike[str] | None = None,
             reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Blocking form of await_for; call it from code that is not already in an event loop."""
    _refuse_inside_a_loop("wait_for", "await await_for(...)")
    return asyncio.run(await_for(match, source=source, all_of=all_of, any_of=any_of,
                                 timeout_s=timeout_s, since=since, state_dir=state_dir,
                                 reconnect_s=reconnect_s))


async def asubscribe(match: str | Sequence[str] | Match | None = None, *,
                     source: str | None = None, since: int | None = None,
                     payload: bool = False, state_dir: str | os.PathLike[str] | None = None,
                     reconnect_s: float = DEFAULT_RECONNECT_S) -> AsyncGenerator[Event, None]:
    """Yield every matching event after this call (or after `since`), then live ones."""
    paths = resolve(_path(state_dir))
    goal = goal_of(match, source=source)
    feed = Feed(paths, goal.filter, cursor=start_cursor(paths, since), payload=payload,
                reconnect_s=reconnect_s)
    # Closing this generator closes the connection now, not whenever the feed is collected.
    async with contextlib.aclosing(feed.__aiter__()) as events:
        async for event in events:
            yield event


def subscribe(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
              since: int | None = None, payload: bool = False,
              state_dir: str | os.PathLike[str] | None = None,
              reconnect_s: float = DEFAULT_RECONNECT_S) -> Iterator[Event]:
    """Blocking generator form of asubscribe."""
    stream = asubscribe(match, source=source, since=since, payload=payload,
                        state_dir=state_dir, reconnect_s=reconnect_s)
    _refuse_inside_a_loop("subscribe", "async for event in asubscribe(...)")
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                event = loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                return
            yield event
    finally:
        loop.run_until_complete(stream.aclose())
        loop.close()


def goal_of(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
            all_of: Sequence[str] = (), any_of: Sequence[str] = ()) -> Goal:
    """Turn the API's and the CLI's arguments into one Goal."""
    if all_of and any_of:
        msg = "use --all-of or --any-of, not both"
        raise UsageError(msg)
    base: Match | None
    if isinstance(match, Match):
        base = match
    else:
        clauses = [match] if isinstance(match, str) else list(match or ())
        base = conjunction(clauses, source=source) if (clauses or source) else None
    scoped = [parse_scoped(text) for text in (*all_of, *any_of)]
    if base is not None and scoped:
        # --match and --source narrow every clause of an all-of or any-of.
        scoped = [Match(m.source or base.source, (*base.clauses, *m.clauses)) for m in scoped]
    if scoped:
        return Goal(tuple(scoped), Mode.ALL if all_of else Mode.ANY)
    if base is None:
        msg = "nothing to wait for: give a match, a source, all_of or any_of"
        raise UsageError(msg)
    return Goal((base,))


def _refuse_inside_a_loop(name: str, twin: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    msg = f"{name}() blocks, and this thread runs an asyncio loop; use `{twin}` instead"
    raise UsageError(msg)


def _path(state_dir: str | os.PathLike[str] | None) -> Path | None:
    return None if state_dir is None else Path(state_dir)


def _paths(state_dir: str | os.PathLike[str] | None) -> StatePaths:
    """Resolve once per directory: path parsing was a sixth of a hot emit loop's time."""
    if state_dir is None:
        return resolve()  # the environment may change between calls; do not cache it
    return _explicit_paths(os.fspath(state_dir))


@functools.lru_cache(maxsize=16)
def _explicit_paths(state_dir: str) -> StatePaths:
    return resolve(Path(state_dir))
