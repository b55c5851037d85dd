"""A record behaves as the frozen, slotted dataclass it is declared like (checked side by side)."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from waitbus.record import FrozenInstanceError, field, record, replace


def _counter() -> list[int]:
    return [1]


@record
class Rec:
    """A record with every kind of field."""

    name: str
    count: int = 0
    tags: list[int] = field(default_factory=_counter, compare=False)
    note: str = field(default="", repr=False, compare=False)
    derived: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", f"{self.name}:{self.count}")


@dataclasses.dataclass(frozen=True, slots=True)
class Dat:
    """The same, as a dataclass."""

    name: str
    count: int = 0
    tags: list[int] = dataclasses.field(default_factory=_counter, compare=False)
    note: str = dataclasses.field(default="", repr=False, compare=False)
    derived: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", f"{self.name}:{self.count}")


# The same calls made of both classes: keyword, positional, a factory overridden, a default kept.
CALLS: list[Callable[[Any], Any]] = [
    lambda cls: cls(name="a"),
    lambda cls: cls("a", 2),
    lambda cls: cls("a", 2, [3], note="n"),
    lambda cls: cls(name="b", count=5),
]


@pytest.mark.parametrize("call", CALLS)
def test_a_record_is_built_shown_and_compared_as_the_dataclass_is(
        call: Callable[[Any], Any]) -> None:
    rec, dat = call(Rec), call(Dat)
    fields = ("name", "count", "tags", "note", "derived")
    assert [getattr(rec, f) for f in fields] == [getattr(dat, f) for f in fields]
    assert repr(rec).removeprefix("Rec") == repr(dat).removeprefix("Dat")
    twin, twin_dat = replace(rec, note="other"), dataclasses.replace(dat, note="other")
    assert (rec == twin) is (dat == twin_dat) is True  # note and tags are not compared
    assert hash(rec) == hash(twin)
    assert hash(twin) == hash(twin_dat)
    assert rec != Rec("zzz")
    assert rec != dat  # another class is never equal
    assert Rec.__match_args__ == Dat.__match_args__
    assert vars(Rec)["__slots__"] == ("name", "count", "tags", "note", "derived")


def test_a_default_factory_makes_a_new_value_per_record() -> None:
    first, second = Rec("a"), Rec("b")
    assert first.tags == [1]
    assert first.tags is not second.tags


def test_a_record_refuses_assignment_deletion_and_new_attributes() -> None:
    rec = Rec("a")
    with pytest.raises(FrozenInstanceError):
        rec.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del rec.count
    with pytest.raises(AttributeError):
        rec.other = 1  # type: ignore[attr-defined]
    assert not hasattr(rec, "__dict__")


def test_a_record_needs_its_fields_as_the_dataclass_does() -> None:
    with pytest.raises(TypeError):
        Rec()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Dat()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Rec("a", derived="x")  # type: ignore[call-arg]


def test_a_record_matches_by_position_and_keyword() -> None:
    match Rec("a", 3):
        case Rec("a", 3, tags=[1]):
            pass
        case _:
            pytest.fail("the record did not match its own fields")


def test_replace_copies_with_changes_and_reruns_post_init() -> None:
    rec = Rec("a", 1, note="kept")
    moved = replace(rec, count=2)
    assert (moved.name, moved.count, moved.note, moved.derived) == ("a", 2, "kept", "a:2")
    assert rec.count == 1
    with pytest.raises(ValueError, match="derived"):
        replace(rec, derived="x")


def test_a_field_without_a_default_after_one_with_one_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default"):
        @record
        class Bad:
            first: int = 0
            second: int  # type: ignore[misc]


def test_a_record_cannot_extend_a_record() -> None:
    with pytest.raises(TypeError, match="cannot extend"):
        @record
        class Child(Rec):
            extra: int = 0


def test_the_boundary_types_survive_pickle_and_the_dataclasses_functions() -> None:
    from waitbus.event import Event

    event = Event(1, "d", "s", "t", None, None, 2, {"k": 1})
    assert pickle.loads(pickle.dumps(event)) == event
    assert dataclasses.is_dataclass(event)
    assert [f.name for f in dataclasses.fields(Rec)] == [f.name for f in dataclasses.fields(Dat)]
    assert dataclasses.asdict(event)["fields"] == {"k": 1}
    assert dataclasses.replace(event, payload="p") == Event(1, "d", "s", "t", None, None, 2,
                                                            {"k": 1}, "p")
    assert dataclasses.replace(Rec("a"), count=4).derived == "a:4"
