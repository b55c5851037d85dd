"""The event model: what every source produces and every consumer receives."""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping

from waitbus.errors import UsageError, WaitbusError
from waitbus.record import field, record
from waitbus.untrusted import escape

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
# Deeper fields than this are refused: every JSON decoder on the way (daemon, clients, MCP)
# must be able to read them back without running out of stack.
MAX_FIELDS_DEPTH = 32
# Cursors are SQLite INTEGERs: a signed 64-bit number.
MAX_CURSOR = 2**63 - 1
_CURSOR_TEXT = re.compile(r"[0-9]{1,19}")


class Conclusion(enum.StrEnum):
    """How a finished thing ended; absent while it has not ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def failed(self) -> bool:
        return self is not Conclusion.SUCCESS


@record
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
    # `fields` encoded once, when checked: the store writes these bytes.
    fields_json: str = field(init=False, repr=False, compare=False, default="")

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
        encoded = _checked_fields(self.fields)
        object.__setattr__(self, "fields_json", encoded)  # frozen: set once, here
        size = len(encoded)
        if size > MAX_FIELDS_BYTES:
            msg = (
                f"fields take {size} bytes encoded, over the {MAX_FIELDS_BYTES}-byte limit; "
                "keep matchable facts in fields and put the rest in the payload"
            )
            raise UsageError(msg)
        payload: object = self.payload  # callers may pass anything at runtime
        if payload is not None:
            if not isinstance(payload, str):
                msg = f"payload must be a string, got {type(payload).__name__}"
                raise UsageError(msg)
            if len(payload) > MAX_PAYLOAD_BYTES:
                msg = f"payload is over the {MAX_PAYLOAD_BYTES}-byte limit"
                raise UsageError(msg)
            _check_utf8("payload", payload)


@record
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
            cursor, received_at = obj["cursor"], obj["received_at"]
            delivery_id, source, type_ = obj["delivery_id"], obj["source"], obj["type"]
            fields, subject, conclusion = obj["fields"], obj["subject"], obj["conclusion"]
            payload, origin = obj.get("payload"), obj.get("origin", LOCAL)
            # One test per field, inline: a subscriber builds an event per frame it reads.
            if type(cursor) is not int:
                raise TypeError(repr(cursor))
            if type(received_at) is not int:
                raise TypeError(repr(received_at))
            if not (isinstance(delivery_id, str) and isinstance(source, str)
                    and isinstance(type_, str) and isinstance(origin, str)):
                bad = next(v for v in (delivery_id, source, type_, origin)
                           if not isinstance(v, str))
                raise TypeError(repr(bad))
            if not isinstance(fields, dict):
                msg = "fields"
                raise TypeError(msg)
            if payload is not None and not isinstance(payload, str):
                msg = "payload"
                raise TypeError(msg)
            if subject is not None and not isinstance(subject, str):
                msg = "subject"
                raise TypeError(msg)
            if conclusion is not None:
                if not isinstance(conclusion, str):
                    raise TypeError(repr(conclusion))
                conclusion = _CONCLUSIONS[conclusion]
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"malformed event object: bad or missing {exc}"
            raise UsageError(msg) from exc
        return make_event(cursor, delivery_id, source, type_, subject, conclusion, received_at,
                          fields, payload, origin)

    def __str__(self) -> str:
        """One line for people: outside text has its control characters escaped."""
        verdict = f" {self.conclusion}" if self.conclusion else ""
        subject = f" {escape(self.subject)}" if self.subject else ""
        return f"#{self.cursor} {escape(self.source)}/{escape(self.type)}{subject}{verdict}"


def dump_json(value: JSON) -> str:
    """Encode compactly and deterministically; NaN and infinities are refused."""
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    try:
        return "".join(_C_ENCODE(value, 0))
    except RecursionError:
        msg = "Circular reference detected (or nesting too deep to encode)"
        raise ValueError(msg) from None


def load_json_object(text: str | bytes, what: str, *,
                     error: type[WaitbusError] = UsageError) -> JSONObject:
    """Decode a JSON object or raise `error` (a UsageError by default) naming `what`."""
    try:
        text = text if isinstance(text, str) else text.decode()
        # The decoder's C scanner, called directly: compact JSON (as the store holds) is one
        # object with nothing around it. Anything else takes the full path, which words errors.
        found, end = _DECODER.scan_once(text, 0)  # type: ignore[attr-defined]
        if end == len(text) and type(found) is dict:
            return found
    except (ValueError, RecursionError, StopIteration):
        pass
    try:
        value = _DECODER.decode(text if isinstance(text, str) else text.decode())
    except (ValueError, RecursionError) as exc:
        msg = f"{what} is not valid JSON: {exc}"
        raise error(msg) from exc
    if not isinstance(value, dict):
        msg = f"{what} must be a JSON object, got {type(value).__name__}"
        raise error(msg)
    return value


def parse_cursor(value: object, what: str = "cursor") -> int:
    """A cursor from text or a number: 0 to 2**63-1, ASCII digits only, else a UsageError."""
    if isinstance(value, str) and _CURSOR_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CURSOR:
        return value
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
    msg = f"{what} {shown} is not a cursor; give a whole number from 0 to {MAX_CURSOR}"
    raise UsageError(msg)


def _checked_fields(fields: JSONObject) -> str:
    """Encode `fields`, refusing NaN, infinities, lone surrogates and deep nesting."""
    if _depth(fields) > MAX_FIELDS_DEPTH:
        msg = (f"fields are nested deeper than {MAX_FIELDS_DEPTH} levels; flatten them "
               "(dotted keys such as build.step work in predicates)")
        raise UsageError(msg)
    try:
        text = dump_json(fields)
    except (TypeError, ValueError) as exc:
        msg = f"fields must be plain JSON (no NaN or infinity, string keys): {exc}"
        raise UsageError(msg) from None
    if "\\ud" in text or "\\uD" in text:  # escaped surrogates: check they come in pairs
        _check_utf8("fields", json.dumps(fields, ensure_ascii=False))
    return text


def _depth(value: object, level: int = 1) -> int:
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, (dict, list)):
                break
        else:
            return level + 1 if value else level  # flat, as most fields are: no walk
    # Iterative, so a hostile depth cannot exhaust the stack here either.
    deepest, stack = 0, [(value, level)]
    while stack:
        node, at = stack.pop()
        deepest = max(deepest, at)
        if deepest > MAX_FIELDS_DEPTH:
            return deepest
        if isinstance(node, dict):
            stack.extend((child, at + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, at + 1) for child in node)
    return deepest


def _check_utf8(name: str, value: str) -> None:
    if value.isascii():
        return  # ASCII is UTF-8; only other text needs encoding to find lone surrogates
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = (f"{name}: not valid UTF-8 text (it holds undecodable bytes); "
               "pass it as UTF-8")
        raise UsageError(msg) from None


def _refuse_constant(name: str) -> float:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


# Looked up, not called: calling an enum costs as much as the rest of decoding an event.
_CONCLUSIONS = {c.value: c for c in Conclusion}

def make_event(cursor: int, delivery_id: str, source: str, type: str, subject: str | None,
               conclusion: Conclusion | None, received_at: int, fields: JSONObject,
               payload: str | None, origin: str) -> Event:
    """`Event(...)` for values already checked, at a quarter less of its cost.

    A frozen dataclass sets each field through object.__setattr__; its slots' own setters are
    cheaper. Readers of the store and of the wire build one event per row or frame.
    """
    event = _new(Event)
    _set_cursor(event, cursor)
    _set_delivery_id(event, delivery_id)
    _set_source(event, source)
    _set_type(event, type)
    _set_subject(event, subject)
    _set_conclusion(event, conclusion)
    _set_received_at(event, received_at)
    _set_fields(event, fields)
    _set_payload(event, payload)
    _set_origin(event, origin)
    return event


_new = object.__new__
(_set_cursor, _set_delivery_id, _set_source, _set_type, _set_subject, _set_conclusion,
 _set_received_at, _set_fields, _set_payload, _set_origin) = (
    Event.__dict__[name].__set__ for name in (
        "cursor", "delivery_id", "source", "type", "subject", "conclusion", "received_at",
        "fields", "payload", "origin"))
# Built once: json.dumps and json.loads build a new coder on every call given any option.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _refuse_object(value: object) -> JSON:
    msg = f"Object of type {type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


# The C encoder _ENCODER.encode builds on every call, built once (half of an encode's time).
# No circular-reference markers: a cycle recurses until RecursionError, which dump_json turns
# into the same ValueError. Arguments: markers, default, string encoder, indent, key and item
# separators, sort_keys, skipkeys, allow_nan.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = None if _MAKE_ENCODER is None else _MAKE_ENCODER(
    None, _refuse_object, json.encoder.encode_basestring_ascii, None, ":", ",", True, False,
    False)


def _check_text(name: str, value: object, *, allow_empty: bool = False) -> None:
    if type(value) is str and 0 < len(value) <= MAX_TEXT_CHARS and value.isascii():
        return  # the common case, in one test: every draft checks four of these
    if not isinstance(value, str):
        msg = f"{name} must be a string, got {type(value).__name__}"
        raise UsageError(msg)
    if not value and not allow_empty:
        msg = f"{name} must not be empty"
        raise UsageError(msg)
    if len(value) > MAX_TEXT_CHARS:
        msg = f"{name} is {len(value)} characters, over the {MAX_TEXT_CHARS} limit"
        raise UsageError(msg)
    _check_utf8(name, value)


def is_number(value: JSON) -> bool:
    """True for JSON numbers; bools are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
