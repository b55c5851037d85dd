"""The event model: what every source produces and every consumer receives."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from waitbus.errors import UsageError

# typing is left out at run time: every `waitbus emit` pays for each module it imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

JSON: TypeAlias = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
JSONObject: TypeAlias = dict[str, JSON]

MAX_FIELDS_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_TEXT_CHARS = 1024
# The origin of an event committed on this host; an imported event names the host it came from.
LOCAL = "local"


class Conclusion(enum.StrEnum):
    """How a finished thing ended; absent while it has not ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def failed(self) -> bool:
        return self is not Conclusion.SUCCESS


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before the store has given it a cursor."""

    source: str
    type: str
    delivery_id: str
    received_at: int
    subject: str | None = None
    conclusion: Conclusion | None = None
    fields: JSONObject = field(default_factory=dict)
    payload: str | None = None
    origin: str = LOCAL

    def __post_init__(self) -> None:
        _check_text("source", self.source)
        _check_text("type", self.type)
        _check_text("delivery_id", self.delivery_id)
        _check_text("origin", self.origin)
        if self.subject is not None:
            _check_text("subject", self.subject, allow_empty=True)
        given: object = self.fields  # callers may pass anything at runtime
        if not isinstance(given, dict):
            msg = f"fields must be a JSON object, got {type(given).__name__}"
            raise UsageError(msg)
        size = len(dump_json(self.fields))
        if size > MAX_FIELDS_BYTES:
            msg = (
                f"fields take {size} bytes encoded, over the {MAX_FIELDS_BYTES}-byte limit; "
                "keep matchable facts in fields and put the rest in the payload"
            )
            raise UsageError(msg)
        if self.payload is not None and len(self.payload) > MAX_PAYLOAD_BYTES:
            msg = f"payload is over the {MAX_PAYLOAD_BYTES}-byte limit"
            raise UsageError(msg)


@dataclass(frozen=True, slots=True)
class Event:
    """A committed event; `cursor` is its place in the one order every consumer sees."""

    cursor: int
    delivery_id: str
    source: str
    type: str
    subject: str | None
    conclusion: Conclusion | None
    received_at: int
    fields: JSONObject
    payload: str | None = None
    origin: str = LOCAL

    def to_json(self) -> JSONObject:
        """Return the event as a JSON object (the wire and `--json` shape).

        `origin` appears only on an imported event; its absence means the event is local.
        """
        out: JSONObject = {
            "cursor": self.cursor,
            "delivery_id": self.delivery_id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "conclusion": None if self.conclusion is None else str(self.conclusion),
            "received_at": self.received_at,
            "fields": self.fields,
        }
        if self.payload is not None:
            out["payload"] = self.payload
        if self.origin != LOCAL:
            out["origin"] = self.origin
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> Event:
        """Build an event from its JSON object, checking every field's type."""
        try:
            fields = obj["fields"]
            payload = obj.get("payload")
            conclusion = obj["conclusion"]
            subject = obj["subject"]
            origin = obj.get("origin", LOCAL)
            if not isinstance(fields, dict):
                msg = "fields"
                raise TypeError(msg)
            if payload is not None and not isinstance(payload, str):
                msg = "payload"
                raise TypeError(msg)
            if subject is not None and not isinstance(subject, str):
                msg = "subject"
                raise TypeError(msg)
            return cls(
                cursor=_as_int(obj["cursor"]),
                delivery_id=_as_str(obj["delivery_id"]),
                source=_as_str(obj["source"]),
                type=_as_str(obj["type"]),
                subject=subject,
                conclusion=None if conclusion is None else Conclusion(_as_str(conclusion)),
                received_at=_as_int(obj["received_at"]),
                fields=fields,
                payload=payload,
                origin=_as_str(origin),
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"malformed event object: bad or missing {exc}"
            raise UsageError(msg) from exc

    def __str__(self) -> str:
        verdict = f" {self.conclusion}" if self.conclusion else ""
        subject = f" {self.subject}" if self.subject else ""
        return f"#{self.cursor} {self.source}/{self.type}{subject}{verdict}"


def dump_json(value: JSON) -> str:
    """Encode compactly and deterministically; NaN and infinities are refused."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)


def load_json_object(text: str | bytes, what: str) -> JSONObject:
    """Decode a JSON object or raise a UsageError naming `what` was malformed."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        msg = f"{what} is not valid JSON: {exc}"
        raise UsageError(msg) from exc
    if not isinstance(value, dict):
        msg = f"{what} must be a JSON object, got {type(value).__name__}"
        raise UsageError(msg)
    return value


def _refuse_constant(name: str) -> float:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def _check_text(name: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        msg = f"{name} must be a string, got {type(value).__name__}"
        raise UsageError(msg)
    if not value and not allow_empty:
        msg = f"{name} must not be empty"
        raise UsageError(msg)
    if len(value) > MAX_TEXT_CHARS:
        msg = f"{name} is {len(value)} characters, over the {MAX_TEXT_CHARS} limit"
        raise UsageError(msg)


def _as_int(value: JSON) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(repr(value))
    return value


def _as_str(value: JSON) -> str:
    if not isinstance(value, str):
        raise TypeError(repr(value))
    return value


def is_number(value: JSON) -> bool:
    """True for JSON numbers; bools are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
