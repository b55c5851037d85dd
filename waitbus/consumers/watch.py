"""Watching: hand over every event meeting a match, until a count of them or an ending event."""

from __future__ import annotations

from collections.abc import Callable

from waitbus.errors import UsageError
from waitbus.event import Event
from waitbus.match import AnyOf, Match
from waitbus.record import record


@record
class Watch:
    """Events meeting `match` are handed over; `count` of them, or the first event meeting
    `until` (handed over too), end the watch. With neither it runs until its timeout."""

    match: AnyOf
    until: Match | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            msg = f"a watch's count must be 1 or more, got {self.count}"
            raise UsageError(msg)

    @property
    def subscription(self) -> AnyOf:
        if self.until is None:
            return self.match
        return AnyOf((*self.match.matches_, self.until))

    def judge(self) -> Callable[[Event], tuple[Event, ...]]:
        """A fold over the received events that returns the events ending the watch, or ()."""
        counted: list[Event] = []

        def ended(event: Event) -> tuple[Event, ...]:
            if self.until is not None and self.until.matches(event):
                return (event,)
            if self.match.matches(event):
                counted.append(event)
            return tuple(counted) if len(counted) == self.count else ()
        return ended
