"""Waiting: one builder for what a wait wants and where it starts, and the one loop that runs it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

from waitbus.consumers import ci
from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed, Item
from waitbus.consumers.since import NOW, Since
from waitbus.consumers.watch import Watch
from waitbus.errors import NotRunning, Pruned, UsageError, WaitTimeout
from waitbus.event import Event
from waitbus.match import AllOf, AnyOf, Clause, Match, parse_clause, parse_scoped
from waitbus.paths import StatePaths
from waitbus.record import record
from waitbus.sources import agents
from waitbus.store.store import Store
from waitbus.wire import Live, Reset

Want = AnyOf | AllOf | ci.Commit | Watch
OnLive = Callable[[int], Awaitable[None]]
OnEvent = Callable[[Event], None]
_REPLAY_ROWS = 1000


@record
class Wait:
    """One wait: what ends it, where it starts, and how long it may take."""

    want: Want
    since: Since = NOW
    timeout_s: float | None = None

    @property
    def subscription(self) -> AnyOf:
        """The events worth receiving: every event that could help end the wait."""
        if isinstance(self.want, AllOf):
            return AnyOf(self.want.matches_)
        if isinstance(self.want, ci.Commit):
            return self.want.subscription()
        if isinstance(self.want, Watch):
            return self.want.subscription
        return self.want


@record
class Outcome:
    """The events that ended the wait, in cursor order, and the feed's cursor after them.

    `generation` is the store's the cursor belongs to; `replaced` says the store was replaced
    (moved aside and created again) during the wait, or before it in the store of its `since`,
    so the wait counted the new store's events from its start.
    """

    events: tuple[Event, ...]
    cursor: int
    generation: str | None = None
    replaced: bool = False

    @property
    def failed(self) -> bool:
        return any(e.conclusion is not None and e.conclusion.failed for e in self.events)


def build(match: str | Sequence[str] | Match | None = None, *, source: str | None = None,
          all_of: Sequence[str] = (), any_of: Sequence[str] = (), inbox: str | None = None,
          correlation: str | None = None, sha: str | None = None, repo: str | None = None,
          since: int | Since | None = None, now: Since = NOW,
          timeout_s: float | None = None) -> Wait:
    """Turn every front end's arguments into one Wait, or raise a UsageError saying why not.

    `match` is clauses one event must all meet (narrowed to `source`); `all_of` waits until
    every `[source:]clause` has been met, by any events over time; `any_of` for one event
    meeting any. `inbox` and `correlation` wait for agent messages; `sha` (with `repo`, by
    default this checkout's origin) for a commit's GitHub CI to settle. `since` is a cursor or
    a Since; without it a commit's whole history counts and any other wait starts at `now`:
    the head (the default), or `Since.process_start()` for a command started with its work.
    """
    clauses = [match] if isinstance(match, str) else [] if isinstance(match, Match) else list(
        match or ())
    base = match if isinstance(match, Match) else (
        Match.of(clauses, source=source) if (clauses or source) else None)
    if sha is not None or repo is not None:
        want: Want = _commit(sha, repo, narrowed=bool(
            base or all_of or any_of or inbox is not None or correlation is not None))
    elif inbox is not None or correlation is not None:
        if all_of or any_of or source not in (None, agents.SOURCE) or isinstance(match, Match):
            msg = ("inbox and correlation wait for agent messages: narrow them with match, "
                   "not with all-of, any-of or another source")
            raise UsageError(msg)
        want = _agent(inbox, correlation, tuple(parse_clause(text) for text in clauses))
    else:
        want = _events(base, all_of, any_of)
    start = Since(cursor=since) if isinstance(since, int) else since
    if start is None:
        start = Since(cursor=0) if isinstance(want, ci.Commit) else now
    return Wait(want, start, timeout_s)


def _commit(sha: str | None, repo: str | None, *, narrowed: bool) -> ci.Commit:
    if sha is None:
        msg = "repo goes with sha: give the commit to wait on"
        raise UsageError(msg)
    if narrowed:
        msg = ("sha waits on a commit's CI by itself; drop match, source, all-of, any-of, "
               "inbox and correlation")
        raise UsageError(msg)
    return ci.Commit(ci.check_repo(repo) if repo else ci.repo_of_checkout(), ci.check_sha(sha))


def _agent(inbox: str | None, correlation: str | None, also: tuple[Clause, ...]) -> AnyOf:
    if inbox is None:
        assert correlation is not None
        return AnyOf((agents.correlated(correlation, also=also),))
    return agents.inbox(inbox, correlation=correlation, also=also)


def _events(base: Match | None, all_of: Sequence[str], any_of: Sequence[str]) -> AnyOf | AllOf:
    if all_of and any_of:
        msg = "use all-of or any-of, not both"
        raise UsageError(msg)
    scoped = [parse_scoped(text) for text in (*all_of, *any_of)]
    if base is not None and scoped:
        # match and source narrow every clause of an all-of or any-of.
        scoped = [Match(m.source or base.source, (*base.clauses, *m.clauses)) for m in scoped]
    if all_of:
        return AllOf(tuple(scoped))
    if scoped:
        return AnyOf(tuple(scoped))
    if base is None:
        msg = "nothing to wait for: give a match, a source, all-of or any-of"
        raise UsageError(msg)
    return AnyOf((base,))


async def run(wait: Wait, paths: StatePaths, *, reconnect_s: float = DEFAULT_RECONNECT_S,
              on_live: OnLive | None = None, on_event: OnEvent | None = None) -> Outcome:
    """Run `wait` until it ends and return what ended it.

    `on_live` is awaited with the cursor each time the subscription has caught up with the
    store (again after a daemon restart); `on_event` is called with every event received, the
    one ending the wait included, before it is judged.

    Raises:
        WaitTimeout: nothing ended the wait within its timeout; resume from its cursor.
        NotRunning: no daemon answered at all (within the timeout or `reconnect_s`).
    """
    import asyncio  # here: run_blocking's callers start without it

    running = _Running(wait, paths, reconnect_s, on_event)
    if running.ended:
        return running.ended
    if wait.timeout_s == 0:
        raise running.timed_out()
    try:
        async with (asyncio.timeout(wait.timeout_s),
                    contextlib.aclosing(running.feed.__aiter__()) as items):
            async for item in items:
                if ended := running.take(item):
                    return ended
                if isinstance(item, Live) and on_live is not None:
                    await on_live(item.cursor)
    except TimeoutError:
        raise running.timed_out() from None
    msg = "a feed never ends"
    raise AssertionError(msg)  # pragma: no cover


def run_blocking(wait: Wait, paths: StatePaths, *, reconnect_s: float = DEFAULT_RECONNECT_S,
                 on_event: OnEvent | None = None,
                 on_live: Callable[[int], None] | None = None) -> Outcome:
    """`run` on a blocking socket, for a caller with no event loop (`waitbus wait`, wait_for).

    `on_live` is called with the cursor each time the subscription has caught up, once every
    item read with it has been judged: an event in the same read is never held up by it.
    """
    running = _Running(wait, paths, reconnect_s, on_event)
    if running.ended:
        return running.ended
    if wait.timeout_s == 0:
        raise running.timed_out()
    deadline = None if wait.timeout_s is None else time.monotonic() + wait.timeout_s
    batches = running.feed.blocking_batches(deadline)
    try:
        for batch in batches:
            live = None
            for item in batch:
                if ended := running.take(item):
                    return ended
                if isinstance(item, Live):
                    live = item
            if live is not None and on_live is not None:
                on_live(live.cursor)
    except TimeoutError:
        raise running.timed_out() from None
    finally:
        batches.close()
    msg = "a feed never ends"
    raise AssertionError(msg)  # pragma: no cover


class _Running:
    """What `run` and `run_blocking` share: where the wait starts, and the verdict per event."""

    def __init__(self, wait: Wait, paths: StatePaths, reconnect_s: float,
                 on_event: OnEvent | None) -> None:
        self.wait = wait
        self.paths = paths
        self.on_event = on_event
        self.judge = _judge(wait.want)
        cursor = wait.since.start(paths)
        self.ended: Outcome | None = None
        self.generation: str | None = None
        # What is stored already is read straight from the store: a wait over past events
        # (or with --timeout 0) needs no daemon. The feed then starts where the store ended.
        self.replaced, cursor, stored = _replay(self.judge, paths, cursor, wait.since, on_event,
                                                fold_all=isinstance(wait.want, ci.Commit),
                                                generation=self._note)
        if stored:
            self.ended = self._outcome(stored, cursor)
        # The feed's own cursor runs ahead to the end of each read; a wait resumes after the
        # last item it actually took, so events read with the one that ended it still count
        # next time.
        self.cursor = cursor
        self.feed = Feed(paths, wait.subscription, cursor=cursor, reconnect_s=reconnect_s,
                         generation=self.generation)

    def _note(self, generation: str) -> None:
        self.generation = generation

    def _outcome(self, events: tuple[Event, ...], cursor: int) -> Outcome:
        return Outcome(events, cursor, self.generation, self.replaced)

    def take(self, item: Item) -> Outcome | None:
        if isinstance(item, Live):
            self.cursor = max(self.cursor, item.cursor)
            self.generation = item.generation or self.generation
        elif isinstance(item, Event):
            self.cursor = item.cursor
            if self.on_event is not None:
                self.on_event(item)
            if ended := self.judge(item):
                return self._outcome(ended, self.cursor)
        elif isinstance(item, Reset):
            # Every event of a store that replaced the one of the cursor is newer than it.
            self.cursor, self.generation, self.replaced = 0, item.generation, True
        return None

    def timed_out(self) -> NotRunning | WaitTimeout:
        if self.feed.connects == 0 and self.wait.timeout_s != 0:
            # Not a quiet bus: no daemon ever answered (--timeout 0 asks only the store).
            return NotRunning(self.paths.socket, self.wait.timeout_s or 0.0)
        timed_out = WaitTimeout(self.wait.timeout_s or 0.0, self.cursor)
        timed_out.generation, timed_out.replaced = self.generation, self.replaced
        return timed_out


Judge = Callable[[Event], tuple[Event, ...]]


def _judge(want: Want) -> Judge:
    """A fold over the received events that returns the events ending the wait, or ()."""
    if isinstance(want, ci.Commit):
        tally = ci.Tally(want.repo, want.sha)

        def settled(event: Event) -> tuple[Event, ...]:
            tally.observe(event)
            verdict = tally.verdict()
            return () if verdict is None else (verdict,)
        return settled
    if isinstance(want, Watch):
        return want.judge()
    if isinstance(want, AnyOf):
        return lambda event: (event,) if want.matches(event) else ()
    met: dict[int, Event] = {}

    def every(event: Event) -> tuple[Event, ...]:
        for index, one in enumerate(want.matches_):
            if index not in met and one.matches(event):
                met[index] = event
        if len(met) < len(want.matches_):
            return ()
        return tuple(sorted({e.cursor: e for e in met.values()}.values(), key=lambda e: e.cursor))
    return every


def _replay(judge: Judge, paths: StatePaths, cursor: int, since: Since,
            on_event: OnEvent | None, *, fold_all: bool,
            generation: Callable[[str], None]) -> tuple[bool, int, tuple[Event, ...]]:
    """Judge the stored events after `cursor`; return whether the cursor was of a store this
    one replaced (the read then starts at 0), the cursor reached, and what ended the wait, if
    anything did. `fold_all` reads them all and asks once at the end (a commit: a re-run
    stored later overrides an earlier attempt's verdict); otherwise the first event that ends
    the wait ends the read. `generation` is told the store's.

    Raises:
        Pruned: retention deleted events after `cursor`.
    """
    ended: tuple[Event, ...] = ()
    if not paths.store.exists():
        return False, cursor, ended
    with Store(paths, read_only=True) as store:
        generation(store.generation)
        replaced = _of_another_store(store, cursor, since)
        cursor = 0 if replaced else cursor
        boundary = store.pruned().through
        if cursor < boundary:
            raise Pruned(cursor, boundary)
        while batch := store.read_after(cursor, limit=_REPLAY_ROWS):
            for event in batch:
                cursor = event.cursor
                if on_event is not None:
                    on_event(event)
                ended = judge(event)
                if ended and not fold_all:
                    return replaced, cursor, ended
    return replaced, cursor, ended


def _of_another_store(store: Store, cursor: int, since: Since) -> bool:
    """Whether `since`'s cursor belongs to a store this one replaced: it names another
    generation, or it is above every cursor this store handed out (cursors are never reused)."""
    if since.cursor is None:
        return False
    if since.generation is not None and since.generation != store.generation:
        stale = f"is of the store of generation {since.generation}"
    elif cursor > store.newest():
        stale = f"is beyond the newest cursor of this store, {store.newest()}"
    else:
        return False
    import logging  # loaded already by the feed

    logging.getLogger(__name__).warning(
        "cursor %d %s: the store was replaced (moved aside and created again; its generation "
        "is %s), so every event in it is newer than that cursor; counting them from its start",
        cursor, stale, store.generation)
    return True
