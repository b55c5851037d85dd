"""The predicate grammar: parsing, comparison semantics, and the errors users see."""

from __future__ import annotations

import pytest

from waitbus.errors import MatchError
from waitbus.event import Conclusion, Event
from waitbus.match import AllOf, AnyOf, Match, parse_clause, parse_scoped


def make_event(**overrides: object) -> Event:
    base: dict[str, object] = {
        "cursor": 7, "delivery_id": "d", "source": "ci", "type": "build", "subject": "o/r",
        "conclusion": Conclusion.FAILURE, "received_at": 1, "fields": {
            "branch": "main", "attempt": 2, "ratio": 0.5, "ok": True, "nested": {"k": "v"},
            "none": None,
        },
    }
    base.update(overrides)
    return Event(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('conclusion="failure"', True),
        ('conclusion!="success"', True),
        ('fields.branch="main"', True),
        ('fields.branch~"ma*"', True),
        ('fields.branch~"x*"', False),
        ("fields.attempt=2", True),
        ("fields.attempt=2.0", True),
        ("fields.attempt>1", True),
        ("fields.attempt>=3", False),
        ("fields.ratio<1", True),
        ("fields.ratio<=0.5", True),
        ("fields.ok=true", True),
        ("fields.ok=1", False),
        ("fields.attempt=true", False),
        ('fields.attempt="2"', False),
        ("fields.none=null", True),
        ('fields.nested.k="v"', True),
        ('subject~"o/*"', True),
        ("cursor>6", True),
        ('fields.branch<"n"', True),
        ('fields.branch>1', False),
    ],
)
def test_clause_compares_json_values(text: str, expected: bool) -> None:
    assert parse_clause(text).matches(make_event()) is expected


@pytest.mark.parametrize("text", ['fields.missing="x"', "fields.missing!=1", 'fields.nested.x="v"'])
def test_missing_key_never_matches(text: str) -> None:
    assert not parse_clause(text).matches(make_event())


def test_not_equal_needs_the_key_present() -> None:
    assert not parse_clause("fields.absent!=null").matches(make_event())


def test_conclusion_none_matches_null() -> None:
    assert parse_clause("conclusion=null").matches(make_event(conclusion=None))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty clause"),
        ("   ", "empty clause"),
        ("conclusion", "no operator"),
        ("=1", "no operator"),
        ("conclusion=failure", "quote strings"),
        ("conclusion=", "missing value"),
        ("color=1", "unknown key 'color'"),
        ("source.x=1", "no sub-keys"),
        ("fields.a=~1", "unknown operator"),
        ("fields.a~1", "quoted glob"),
        ("fields.a=[1]", "not [1]"),
        ('ci:fields.a=1', "only in --all-of/--any-of"),
        ("fields..a=1", "not a dotted key"),
    ],
)
def test_malformed_predicate_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(MatchError, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_clause(text)


def test_scoped_clause_limits_the_source() -> None:
    scoped = parse_scoped('pytest:fields.branch="main"')
    assert scoped.source == "pytest"
    assert not scoped.matches(make_event())
    assert scoped.matches(make_event(source="pytest"))


def test_empty_combinations_are_refused() -> None:
    with pytest.raises(MatchError, match="empty"):
        AnyOf(())
    with pytest.raises(MatchError, match="empty"):
        AllOf(())
    with pytest.raises(MatchError, match="empty match"):
        Match(None, ())


def test_match_requires_every_clause() -> None:
    both = Match.of(['fields.branch="main"', "fields.attempt=3"], source="ci")
    assert not both.matches(make_event())
    assert Match.of(['fields.branch="main"', "fields.attempt=2"], source="ci").matches(
        make_event())


def test_any_of_round_trips_through_json() -> None:
    original = AnyOf((Match.of(['fields.branch~"m*"'], source="ci"),
                      parse_scoped("docker:cursor>1")))
    again = AnyOf.from_json(original.to_json())
    assert again == original


def test_origin_tells_local_events_from_imported_ones() -> None:
    local_only = Match.of(['origin="local"'])
    assert local_only.matches(make_event())
    assert not local_only.matches(make_event(origin="hostb"))
    assert Match.of(['origin="hostb"']).matches(make_event(origin="hostb"))
