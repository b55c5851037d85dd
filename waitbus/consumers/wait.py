"""Waiting: block until events meet a goal, with every clause staying met once met."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Callable
from dataclasses import dataclass

from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed
from waitbus.errors import MatchError, NotRunning, WaitTimeout
from waitbus.event import Event
from waitbus.match import AnyOf, Match
from waitbus.paths import StatePaths


class Mode(enum.Enum):
    ANY = "any"  # one event meeting any match ends the wait
    ALL = "all"  # every match met, possibly by different events over time


@dataclass(frozen=True, slots=True)
class Goal:
    """What a wait waits for."""

    matches: tuple[Match, ...]
    mode: Mode = Mode.ANY

    def __post_init__(self) -> None:
        if not self.matches:
            msg = "a wait needs at least one match (--source, --match, --all-of or --any-of)"
            raise MatchError(msg)

    @property
    def filter(self) -> AnyOf:
        return AnyOf(self.matches)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The events that met the goal, in cursor order, and the feed's cursor after them."""

    events: tuple[Event, ...]
    cursor: int

    @property
    def failed(self) -> bool:
        return any(e.conclusion is not None and e.conclusion.failed for e in self.events)


async def reach(goal: Goal, paths: StatePaths, *, cursor: int, timeout_s: float | None,
                reconnect_s: float = DEFAULT_RECONNECT_S,
                on_live: Callable[[int], None] | None = None) -> Outcome:
    """Wait until `goal` is met by events after `cursor`; raise WaitTimeout after `timeout_s`.

    `on_live` is called with the cursor each time the subscription has caught up with the store.
    """
    feed = Feed(paths, goal.filter, cursor=cursor, reconnect_s=reconnect_s, on_live=on_live)
    met: dict[int, Event] = {}
    try:
        async with asyncio.timeout(timeout_s), contextlib.aclosing(feed.__aiter__()) as events_:
            async for event in events_:
                for index, match in enumerate(goal.matches):
                    if index not in met and match.matches(event):
                        met[index] = event
                if met and (goal.mode is Mode.ANY or len(met) == len(goal.matches)):
                    events = sorted({e.cursor: e for e in met.values()}.values(),
                                    key=lambda e: e.cursor)
                    return Outcome(tuple(events), feed.cursor)
    except TimeoutError:
        if feed.connects == 0:  # not a quiet bus: no daemon ever answered
            raise NotRunning(paths.socket, timeout_s or 0.0) from None
        raise WaitTimeout(timeout_s or 0.0, feed.cursor) from None
    msg = "a feed never ends"
    raise AssertionError(msg)  # pragma: no cover
