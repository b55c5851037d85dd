"""Reading a JSON webhook body defensively: decode it, then pick typed values out of it."""

from __future__ import annotations

from collections.abc import Callable

from waitbus.errors import UsageError
from waitbus.event import JSON, Draft, JSONObject, load_json_object
from waitbus.sources.webhook.exchange import Rejection


def parse(body: bytes, what: str) -> JSONObject | Rejection:
    """The body as a JSON object, or a 400 rejection saying what was wrong with it."""
    try:
        body.decode("utf-8")
        return load_json_object(body, what)
    except UnicodeDecodeError:
        return Rejection(400, f"{what} is not UTF-8 text")
    except UsageError as exc:
        return Rejection(400, str(exc))


def obj(parent: JSONObject, key: str) -> JSONObject:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def text(parent: JSONObject, key: str) -> str | None:
    value = parent.get(key)
    return value if isinstance(value, str) else None


def integer(parent: JSONObject, key: str) -> int | None:
    value = parent.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def scalar(parent: JSONObject, key: str) -> JSON:
    """A string, number or bool at `key`, else None (never a nested object)."""
    value = parent.get(key)
    return None if isinstance(value, dict | list) else value


def checked(build: Callable[[], list[Draft]]) -> list[Draft] | Rejection:
    """Run a draft builder, turning a draft the event model refuses into a 400 rejection."""
    try:
        return build()
    except UsageError as exc:
        return Rejection(400, f"the body makes an event waitbus cannot store: {exc}")
