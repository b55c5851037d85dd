"""Agent lifecycle events: what each client's hook call means on the bus.

Standard library only: this runs inside every hook call an agent client makes.
"""

from __future__ import annotations

import os

from waitbus.integrations import repo

SOURCE = "agent"

STARTED = "started"
STOPPED = "stopped"
NEEDS_INPUT = "needs_input"
FAILED = "failed"
SUBAGENT_STOPPED = "subagent_stopped"
ENDED = "ended"

# hook event name (Codex's notify: its payload "type") -> (event type, conclusion)
EVENTS: dict[str, dict[str, tuple[str, str | None]]] = {
    "claude": {
        "SessionStart": (STARTED, None),
        "Stop": (STOPPED, "success"),
        "StopFailure": (FAILED, "failure"),
        "Notification": (NEEDS_INPUT, None),
        "SubagentStop": (SUBAGENT_STOPPED, "success"),
        "SessionEnd": (ENDED, None),
    },
    "codex": {
        "SessionStart": (STARTED, None),
        "Stop": (STOPPED, "success"),
        "agent-turn-complete": (STOPPED, "success"),
        "PermissionRequest": (NEEDS_INPUT, None),
        "approval-requested": (NEEDS_INPUT, None),
        "SubagentStop": (SUBAGENT_STOPPED, "success"),
        "SessionEnd": (ENDED, None),
    },
    "gemini": {
        "SessionStart": (STARTED, None),
        "AfterAgent": (STOPPED, "success"),
        "Notification": (NEEDS_INPUT, None),
        "SessionEnd": (ENDED, None),
    },
}

# payload key -> field name, for the facts worth matching on (strings only, cut to a length)
_FACTS = {
    "source": "reason",
    "reason": "reason",
    "notification_type": "notification",
    "message": "message",
    "error": "error",
    "agent_type": "agent_type",
    "tool_name": "tool",
}
_MAX_TEXT = 1000


class Described:
    """One lifecycle event to emit (a plain class: importing dataclasses costs the hook ms)."""

    __slots__ = ("conclusion", "delivery_id", "fields", "subject", "type")

    def __init__(self, type: str, conclusion: str | None, subject: str,
                 fields: dict[str, str | None], delivery_id: str | None) -> None:
        self.type = type
        self.conclusion = conclusion
        self.subject = subject
        self.fields = fields
        self.delivery_id = delivery_id

    def __repr__(self) -> str:
        return f"<Described {SOURCE}/{self.type} {self.subject} {self.fields.get('session')}>"


def describe(client: str, payload: dict[str, object]) -> Described | None:
    """The event one hook call of `client` reports, or None for one waitbus leaves out."""
    name = _text(payload.get("hook_event_name")) or _text(payload.get("type"))
    known = EVENTS.get(client, {}).get(name or "")
    if name is None or known is None:
        return None
    kind, conclusion = known
    cwd = _text(payload.get("cwd")) or os.getcwd()
    session = _text(payload.get("session_id")) or _text(payload.get("thread-id"))
    turn = _text(payload.get("turn_id")) or _text(payload.get("turn-id"))
    slug = repo.slug(cwd)
    fields: dict[str, str | None] = {"client": client, "event": name, "session": session,
                                 "cwd": cwd, "repo": slug, "branch": repo.branch(cwd)}
    for key, field in _FACTS.items():
        value = _text(payload.get(key))
        if value is not None:
            fields[field] = value[:_MAX_TEXT]
    last = _text(payload.get("last_assistant_message")) \
        or _text(payload.get("last-assistant-message"))
    if kind == FAILED and last is not None:
        fields.setdefault("message", last[:_MAX_TEXT])
    if turn is not None:
        fields["turn"] = turn
    # Codex reports a finished turn twice (notify and its Stop hook): one id stores it once.
    delivery = f"{client}:{session}:{turn}:{kind}" if turn and session else None
    return Described(kind, conclusion, slug or cwd, fields, delivery)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
