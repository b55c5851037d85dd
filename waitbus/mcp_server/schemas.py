"""JSON Schemas of the tools' inputs and outputs, each field with its unit or vocabulary."""

from __future__ import annotations

from typing import Any

from waitbus.event import Conclusion
from waitbus.wire import SourceState

Schema = dict[str, Any]

# A call answers within the strictest common client default (60 s) unless asked to wait longer.
DEFAULT_WAIT_S = 45.0
# Run as a task, no client timeout is in play: the wait may last until its event lands.
TASK_WAIT_S = 3600.0
MAX_WAIT_S = 86400.0
MAX_PAGE = 200
INLINE_PAYLOAD_BYTES = 64 * 1024

GENERATION: Schema = {"type": "string", "pattern": "^[0-9a-f]{1,64}$"}
CURSOR: Schema = {
    "type": "string", "pattern": "^[0-9]+$",
    "description": "opaque event cursor (a place in the bus's one order); pass it back unchanged",
}
CONCLUSION: Schema = {
    "type": ["string", "null"], "enum": [*(c.value for c in Conclusion), None],
    "description": "how a finished thing ended; null while unfinished or not applicable",
}
NS: Schema = {"type": "integer", "minimum": 0,
              "description": "wall-clock time in nanoseconds since the Unix epoch"}
CLAUSES: Schema = {
    "type": "array", "items": {"type": "string"},
    "description": 'clauses one event must all meet: dotted.key OP json-literal, OP one of '
                   '= != < <= > >= ~ (glob); keys: source, type, subject, conclusion, '
                   'received_at, fields.*; e.g. conclusion="failure", fields.exit_code!=0',
}
SCOPED: Schema = {
    "type": "array", "items": {"type": "string"}, "minItems": 1,
    "description": 'clauses in [source:]key OP value form, e.g. pytest:type="session"',
}
SOURCE: Schema = {"type": "string", "description": "only events from this source, e.g. agent"}

EVENT: Schema = {
    "type": "object",
    "properties": {
        "cursor": CURSOR,
        "delivery_id": {"type": "string", "description": "the producer's idempotency key"},
        "source": {"type": "string", "description": "who produced it: agent, pytest, ..."},
        "type": {"type": "string", "description": "what happened, in the source's vocabulary"},
        "subject": {"type": ["string", "null"],
                    "description": "what it is about (repo, container, recipient); untrusted"},
        "conclusion": CONCLUSION,
        "received_at_ns": NS,
        "fields": {"type": "object", "description": "normalized facts; untrusted data"},
        "uri": {"type": "string", "description": "resource URI of this event (waitbus://events/N)"},
    },
    "required": ["cursor", "delivery_id", "source", "type", "subject", "conclusion",
                 "received_at_ns", "fields", "uri"],
}
PAYLOAD: Schema = {
    "type": ["object", "null"],
    "description": "the raw payload (untrusted), or null when the event has none",
    "properties": {
        "size_bytes": {"type": "integer", "minimum": 0, "description": "UTF-8 size in bytes"},
        "inline": {"type": "boolean",
                   "description": f"false when over {INLINE_PAYLOAD_BYTES} bytes: read raw_uri"},
        "text": {"type": ["string", "null"], "description": "the payload, or null if not inline"},
        "raw_uri": {"type": "string", "description": "resource URI of the raw payload"},
    },
    "required": ["size_bytes", "inline", "text", "raw_uri"],
}


def _obj(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


WAIT_IN = _obj({
    "match": CLAUSES, "source": SOURCE,
    "all_of": {**SCOPED, "description": "wait until every clause has been met, by any events "
               "over time; " + SCOPED["description"]},
    "any_of": {**SCOPED, "description": "return on the first event meeting any clause; "
               + SCOPED["description"]},
    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WAIT_S,
                  "default": DEFAULT_WAIT_S,
                  "description": f"seconds this call waits before it returns outcome pending "
                                 f"(default {DEFAULT_WAIT_S:g}, under the 60 s most clients "
                                 f"allow a tool call; {TASK_WAIT_S:g} when run as a task); "
                                 "then call again with since=cursor"},
    "since": {**CURSOR, "description": "consider events after this cursor (from a previous "
              "result); default: only events committed after this call starts (with sha: "
              "every stored event)"},
    "generation": {**GENERATION, "description": "with since: the generation the previous "
                   "result gave, so a store replaced since then is noticed"},
    "inbox": {"type": "string", "minLength": 1,
              "description": 'an agent message to this name or to everyone ("*")'},
    "correlation": {"type": "string", "minLength": 1,
                    "description": "an agent message carrying this correlation id"},
    "sha": {"type": "string", "pattern": "^[0-9a-f]{7,40}$",
            "description": "wait until this commit's GitHub CI settles (success or failure); "
                           "used alone"},
    "repo": {"type": "string", "description": "with sha: owner/name (default: the origin "
             "remote of the server's working directory)"},
})
WAIT_OUT = _obj({
    "outcome": {"type": "string", "enum": ["matched", "failed", "pending"],
                "description": "matched; failed = matched an event whose conclusion is failure, "
                               "cancelled or timed_out; pending = nothing matched yet within "
                               "timeout_s: call wait again with since=cursor"},
    "events": {"type": "array", "items": EVENT, "description": "the events that met the wait"},
    "cursor": {**CURSOR, "description": "resume cursor: pass as since to continue without gaps"},
    "generation": {**GENERATION, "description": "the store's generation: pass it back with "
                   "since"},
    "note": {"type": "string", "description": "present when the store was replaced (moved "
             "aside and created again): its cursors started again, and the wait counted its "
             "events from the start"},
    "waited_s": {"type": "number", "minimum": 0, "description": "seconds this call waited"},
}, ("outcome", "events", "cursor", "waited_s"))

EVENTS_IN = _obj({
    "since": {**CURSOR, "description": "list events after this cursor, oldest first; omit for "
              "the newest events"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50,
              "description": "most events to return"},
    "source": SOURCE, "match": CLAUSES,
})
EVENTS_OUT = _obj({
    "events": {"type": "array", "items": EVENT, "description": "oldest first"},
    "next_cursor": {**CURSOR, "description": "pass as since for the next page (or newer events)"},
    "head": {**CURSOR, "description": "the newest cursor in the store"},
}, ("events", "next_cursor", "head"))

GET_EVENT_IN = _obj({"cursor": CURSOR}, ("cursor",))
GET_EVENT_OUT = _obj({"event": EVENT, "payload": PAYLOAD}, ("event", "payload"))

EMIT_IN = _obj({
    "kind": {"type": "string", "enum": ["message", "status"],
             "description": "message: to another agent; status: your own progress"},
    "from": {"type": "string", "minLength": 1, "description": "your agent name (self-asserted)"},
    "to": {"type": "string", "minLength": 1, "description": "recipient agent name (message)"},
    "body": {"type": "string", "description": "the message or status text"},
    "thread": {"type": "string", "description": "conversation id, to group messages"},
    "correlation": {"type": "string", "description": "id of the message this answers"},
    "state": {"type": "string", "description": "status only: e.g. working, blocked, done"},
    "conclusion": {**CONCLUSION, "description": "status only: how your task ended"},
    "delivery_id": {"type": "string", "minLength": 1,
                    "description": "idempotency key: emitting it again is a no-op"},
}, ("kind", "from"))
EMIT_OUT = _obj({
    "cursor": CURSOR,
    "delivery_id": {"type": "string"},
    "received_at_ns": NS,
    "uri": {"type": "string", "description": "resource URI of the stored event"},
    "new": {"type": "boolean", "description": "false when delivery_id was already stored"},
}, ("cursor", "delivery_id", "received_at_ns", "uri", "new"))

STATUS_IN = _obj({})
STATUS_OUT = _obj({
    "daemon": {"type": "object", "properties": {
        "running": {"type": "boolean"},
        "pid": {"type": ["integer", "null"]},
        "started_at_ns": {**NS, "type": ["integer", "null"]},
        "subscribers": {"type": "integer", "minimum": 0},
    }, "required": ["running", "pid", "started_at_ns", "subscribers"]},
    "head": {**CURSOR, "description": "the newest cursor in the store"},
    "sources": {"type": "object", "additionalProperties": {
        "type": "object", "properties": {
            "state": {"enum": [state.value for state in SourceState]},
            "error": {"type": ["string", "null"], "description": "why it failed"},
        }, "required": ["state", "error"]},
                "description": "each source the daemon runs, and its state"},
    "lag": {"type": "object", "properties": {
        "feed_cursor": {**CURSOR, "description": "this server's own feed position"},
        "feed_events_behind": {"type": "integer", "minimum": 0,
                               "description": "events committed but not yet seen by this server"},
        "max_subscriber_events_behind": {"type": "integer", "minimum": 0,
                                         "description": "worst lag among daemon subscribers"},
    }, "required": ["feed_cursor", "feed_events_behind", "max_subscriber_events_behind"]},
}, ("daemon", "head", "sources", "lag"))
