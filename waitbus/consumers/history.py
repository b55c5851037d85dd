"""Looking back: the newest stored events that match, without a daemon."""

from __future__ import annotations

from waitbus.event import Event
from waitbus.match import AnyOf
from waitbus.paths import StatePaths
from waitbus.store.store import Store

_BATCH_ROWS = 2048


def latest_matching(store: Store, wanted: AnyOf, count: int, *,
                    before: int | None = None) -> list[Event]:
    """The newest `count` events below cursor `before` that `wanted` matches, oldest first."""
    found: list[Event] = []
    cursor = store.head() + 1 if before is None else before
    while len(found) < count:
        rows = store.read_before(cursor, limit=_BATCH_ROWS)
        if not rows:
            break
        found.extend(e for e in rows if wanted.matches(e))
        cursor = rows[-1].cursor
    return list(reversed(found[:count]))


def unseen_sources(paths: StatePaths, wanted: AnyOf) -> list[str]:
    """The sources `wanted` names that no stored event comes from (a misspelt name, say)."""
    named = sorted({m.source for m in wanted.matches_ if m.source is not None})
    if not named:
        return []
    if not paths.store.exists():
        return named
    with Store(paths, read_only=True) as store:
        return [source for source in named if not store.has_source(source)]
