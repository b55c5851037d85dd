"""A watch hands over each matching event and ends at its count or its until event."""

from __future__ import annotations

from pathlib import Path

import pytest

from waitbus.consumers.watch import Watch
from waitbus.errors import UsageError
from waitbus.event import Event
from waitbus.match import AnyOf, Match
from waitbus.paths import resolve
from waitbus.sources import emitter

FAILURES = AnyOf((Match.of(['conclusion="failure"'], source="ci"),))


def stored(tmp_path: Path, *drafts: tuple[str, str, str | None]) -> list[Event]:
    paths = resolve(tmp_path / "s")
    return [emitter.append(paths, emitter.draft(source, type, conclusion=conclusion))[0]
            for source, type, conclusion in drafts]


def test_count_ends_the_watch_with_the_counted_events(tmp_path: Path) -> None:
    first, other, second = stored(tmp_path, ("ci", "build", "failure"),
                                  ("ci", "build", "success"), ("ci", "lint", "failure"))
    judge = Watch(FAILURES, count=2).judge()
    assert judge(first) == ()
    assert judge(other) == ()
    assert judge(second) == (first, second)


def test_until_ends_the_watch_with_its_own_event(tmp_path: Path) -> None:
    failed, deployed = stored(tmp_path, ("ci", "build", "failure"), ("ci", "deploy", "success"))
    until = Match.of(['type="deploy"'], source="ci")
    watch = Watch(FAILURES, until=until)
    assert watch.subscription == AnyOf((*FAILURES.matches_, until))
    judge = watch.judge()
    assert judge(failed) == ()
    assert judge(deployed) == (deployed,)


def test_without_count_or_until_nothing_ends_it(tmp_path: Path) -> None:
    events = stored(tmp_path, *[("ci", "build", "failure")] * 3)
    judge = Watch(FAILURES).judge()
    assert [judge(event) for event in events] == [(), (), ()]


@pytest.mark.parametrize("count", [0, -1])
def test_a_count_below_one_is_refused(count: int) -> None:
    with pytest.raises(UsageError, match="1 or more"):
        Watch(FAILURES, count=count)
