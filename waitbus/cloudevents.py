"""The CloudEvents 1.0 mapping of an event, in the JSON event format."""

from __future__ import annotations

import datetime
import socket
from urllib.parse import quote

from waitbus.event import Event, JSONObject

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
# Extension names are lowercase letters and digits only (CloudEvents 1.0, "Attribute Naming").
CURSOR_EXTENSION = "waitbuscursor"
CONCLUSION_EXTENSION = "waitbusconclusion"


def to_cloudevent(event: Event, *, host: str | None = None) -> JSONObject:
    """The event as a CloudEvents 1.0 JSON object.

    `id` is the delivery id, `source` is `waitbus://HOST/SOURCE`, `time` comes from
    received_at, and `data` holds the fields (and the payload when the event carries one).
    The cursor is a string extension: a CloudEvents Integer stops at 2^31 - 1.
    """
    data: JSONObject = {"fields": event.fields}
    if event.payload is not None:
        data["payload"] = event.payload
    out: JSONObject = {
        "specversion": SPEC_VERSION,
        "id": event.delivery_id,
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
    out["data"] = data
    return out


def source_uri(source: str, *, host: str | None = None) -> str:
    """`waitbus://HOST/SOURCE`, each part percent-encoded so any name is a valid URI."""
    name = socket.gethostname() if host is None else host
    return f"waitbus://{quote(name.lower(), safe='')}/{quote(source, safe='')}"


def rfc3339(ns: int) -> str:
    """Nanoseconds since the epoch as an RFC 3339 UTC timestamp with nine fractional digits."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"
