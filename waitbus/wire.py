"""The wire protocol, sans-IO: length-prefixed JSON frames and their typed forms."""

from __future__ import annotations

import enum
import json
import struct
from json.encoder import encode_basestring_ascii

from waitbus.config import Retention
from waitbus.errors import MatchError, ProtocolError, UsageError
from waitbus.event import JSON, LOCAL, MAX_CURSOR, Event, JSONObject, dump_json
from waitbus.match import AnyOf
from waitbus.record import record

# typing is left out at run time: `waitbus wait` starts faster without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

# 2: a subscribe may carry the store's `generation`, and the client understands `reset`.
PROTOCOL_VERSION = 2
# The longest generation a subscribe may carry (a store's is 16 hex digits).
MAX_GENERATION_CHARS = 64
HEADER = struct.Struct(">I")
# Requests are small (a match); a daemon refuses a larger one and closes that client.
MAX_REQUEST_BYTES = 64 * 1024
# Replies may carry a raw payload when a subscriber asked for it.
MAX_REPLY_BYTES = 32 * 1024 * 1024


@record
class Subscribe:
    """Client to daemon: send me events `match` meets after cursor `since`.

    `generation` is the store's generation `since` was read from (None: not known); `version`
    is the client's protocol version (2 and above understand `reset`).
    """

    match: AnyOf
    since: int | None = None
    payload: bool = False
    generation: str | None = None
    version: int = PROTOCOL_VERSION


@record
class StatusRequest:
    """Client to daemon: describe yourself."""


@record
class PruneRequest:
    """Client to daemon: apply this retention now (or only say what it would delete)."""

    retention: Retention
    dry_run: bool = False


@record
class EventFrame:
    """Daemon to client: one matching event."""

    event: Event


@record
class Live:
    """Daemon to client: the backlog is delivered; `cursor` is the daemon's head, in the store
    of `generation` (None from a daemon older than generations)."""

    cursor: int
    generation: str | None = None


@record
class Lagged:
    """Daemon to client: you fell behind; delivery resumes from the store after `cursor`."""

    cursor: int


@record
class Reset:
    """Daemon to client: the store was replaced by the one of `generation`, whose cursors mean
    other events; it holds events up to `head`. The connection closes after this: subscribe
    again from the new store's start (since 0) with its generation."""

    generation: str
    head: int


@record
class Pruned:
    """Daemon to client: the events you asked for up to `cursor` were pruned; delivery goes on
    after it."""

    cursor: int


@record
class PruneReport:
    """Daemon to client: what a prune request deleted (or would delete)."""

    info: JSONObject


class SourceState(enum.StrEnum):
    """Where a daemon source is in its life."""

    RUNNING = "running"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"
    DEGRADED = "degraded"  # running, but not doing all of its work now (its error says why)


@record
class SourceInfo:
    """One daemon source's state, and what made it fail."""

    state: SourceState
    error: str | None = None

    def to_json(self) -> JSONObject:
        return {"state": self.state.value, "error": self.error}

    @classmethod
    def from_json(cls, obj: JSON) -> SourceInfo:
        found = _object(obj, "a source's state")
        error = found.get("error")
        return cls(SourceState(_str(found.get("state"))), None if error is None else _str(error))


@record
class SubscriberInfo:
    """One connected subscriber: whose it is, where it is, and how far behind."""

    uid: int
    cursor: int
    lag: int
    live: bool
    lagged: int

    def to_json(self) -> JSONObject:
        return {"uid": self.uid, "cursor": self.cursor, "lag": self.lag, "live": self.live,
                "lagged": self.lagged}

    @classmethod
    def from_json(cls, obj: JSON) -> SubscriberInfo:
        found = _object(obj, "a subscriber")
        live = found.get("live")
        if not isinstance(live, bool):
            msg = f"live must be true or false, got {live!r}"
            raise TypeError(msg)
        return cls(_int(found.get("uid")), _int(found.get("cursor")), _int(found.get("lag")),
                   live, _int(found.get("lagged")))


@record
class StatusInfo:
    """What a daemon says about itself: the body of a status frame."""

    pid: int
    state_dir: str
    head: int
    started_at: int
    fanned_out: int
    subscribers: tuple[SubscriberInfo, ...]
    sources: dict[str, SourceInfo]
    # The daemon's retention: its policy, how far it has pruned, its last pass (None: older daemon).
    retention: JSONObject | None = None
    # Drafts the daemon's sources handed in that are not stored yet, and how long the oldest
    # has waited (on the store's write lock, or the disk).
    pending_commits: int = 0
    oldest_pending_s: float = 0.0
    # The generation of the store the daemon serves (None: a daemon older than generations).
    generation: str | None = None

    @property
    def max_lag(self) -> int:
        """The most events any subscriber is behind the head."""
        return max((s.lag for s in self.subscribers), default=0)

    @property
    def lagged(self) -> int:
        """How many times subscribers fell behind and went back to replay, in total."""
        return sum(s.lagged for s in self.subscribers)

    def to_json(self) -> JSONObject:
        return {"pid": self.pid, "state_dir": self.state_dir, "head": self.head,
                "started_at": self.started_at, "fanned_out": self.fanned_out,
                "subscribers": [s.to_json() for s in self.subscribers],
                "sources": {name: info.to_json() for name, info in self.sources.items()},
                "retention": self.retention, "pending_commits": self.pending_commits,
                "oldest_pending_s": self.oldest_pending_s, "generation": self.generation}

    @classmethod
    def from_json(cls, obj: JSON) -> StatusInfo:
        """Type a status body; unknown keys are ignored so that a newer daemon can add some."""
        found = _object(obj, "the status")
        subscribers = found.get("subscribers")
        if not isinstance(subscribers, list):
            msg = "subscribers must be a list"
            raise TypeError(msg)
        sources = _object(found.get("sources"), "the sources")
        retention = found.get("retention")
        return cls(_int(found.get("pid")), _str(found.get("state_dir")), _int(found.get("head")),
                   _int(found.get("started_at")), _int(found.get("fanned_out")),
                   tuple(SubscriberInfo.from_json(s) for s in subscribers),
                   {name: SourceInfo.from_json(v) for name, v in sources.items()},
                   None if retention is None else _object(retention, "retention"),
                   _int(found.get("pending_commits", 0)),
                   _seconds(found.get("oldest_pending_s", 0.0)),
                   None if found.get("generation") is None else _str(found.get("generation")))


@record
class Status:
    """Daemon to client: the daemon's state."""

    info: StatusInfo


@record
class ErrorFrame:
    """Daemon to client: your request was refused, or (`store`) the daemon could not read the
    store for it; the connection closes after this."""

    message: str
    store: bool = False


Request: TypeAlias = Subscribe | StatusRequest | PruneRequest
Reply: TypeAlias = (EventFrame | Live | Lagged | Reset | Pruned | Status | PruneReport
                    | ErrorFrame)


def encode(frame: Request | Reply) -> bytes:
    """Serialize a frame with its 4-byte big-endian length prefix."""
    body = dump_json(_to_json(frame)).encode()
    return HEADER.pack(len(body)) + body


def encode_event(event: Event) -> bytes:
    """The hot path: one event frame, written out directly.

    The bytes are exactly `encode(EventFrame(event))`'s (keys sorted, compact, ASCII with
    escapes; a test pins that), at half the cost: only `fields` goes through the encoder.
    """
    conclusion, subject = event.conclusion, event.subject
    body = "".join((
        '{"event":{"conclusion":', "null" if conclusion is None else _string(conclusion.value),
        ',"cursor":', _integer(event.cursor),
        ',"delivery_id":', _string(event.delivery_id),
        ',"fields":', dump_json(event.fields),
        "" if event.origin == LOCAL else ',"origin":' + _string(event.origin),
        "" if event.payload is None else ',"payload":' + _string(event.payload),
        ',"received_at":', _integer(event.received_at),
        ',"source":', _string(event.source),
        ',"subject":', "null" if subject is None else _string(subject),
        ',"type":', _string(event.type),
        '},"t":"event"}')).encode()
    return HEADER.pack(len(body)) + body


# What the JSON encoder itself calls for a string (ensure_ascii) and for an int.
_string = encode_basestring_ascii
_integer = int.__repr__


class FrameDecoder:
    """Turns a byte stream into JSON objects; never touches a socket."""

    def __init__(self, max_frame_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> list[JSONObject]:
        """Add bytes; return every frame they complete. Raises ProtocolError on garbage."""
        buffer = self._buffer
        buffer += data
        frames: list[JSONObject] = []
        start, size_now = 0, len(buffer)
        try:
            while size_now - start >= HEADER.size:
                (size,) = HEADER.unpack_from(buffer, start)
                if size > self.max_frame_bytes:
                    msg = f"frame of {size} bytes is over the {self.max_frame_bytes}-byte limit"
                    raise ProtocolError(msg)
                end = start + HEADER.size + size
                if size_now < end:
                    break
                frames.append(_decode_body(buffer[start + HEADER.size : end]))
                start = end
        finally:
            # Consumed frames leave the buffer in one move, not one move per frame.
            del buffer[:start]
        return frames

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)


def parse_request(obj: JSONObject) -> Request:
    """Type a client's frame, or raise ProtocolError saying what is wrong."""
    kind = obj.get("t")
    try:
        if kind == "subscribe":
            since = obj.get("since")
            if since is not None and (isinstance(since, bool) or not isinstance(since, int)
                                      or not 0 <= since <= MAX_CURSOR):
                msg = f"since must be an integer cursor from 0 to {MAX_CURSOR}, or null"
                raise ProtocolError(msg)
            # The key is "filter" in protocol v1; the typed frame calls it a match.
            return Subscribe(AnyOf.from_json(obj.get("filter")), since, obj.get("payload") is True,
                             _generation(obj.get("generation")), _version(obj.get("v")))
        if kind == "status":
            return StatusRequest()
        if kind == "prune":
            return PruneRequest(_retention(obj.get("retention")), obj.get("dry_run") is True)
    except (MatchError, UsageError) as exc:
        raise ProtocolError(str(exc)) from exc
    msg = f"unknown request type {kind!r}; expected 'subscribe', 'status' or 'prune'"
    raise ProtocolError(msg)


def parse_event(obj: JSONObject) -> Event:
    """The event of an event frame (`obj["t"] == "event"`), or ProtocolError.

    `parse_reply` without the frame object around it: a subscriber's path for each event.
    """
    try:
        found = obj["event"]
        if not isinstance(found, dict):
            msg = f"an event must be a JSON object, got {found!r}"
            raise TypeError(msg)
        return Event.from_json(found)
    except (KeyError, TypeError, ValueError, UsageError) as exc:
        msg = f"malformed event frame from the daemon: {exc}"
        raise ProtocolError(msg) from exc


def parse_reply(obj: JSONObject) -> Reply:
    """Type a daemon's frame, or raise ProtocolError."""
    kind = obj.get("t")
    if kind == "event":
        return EventFrame(parse_event(obj))
    try:
        if kind == "live":
            generation = obj.get("generation")
            return Live(_int(obj["cursor"]), None if generation is None else _str(generation))
        if kind == "reset":
            return Reset(_str(obj["generation"]), _int(obj["head"]))
        if kind == "lagged":
            return Lagged(_int(obj["cursor"]))
        if kind == "pruned":
            return Pruned(_int(obj["cursor"]))
        if kind == "status":
            return Status(StatusInfo.from_json(obj["info"]))
        if kind == "prune_report":
            return PruneReport(_object(obj["info"], "a prune report"))
        if kind == "error":
            return ErrorFrame(str(obj["message"]), obj.get("kind") == "store")
    except (KeyError, TypeError, ValueError, UsageError) as exc:
        msg = f"malformed {kind} frame from the daemon: {exc}"
        raise ProtocolError(msg) from exc
    msg = f"unknown frame type {kind!r} from the daemon; is it a newer waitbus?"
    raise ProtocolError(msg)


def _to_json(frame: Request | Reply) -> JSONObject:
    match frame:
        case Subscribe(match=match, since=since, payload=payload, generation=generation,
                       version=version):
            return {"t": "subscribe", "v": version, "filter": match.to_json(), "since": since,
                    "payload": payload, **_optional("generation", generation)}
        case StatusRequest():
            return {"t": "status", "v": PROTOCOL_VERSION}
        case PruneRequest(retention=retention, dry_run=dry_run):
            return {"t": "prune", "v": PROTOCOL_VERSION, "retention": retention.to_json(),
                    "dry_run": dry_run}
        case EventFrame(event=event):
            return {"t": "event", "event": event.to_json()}
        case Live(cursor=cursor, generation=generation):
            return {"t": "live", "cursor": cursor, **_optional("generation", generation)}
        case Reset(generation=generation, head=head):
            return {"t": "reset", "generation": generation, "head": head}
        case Lagged(cursor=cursor):
            return {"t": "lagged", "cursor": cursor}
        case Pruned(cursor=cursor):
            return {"t": "pruned", "cursor": cursor}
        case Status(info=info):
            return {"t": "status", "info": info.to_json()}
        case PruneReport(info=info):
            return {"t": "prune_report", "info": info}
        case ErrorFrame(message=message, store=True):
            return {"t": "error", "message": message, "kind": "store"}
        case ErrorFrame(message=message):
            return {"t": "error", "message": message}


def _decode_body(body: bytearray) -> JSONObject:
    try:
        text = body.decode()
        # The scanner json.loads ends in, called directly: a frame the daemon wrote is one
        # object with nothing around it. Anything else takes the full path below, which also
        # words the errors.
        value, end = _scan(text, 0)
        if end == len(text) and type(value) is dict:
            return value
    except (ValueError, RecursionError, StopIteration):
        pass
    try:
        value = json.loads(body.decode())
    except (ValueError, RecursionError) as exc:
        msg = f"frame is not valid UTF-8 JSON: {exc}"
        raise ProtocolError(msg) from exc
    if not isinstance(value, dict):
        msg = "frame must be a JSON object"
        raise ProtocolError(msg)
    return value


# The C scanner a JSONDecoder builds (typeshed does not list the attribute).
_scan: Callable[[str, int], tuple[JSON, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _optional(key: str, value: str | None) -> JSONObject:
    """`{key: value}`, or nothing for None: a key an older peer does not know is left out."""
    return {} if value is None else {key: value}


def _generation(value: JSON) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_GENERATION_CHARS:
        msg = (f"generation must be a string of 1 to {MAX_GENERATION_CHARS} characters, or "
               "absent")
        raise ProtocolError(msg)
    return value


def _version(value: JSON) -> int:
    """A request's protocol version; 1 when absent or not a number (as v1 daemons read it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _retention(value: JSON) -> Retention:
    if not isinstance(value, dict):
        msg = "a prune request needs a retention object"
        raise ProtocolError(msg)
    age = _bound(value, "max_age_s")
    size, rows = _bound(value, "max_bytes"), _bound(value, "max_rows")
    return Retention(age, None if size is None else int(size), None if rows is None else int(rows))


def _bound(obj: JSONObject, name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        msg = f"retention {name} must be a non-negative number or null, got {value!r}"
        raise ProtocolError(msg)
    return value


def _int(value: JSON) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected an integer, got {value!r}"
        raise TypeError(msg)
    return value


def _seconds(value: JSON) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        msg = f"expected a number of seconds, got {value!r}"
        raise TypeError(msg)
    return float(value)


def _str(value: JSON) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {value!r}"
        raise TypeError(msg)
    return value


def _object(value: JSON, what: str) -> JSONObject:
    if not isinstance(value, dict):
        msg = f"{what} must be a JSON object, got {value!r}"
        raise TypeError(msg)
    return value
