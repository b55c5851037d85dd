"""The one wait builder: every front end's arguments become the same Wait, or a clear error."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from waitbus.consumers import ci
from waitbus.consumers import wait as waiting
from waitbus.consumers.since import NOW, Since
from waitbus.errors import UsageError
from waitbus.match import AllOf, AnyOf, Match, parse_scoped
from waitbus.paths import resolve
from waitbus.sources import agents, emitter

SHA = "3484a3fb816e0859fd6e1cea078d76385ff50625"


def test_match_and_source_make_one_match() -> None:
    wait = waiting.build(['conclusion="failure"'], source="ci", timeout_s=5)
    assert wait.want == AnyOf((Match.of(['conclusion="failure"'], source="ci"),))
    assert (wait.since, wait.timeout_s) == (NOW, 5)


def test_all_of_is_narrowed_by_match_and_source() -> None:
    wait = waiting.build(["fields.n>0"], source="ci", all_of=['type="a"', 'docker:type="b"'])
    assert isinstance(wait.want, AllOf)
    assert [(m.source, [str(c) for c in m.clauses]) for m in wait.want.matches_] == [
        ("ci", ["fields.n>0", 'type="a"']), ("docker", ["fields.n>0", 'type="b"'])]
    assert wait.subscription == AnyOf(wait.want.matches_)


def test_any_of_is_one_event_meeting_any() -> None:
    wait = waiting.build(any_of=['pytest:type="session"', 'docker:type="die"'])
    assert wait.want == AnyOf((parse_scoped('pytest:type="session"'),
                               parse_scoped('docker:type="die"')))


def test_inbox_with_a_correlation_and_a_clause_narrows_both_addressees() -> None:
    wait = waiting.build(["fields.from=\"alice\""], inbox="bob", correlation="c1")
    assert isinstance(wait.want, AnyOf)
    to = [str(m.clauses[1]) for m in wait.want.matches_]
    assert to == ['fields.to="bob"', 'fields.to="*"']
    for one in wait.want.matches_:
        assert one.source == agents.SOURCE
        assert {'fields.correlation="c1"', 'fields.from="alice"'} <= {str(c) for c in one.clauses}


@pytest.mark.parametrize("extra", [{"all_of": ['type="x"']}, {"source": "ci"}])
def test_inbox_refuses_all_of_and_another_source(extra: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="inbox and correlation wait for agent messages"):
        waiting.build(inbox="bob", **extra)  # type: ignore[arg-type]


def test_a_commit_counts_its_whole_history_unless_told_otherwise() -> None:
    wait = waiting.build(sha=SHA.upper(), repo="o/r", now=Since(received_ns=1))
    assert wait.want == ci.Commit("o/r", SHA)
    assert wait.since == Since(cursor=0)
    assert waiting.build(sha=SHA, repo="o/r", since=9).since == Since(cursor=9)


def test_an_abbreviated_sha_subscribes_by_prefix() -> None:
    (one,) = ci.Commit("o/r", SHA[:7]).subscription().matches_
    assert [str(c) for c in one.clauses] == [f'fields.head_sha~"{SHA[:7]}*"']


@pytest.mark.parametrize("extra", [{"source": "ci"}, {"match": ["type=\"x\""]},
                                   {"inbox": "bob"}])
def test_a_commit_wait_stands_alone(extra: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="sha waits on a commit's CI by itself"):
        waiting.build(sha=SHA, repo="o/r", **extra)  # type: ignore[arg-type]


def test_nothing_to_wait_for_and_both_combinations_are_refused() -> None:
    with pytest.raises(UsageError, match="nothing to wait for"):
        waiting.build()
    with pytest.raises(UsageError, match="not both"):
        waiting.build(all_of=['type="a"'], any_of=['type="b"'])
    with pytest.raises(UsageError, match="repo goes with sha"):
        waiting.build(repo="o/r")


def test_since_a_time_starts_after_the_newest_event_received_before_it(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    first, _new = emitter.append(paths, emitter.draft("s", "t", received_at=100))
    emitter.append(paths, emitter.draft("s", "t", received_at=300))
    assert Since(received_ns=200).start(paths) == first.cursor
    assert NOW.start(paths) == first.cursor + 1
    assert Since(cursor=0).start(paths) == 0


def test_a_process_start_lies_before_now() -> None:
    started = Since.process_start().received_ns
    assert started is not None
    assert started <= time.time_ns()


def test_a_matched_wait_resumes_right_after_its_event_not_after_the_rest_of_the_read(
        daemon: DaemonProcess) -> None:
    """Events read in one batch after the matching one still count for the next wait."""
    paths = resolve(daemon.state_dir)
    first, second, third = (emitter.append(paths, emitter.draft("ci", "build"))[0]
                            for _ in range(3))
    wait = waiting.build(source="ci", since=0, timeout_s=10)
    outcome = asyncio.run(waiting.run(wait, paths))
    assert outcome.events == (first,)
    assert outcome.cursor == first.cursor
    again = asyncio.run(waiting.run(waiting.build(source="ci", since=outcome.cursor,
                                                  timeout_s=10), paths))
    assert again.events == (second,)
    assert third.cursor > second.cursor
