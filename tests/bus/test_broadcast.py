"""Fan-out from an in-process daemon: every subscriber gets what it matches, once, in order."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from tests.bus.inprocess import serving
from waitbus.consumers.feed import Feed
from waitbus.event import Draft, Event
from waitbus.match import EVERYTHING, AnyOf, Match
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.wire import Live

BOUND_S = 30.0


def test_each_of_many_subscribers_gets_exactly_what_it_matches(state_dir: Path) -> None:
    paths = resolve(state_dir)
    wants = [EVERYTHING, AnyOf((Match.of(source="a"),)), AnyOf((Match.of(source="b"),)),
             AnyOf((Match.of(['fields.n>=90'], source="a"),))] * 5
    sources = ["a", "b", "c"]
    total = 120

    async def follow(feed: Feed, live: asyncio.Event, expected: int) -> list[Event]:
        got: list[Event] = []
        async with contextlib.aclosing(feed.__aiter__()) as items:
            async for item in items:
                if isinstance(item, Live):
                    live.set()
                elif isinstance(item, Event):
                    got.append(item)
                    if len(got) == expected:
                        return got
        return got

    async def main() -> list[list[Event]]:
        events = [emitter.draft(sources[n % 3], "x", fields={"n": n}) for n in range(total)]
        expected = [sum(1 for d in events if want.matches(_as_event(d))) for want in wants]
        async with serving(paths), asyncio.timeout(BOUND_S):
            lives = [asyncio.Event() for _ in wants]
            tasks = [asyncio.create_task(follow(Feed(paths, want, cursor=0), live, n))
                     for want, live, n in zip(wants, lives, expected, strict=True)]
            await asyncio.gather(*(live.wait() for live in lives))
            for draft in events:  # every subscriber is live: these go out through fan-out
                emitter.append(paths, draft)
            return await asyncio.gather(*tasks)

    received = asyncio.run(main())
    for want, got in zip(wants, received, strict=True):
        assert all(want.matches(event) for event in got)
        cursors = [event.cursor for event in got]
        assert cursors == sorted(set(cursors))
    assert [e.fields["n"] for e in received[0]] == list(range(total))
    assert [e.fields["n"] for e in received[3]] == [n for n in range(90, total) if n % 3 == 0]


def _as_event(draft: Draft) -> Event:
    return Event(1, draft.delivery_id, draft.source, draft.type, draft.subject,
                 draft.conclusion, draft.received_at, draft.fields)
