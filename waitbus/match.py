"""Which events a consumer wants: a Clause (`key OP value`), a Match (the clauses one event
meets, optionally from one source), and their combinations AnyOf and AllOf."""

from __future__ import annotations

import enum
import fnmatch
import json
import math
import re
from collections.abc import Iterable

from waitbus.errors import MatchError
from waitbus.event import JSON, Event, is_number
from waitbus.record import record

TOP_LEVEL_KEYS = (
    "cursor",
    "delivery_id",
    "source",
    "type",
    "subject",
    "conclusion",
    "received_at",
    "origin",
    "fields",
)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_SOURCE = re.compile(r"[A-Za-z0-9_.-]+")
_OP_CHARS = "=!<>~"


class Op(enum.StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    GLOB = "~"


_OPS_LONGEST_FIRST = sorted(Op, key=lambda op: -len(op.value))
_MISSING = object()


@record
class Clause:
    """One comparison of an event's key against a JSON value."""

    key: tuple[str, ...]
    op: Op
    value: JSON

    def matches(self, event: Event) -> bool:
        found = _lookup(event, self.key)
        if found is _MISSING:
            return False
        return _compare(found, self.op, self.value)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{'.'.join(self.key)}{self.op}{json.dumps(self.value)}"


@record
class Match:
    """Clauses that one event must all meet, optionally limited to one source."""

    source: str | None
    clauses: tuple[Clause, ...]

    def __post_init__(self) -> None:
        if self.source is None and not self.clauses:
            msg = "a match needs a source or at least one clause; an empty match is refused"
            raise MatchError(msg)

    @classmethod
    def of(cls, clauses: Iterable[str] = (), *, source: str | None = None) -> Match:
        """Parse `key OP value` texts into the match one event meets by meeting them all."""
        return cls(source, tuple(parse_clause(c) for c in clauses))

    def matches(self, event: Event) -> bool:
        if self.source is not None and event.source != self.source:
            return False
        # Loops, not all()/any() over a generator: this runs per event per subscriber, in the
        # daemon and again in the client, and a generator costs more than most clauses.
        for clause in self.clauses:  # noqa: SIM110
            if not clause.matches(event):
                return False
        return True

    def __str__(self) -> str:
        body = " and ".join(str(c) for c in self.clauses) or "*"
        return f"{self.source}:{body}" if self.source else body

    def to_json(self) -> JSON:
        return {"source": self.source, "clauses": [str(c) for c in self.clauses]}

    @classmethod
    def from_json(cls, obj: JSON) -> Match:
        if not isinstance(obj, dict):
            msg = "a match must be a JSON object with 'source' and 'clauses'"
            raise MatchError(msg)
        source, clauses = obj.get("source"), obj.get("clauses", [])
        if source is not None and not isinstance(source, str):
            msg = "a match's source must be a string or null"
            raise MatchError(msg)
        if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
            msg = "a match's clauses must be a list of strings"
            raise MatchError(msg)
        return cls(source, tuple(parse_clause(c) for c in clauses if isinstance(c, str)))


@record
class AnyOf:
    """Matches an event that meets any one of its matches; never empty."""

    matches_: tuple[Match, ...]

    def __post_init__(self) -> None:
        if not self.matches_:
            msg = "any-of needs at least one match; an empty combination is refused"
            raise MatchError(msg)

    def matches(self, event: Event) -> bool:
        for match in self.matches_:  # noqa: SIM110 (see Match.matches)
            if match.matches(event):
                return True
        return False

    def to_json(self) -> JSON:
        return [m.to_json() for m in self.matches_]

    @classmethod
    def from_json(cls, obj: JSON) -> AnyOf:
        if not isinstance(obj, list):
            msg = "a filter must be a JSON list of matches"
            raise MatchError(msg)
        return cls(tuple(Match.from_json(m) for m in obj))


@record
class AllOf:
    """Met once every one of its matches has been met, by one event or several over time.

    Whether that has happened depends on what came before, so an AllOf has no `matches`: a
    wait keeps the tally (`waitbus.consumers.wait`). Never empty.
    """

    matches_: tuple[Match, ...]

    def __post_init__(self) -> None:
        if not self.matches_:
            msg = "all-of needs at least one match; an empty combination is refused"
            raise MatchError(msg)


def parse_clause(text: str) -> Clause:
    """Parse `dotted.key OP json-literal`."""
    source, clause = _split(text, scoped=False)
    assert source is None
    return clause


def parse_scoped(text: str) -> Match:
    """Parse a clause in `source:key OP value` form (the source part is optional)."""
    source, clause = _split(text, scoped=True)
    return Match(source, (clause,))


def _split(text: str, *, scoped: bool) -> tuple[str | None, Clause]:
    stripped = text.strip()
    if not stripped:
        msg = 'empty clause; write key OP value, for example conclusion="failure"'
        raise MatchError(msg)
    at = next((i for i, ch in enumerate(stripped) if ch in _OP_CHARS), -1)
    if at <= 0:
        msg = (
            f"no operator in {_short(text)}; write key OP value with OP one of "
            f"{', '.join(op.value for op in Op)}, for example conclusion=\"failure\""
        )
        raise MatchError(msg)
    left = stripped[:at].strip()
    source: str | None = None
    if ":" in left:
        if not scoped:
            msg = (f"{_short(text)}: a source prefix (source:key) is allowed only in "
                   "--all-of/--any-of")
            raise MatchError(msg)
        source, left = (part.strip() for part in left.split(":", 1))
        if not _SOURCE.fullmatch(source):
            msg = f"{_short(text)}: {source!r} is not a source name"
            raise MatchError(msg)
    op = next(op for op in _OPS_LONGEST_FIRST if stripped.startswith(op.value, at))
    if stripped.startswith(tuple(_OP_CHARS), at + len(op.value)):
        msg = f"{_short(text)}: unknown operator; use one of {', '.join(o.value for o in Op)}"
        raise MatchError(msg)
    key = _parse_key(left, text)
    value = _parse_value(stripped[at + len(op.value) :].strip(), text)
    if op is Op.GLOB and not isinstance(value, str):
        msg = f'{_short(text)}: ~ compares against a quoted glob, for example subject~"owner/*"'
        raise MatchError(msg)
    return source, Clause(key, op, value)


def _parse_key(left: str, text: str) -> tuple[str, ...]:
    if not _KEY.fullmatch(left):
        msg = f"{_short(text)}: {left!r} is not a dotted key such as fields.branch"
        raise MatchError(msg)
    parts = tuple(left.split("."))
    if parts[0] not in TOP_LEVEL_KEYS:
        msg = (
            f"{_short(text)}: unknown key {parts[0]!r}; keys start with one of "
            f"{', '.join(TOP_LEVEL_KEYS)} (normalized facts are under fields., "
            f"for example fields.{left})"
        )
        raise MatchError(msg)
    if parts[0] != "fields" and len(parts) > 1:
        msg = f"{_short(text)}: {parts[0]} has no sub-keys; only fields.* can be dotted"
        raise MatchError(msg)
    return parts


def _parse_value(raw: str, text: str) -> JSON:
    if not raw:
        msg = f"{_short(text)}: missing value after the operator"
        raise MatchError(msg)
    try:
        value: JSON = json.loads(raw)
    except RecursionError:
        msg = f"{_short(text)}: the value is nested too deeply; compare against a scalar"
        raise MatchError(msg) from None
    except ValueError:
        example = f"{text[: len(text) - len(raw)].strip()}\"{raw}\"" if len(text) <= 80 else ""
        msg = (f"{_short(text)}: {_short(raw)} is not a JSON literal; quote strings"
               + (f", for example '{example}'" if example else ""))
        raise MatchError(msg) from None
    if isinstance(value, dict | list):
        msg = f"{_short(text)}: compare against a string, number, boolean or null, not {raw[:40]}"
        raise MatchError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{_short(text)}: {raw[:40]} is not a finite number"
        raise MatchError(msg)
    return value


def _short(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:80]) + "..."


def _lookup(event: Event, key: tuple[str, ...]) -> object:
    head = key[0]
    if head != "fields":
        value = getattr(event, head)
        if head == "conclusion" and value is not None:
            return str(value)
        return value
    node: object = event.fields
    for part in key[1:]:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _compare(found: JSON, op: Op, want: JSON) -> bool:
    if op is Op.GLOB:
        return isinstance(found, str) and isinstance(want, str) and fnmatch.fnmatchcase(found, want)
    if op in (Op.EQ, Op.NE):
        equal = _same_kind(found, want) and found == want
        return equal if op is Op.EQ else not equal
    if is_number(found) and is_number(want):
        a, b = float(found), float(want)  # type: ignore[arg-type]
    elif isinstance(found, str) and isinstance(want, str):
        a, b = found, want  # type: ignore[assignment]
    else:
        return False
    if op is Op.LT:
        return a < b
    if op is Op.LE:
        return a <= b
    if op is Op.GT:
        return a > b
    return a >= b


def _same_kind(a: JSON, b: JSON) -> bool:
    """JSON equality: true is not 1, but 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if is_number(a) and is_number(b):
        return True
    return type(a) is type(b)


# Every event: an empty filter is refused, so "everything" is said out loud (cursors start at 1).
EVERYTHING = AnyOf((Match(None, (parse_clause("cursor>0"),)),))
