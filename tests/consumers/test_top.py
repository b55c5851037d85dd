"""The `waitbus top` model: rows per source and subject, the one-minute rate, daemon state."""

from __future__ import annotations

from waitbus.cli.commands.top import render
from waitbus.consumers.top import TopView
from waitbus.event import Conclusion, Event
from waitbus.wire import SourceInfo, SourceState, StatusInfo, SubscriberInfo

NOW = 1_800_000_000 * 10**9


def _event(cursor: int, source: str = "ci", subject: str | None = "o/r", *,
           age_s: float = 0.0, conclusion: Conclusion | None = None) -> Event:
    return Event(cursor, f"d{cursor}", source, "build", subject, conclusion,
                 NOW - int(age_s * 1e9), {})


def test_rows_group_by_source_and_subject_newest_first() -> None:
    view = TopView()
    for event in (_event(1), _event(2, subject="x/y"), _event(3), _event(4, source="agent")):
        view.add(event)
    snap = view.snapshot(NOW)
    assert [(r.source, r.subject, r.count, r.last.cursor) for r in snap.rows] == [
        ("agent", "o/r", 1, 4), ("ci", "o/r", 2, 3), ("ci", "x/y", 1, 2)]
    assert snap.total == 4
    assert [e.cursor for e in snap.recent] == [1, 2, 3, 4]


def test_rate_counts_only_the_last_minute() -> None:
    view = TopView()
    for cursor, age_s in ((1, 120.0), (2, 61.0), (3, 30.0), (4, 1.0)):
        view.add(_event(cursor, age_s=age_s))
    assert view.snapshot(NOW).rate_per_min == 2.0


def test_rows_are_bounded_by_dropping_the_stalest() -> None:
    view = TopView(max_rows=2)
    for cursor in range(1, 4):
        view.add(_event(cursor, subject=f"s{cursor}"))
    assert [r.subject for r in view.snapshot(NOW).rows] == ["s3", "s2"]


def test_render_shows_the_daemon_pid_head_and_worst_lag() -> None:
    view = TopView()
    view.set_status(StatusInfo(
        pid=7, state_dir="/s", head=40, started_at=1, fanned_out=40,
        subscribers=(SubscriberInfo(1, 37, 3, True, 1), SubscriberInfo(1, 40, 0, True, 1)),
        sources={"fs": SourceInfo(SourceState.RUNNING)}))
    (header, *_rest) = render(view.snapshot(NOW), "/s", 200, 30, colour=False)
    assert "pid 7  head #40  subscribers 2  max lag 3  lagged 2" in header


def test_render_fits_the_terminal_and_says_when_the_daemon_is_down() -> None:
    view = TopView()
    for cursor in range(1, 100):
        view.add(_event(cursor, subject=f"subject-{cursor}", conclusion=Conclusion.FAILURE))
    view.set_down("no daemon")
    lines = render(view.snapshot(NOW), "/state", 60, 20, colour=False)
    assert len(lines) <= 20
    assert all(len(text) <= 60 for text in lines)
    assert "daemon: down (no daemon)" in lines[0]
    assert "subject-99" in "\n".join(lines)


def test_render_colours_failures_red_only_when_asked() -> None:
    view = TopView()
    view.add(_event(1, conclusion=Conclusion.FAILURE))
    assert any("\x1b[31m" in text for text in render(view.snapshot(NOW), "/s", 120, 30, True))
    assert not any("\x1b[" in text for text in render(view.snapshot(NOW), "/s", 120, 30, False))
