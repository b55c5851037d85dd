"""Agent messages: who a message is for, the thread it belongs to, and what answers it."""

from __future__ import annotations

from waitbus.event import JSON, Conclusion, Draft, Event, JSONObject
from waitbus.match import AnyOf, Clause, Match, Op
from waitbus.sources import emitter

SOURCE = "agent"
TYPE = "message"
EVERYONE = "*"


def message(to: str, body: str, *, sender: str | None, thread: str | None = None,
            correlation: str | None = None, reply_to: str | None = None,
            conclusion: Conclusion | str | None = None,
            extra: dict[str, JSON] | None = None, delivery_id: str | None = None,
            subject: str | None = None, payload: str | None = None) -> Draft:
    """A message for inbox `to` (or every inbox, with "*"); `reply_to` is a request's id."""
    fields: JSONObject = {**(extra or {}), "to": to, "from": sender, "body": body,
                          "thread": thread, "correlation": correlation, "reply_to": reply_to}
    return emitter.draft(SOURCE, TYPE, subject=to if subject is None else subject,
                         conclusion=conclusion, fields=fields, payload=payload,
                         delivery_id=delivery_id)


def reply(request: Event, body: str, *, sender: str | None = None,
          conclusion: Conclusion | str | None = None) -> Draft:
    """The answer to `request`: to its sender, with its thread and correlation.

    With a known sender, the delivery id derives from the request and the sender, so answering
    the same request twice stores one reply; anonymous replies are all kept.
    """
    fields = request.fields
    asker = _text(fields.get("from"))
    if sender is None:
        addressee = _text(fields.get("to"))
        sender = None if addressee == EVERYONE else addressee
    return message(asker or EVERYONE, body, sender=sender,
                   thread=_text(fields.get("thread")),
                   correlation=_text(fields.get("correlation")),
                   reply_to=request.delivery_id, conclusion=conclusion,
                   delivery_id=f"{request.delivery_id}:reply:{sender}" if sender else None)


def inbox(name: str, *, correlation: str | None = None, also: tuple[Clause, ...] = ()) -> AnyOf:
    """Messages to `name` or to everyone (carrying `correlation`, when given): the matches an
    agent waits on for its mail."""
    if correlation is not None:
        also = (_eq("correlation", correlation), *also)
    return AnyOf((_messages(_eq("to", name), *also), _messages(_eq("to", EVERYONE), *also)))


def correlated(correlation: str, *, not_delivery: str | None = None,
               also: tuple[Clause, ...] = ()) -> Match:
    """Messages carrying `correlation`, leaving out the request itself when it is named."""
    clauses = [_eq("correlation", correlation), *also]
    if not_delivery is not None:
        clauses.append(Clause(("delivery_id",), Op.NE, not_delivery))
    return _messages(*clauses)


def _messages(*clauses: Clause) -> Match:
    return Match(SOURCE, (Clause(("type",), Op.EQ, TYPE), *clauses))


def _eq(field: str, value: JSON) -> Clause:
    return Clause(("fields", field), Op.EQ, value)


def _text(value: JSON) -> str | None:
    return value if isinstance(value, str) else None
