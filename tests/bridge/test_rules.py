"""What crosses: subjects, and the export and import rules (agent messages opt in)."""

from __future__ import annotations

from pathlib import Path

from waitbus.bridge import subjects
from waitbus.bridge.config import Settings
from waitbus.event import Event
from waitbus.match import AnyOf, parse_scoped
from waitbus.paths import resolve


def _event(source: str = "ci", origin: str = "local") -> Event:
    return Event(1, "d", source, "build", None, None, 0, {}, origin=origin)


def test_subjects_are_one_token_per_part_whatever_the_names() -> None:
    subject = subjects.of("a", "my.source", "type with spaces>*")
    assert subject == "waitbus.a.my%2Esource.type%20with%20spaces%3E%2A"
    assert subjects.host_of(subject) == "a"
    assert subjects.host_of("other.a.b.c") is None
    assert subjects.durable("a") == "waitbus-a"


def test_only_local_events_leave_and_agent_messages_only_when_asked(tmp_path: Path) -> None:
    plain = Settings(paths=resolve(tmp_path), url="nats://x", host="a")
    chatty = Settings(paths=resolve(tmp_path), url="nats://x", host="a", agents=True)
    assert plain.exports(_event())
    assert not plain.exports(_event(origin="b"))
    assert not plain.exports(_event("agent"))
    assert chatty.exports(_event("agent"))
    assert not chatty.exports(_event("agent", origin="b"))
    assert not plain.accepts(_event("agent", origin="b"))
    assert chatty.accepts(_event("agent", origin="b"))


def test_export_and_import_filters_are_any_of_their_clauses(tmp_path: Path) -> None:
    settings = Settings(paths=resolve(tmp_path), url="nats://x", host="a",
                        export=AnyOf((parse_scoped('source="github"'),
                                      parse_scoped("docker:cursor>0"))),
                        accept=AnyOf((parse_scoped('origin="trusted"'),)))
    assert settings.exports(_event("github"))
    assert settings.exports(_event("docker"))
    assert not settings.exports(_event("ci"))
    assert settings.accepts(_event(origin="trusted"))
    assert not settings.accepts(_event(origin="other"))
