"""NATS subjects and names: `waitbus.<host>.<source>.<type>`, and the per-host durable."""

from __future__ import annotations

import re

PREFIX = "waitbus"
EVERY_HOST = f"{PREFIX}.>"
# Subject tokens may not hold '.', '*', '>' or whitespace; anything outside this set is
# percent-encoded. The token only routes: the CloudEvent's headers carry the real names.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def of(host: str, source: str, type: str) -> str:
    """The subject an event of `source`/`type` committed on `host` is published to."""
    return f"{PREFIX}.{host}.{token(source)}.{token(type)}"


def token(text: str) -> str:
    return _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)


def host_of(subject: str) -> str | None:
    """The host token of one of our subjects, or None for a subject that is not ours."""
    parts = subject.split(".")
    return parts[1] if len(parts) == 4 and parts[0] == PREFIX else None


def durable(host: str) -> str:
    """The durable consumer that imports into `host`."""
    return f"{PREFIX}-{host}"
