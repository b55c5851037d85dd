"""The CloudEvents 1.0 mapping of an event: the JSON event format and NATS binary mode."""

from __future__ import annotations

import datetime
import re
import socket
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from waitbus.errors import UsageError
from waitbus.event import LOCAL, Conclusion, Draft, Event, JSONObject, dump_json, load_json_object

SPEC_VERSION = "1.0"
SCHEME = "waitbus"
CONTENT_TYPE = "application/json"
# Extension names are lowercase letters and digits only (CloudEvents 1.0, "Attribute Naming").
CURSOR_EXTENSION = "waitbuscursor"
CONCLUSION_EXTENSION = "waitbusconclusion"
# NATS binary content mode: each attribute is a `ce-<name>` header, except datacontenttype.
HEADER_PREFIX = "ce-"
# A host name is one NATS subject token and one URI authority: no dots, lowercase.
_HOST = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Header values are percent-encoded as in the HTTP binding: space, '"', '%', controls, non-ASCII.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)",
                      re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Received:
    """A CloudEvent read back from NATS: the host that sent it, its cursor there, the draft."""

    host: str
    cursor: int
    draft: Draft


def to_cloudevent(event: Event, *, host: str | None = None) -> JSONObject:
    """The event as a CloudEvents 1.0 JSON object.

    `id` is the delivery id, `source` is `waitbus://HOST/SOURCE`, `time` comes from
    received_at, and `data` holds the fields (and the payload when the event carries one).
    The cursor is a string extension: a CloudEvents Integer stops at 2^31 - 1. HOST is `host`
    (default: this machine's name) for a local event; an imported event keeps the host and the
    delivery id it had where it was first committed, so it maps the same on every host.
    """
    out: JSONObject = dict(attributes(event, host=host))
    out["data"] = data(event)
    return out


def attributes(event: Event, *, host: str | None = None) -> dict[str, str]:
    """The context attributes and extensions of `event`, every value a string."""
    delivery_id = event.delivery_id
    if event.origin != LOCAL:
        host = event.origin
        delivery_id = delivery_id.removeprefix(f"{event.origin}:")
    out = {
        "specversion": SPEC_VERSION,
        "id": delivery_id,
        "source": source_uri(event.source, host=host),
        "type": event.type,
        "time": rfc3339(event.received_at),
        "datacontenttype": CONTENT_TYPE,
    }
    if event.subject is not None:
        out["subject"] = event.subject
    out[CURSOR_EXTENSION] = str(event.cursor)
    if event.conclusion is not None:
        out[CONCLUSION_EXTENSION] = str(event.conclusion)
    return out


def data(event: Event) -> JSONObject:
    """The event body: its fields, and its payload when it carries one."""
    body: JSONObject = {"fields": event.fields}
    if event.payload is not None:
        body["payload"] = event.payload
    return body


def source_uri(source: str, *, host: str | None = None) -> str:
    """`waitbus://HOST/SOURCE`, each part percent-encoded so any name is a valid URI."""
    name = default_host() if host is None else host
    return f"{SCHEME}://{quote(name.lower(), safe='')}/{quote(source, safe='')}"


def default_host() -> str:
    """This machine's name as a host name: the first label of the hostname, lowercase."""
    return socket.gethostname().split(".", 1)[0].lower()


def check_host(name: str) -> str:
    """A host name usable in subjects, source URIs and delivery ids (lowercased), or UsageError."""
    lowered = name.lower()
    if not _HOST.fullmatch(lowered) or lowered == LOCAL:
        msg = (f"host name {name!r} is not usable: give 1 to 63 letters, digits, '-' or '_' "
               f"(no dots; {LOCAL!r} is reserved for this host's own events)")
        raise UsageError(msg)
    return lowered


def rfc3339(ns: int) -> str:
    """Nanoseconds since the epoch as an RFC 3339 UTC timestamp with nine fractional digits."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch from an RFC 3339 timestamp (any offset, any precision)."""
    found = _RFC3339.fullmatch(text.strip())
    if found is None:
        msg = f"CloudEvent time {text!r} is not an RFC 3339 timestamp"
        raise UsageError(msg)
    whole, fraction, offset = found.groups()
    zone = "+00:00" if offset.upper() == "Z" else offset
    stamp = datetime.datetime.fromisoformat(whole + zone)
    seconds = (stamp - _EPOCH) // datetime.timedelta(seconds=1)
    return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))


def to_headers(event: Event, *, host: str) -> tuple[dict[str, str], bytes]:
    """Binary content mode: `ce-*` headers (Content-Type for datacontenttype) and the body."""
    headers: dict[str, str] = {}
    for name, value in attributes(event, host=host).items():
        if name == "datacontenttype":
            headers["Content-Type"] = value
        else:
            headers[HEADER_PREFIX + name] = header_value(value)
    return headers, dump_json(data(event)).encode()


def header_value(text: str) -> str:
    """`text` percent-encoded for a NATS header (as the HTTP binding encodes header values)."""
    return quote(text, safe=_HEADER_SAFE)


def from_headers(headers: Mapping[str, str], body: bytes) -> Received:
    """Read a binary-mode CloudEvent written by `to_headers` into a Draft to import.

    The draft's delivery id is `<host>:<id>` and its origin is the host, so importing the same
    message twice stores one event.

    Raises:
        UsageError: a required attribute is missing or malformed, or the body is not ours.
    """
    attrs = {name[len(HEADER_PREFIX):].lower(): urllib.parse.unquote(value)
             for name, value in headers.items() if name.lower().startswith(HEADER_PREFIX)}
    version = attrs.get("specversion")
    if version != SPEC_VERSION:
        msg = f"not a CloudEvents {SPEC_VERSION} message (ce-specversion {version!r})"
        raise UsageError(msg)
    host, source = parse_source(_required(attrs, "source"))
    body_obj = load_json_object(body, "the CloudEvent's data")
    fields, payload = body_obj.get("fields"), body_obj.get("payload")
    if not isinstance(fields, dict) or not (payload is None or isinstance(payload, str)):
        msg = 'the CloudEvent\'s data must be {"fields": {...}, "payload": "..."}'
        raise UsageError(msg)
    draft = Draft(source=source, type=_required(attrs, "type"),
                  delivery_id=f"{host}:{_required(attrs, 'id')}",
                  received_at=parse_time(_required(attrs, "time")),
                  subject=attrs.get("subject"),
                  conclusion=_conclusion(attrs.get(CONCLUSION_EXTENSION)),
                  fields=fields, payload=payload, origin=host)
    cursor = attrs.get(CURSOR_EXTENSION, "")
    return Received(host, int(cursor) if cursor.isdigit() else 0, draft)


def parse_source(uri: str) -> tuple[str, str]:
    """`waitbus://<host>/<source>` -> (host, source)."""
    parts = urllib.parse.urlsplit(uri)
    source = urllib.parse.unquote(parts.path.removeprefix("/"))
    if parts.scheme != SCHEME or not parts.netloc or not source:
        msg = f"CloudEvent source {uri!r} is not {SCHEME}://<host>/<source>"
        raise UsageError(msg)
    return check_host(urllib.parse.unquote(parts.netloc)), source


def _required(attrs: Mapping[str, str], name: str) -> str:
    value = attrs.get(name)
    if not value:
        msg = f"the CloudEvent has no {HEADER_PREFIX}{name} header"
        raise UsageError(msg)
    return value


def _conclusion(value: str | None) -> Conclusion | None:
    if value is None:
        return None
    try:
        return Conclusion(value)
    except ValueError:
        msg = f"CloudEvent conclusion {value!r} is not one of {', '.join(Conclusion)}"
        raise UsageError(msg) from None
