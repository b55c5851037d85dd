"""What `waitbus bridge nats` is told: where NATS is, who this host is, what crosses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from waitbus.event import LOCAL, Event
from waitbus.match import EVERYTHING, AnyOf
from waitbus.paths import StatePaths
from waitbus.sources import agents

DEFAULT_STREAM = "WAITBUS"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the bridge shows the server: a creds file's or an nkey seed's text. Never printed."""

    creds: str | None = field(default=None, repr=False)
    nkey_seed: str | None = field(default=None, repr=False)
    # Where they were read from, for error messages.
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """One bridge between one state directory and one JetStream stream."""

    paths: StatePaths
    url: str
    host: str
    stream: str = DEFAULT_STREAM
    credentials: Credentials = field(default_factory=Credentials)
    tls_ca: Path | None = None
    # Local events published (any match); agent messages only with `agents`.
    export: AnyOf = EVERYTHING
    # Remote events committed here (any match); agent messages only with `agents`.
    accept: AnyOf = EVERYTHING
    agents: bool = False
    # JetStream redelivers an unacknowledged message after this long.
    ack_wait_s: float = 30.0
    # Stream limits used when the bridge creates the stream.
    max_age_s: float = 7 * 86400.0
    max_bytes: int = 1024 * 1024 * 1024
    duplicate_window_s: float = 600.0
    # A publish not acknowledged within this is sent again (same Nats-Msg-Id).
    publish_timeout_s: float = 5.0

    def exports(self, event: Event) -> bool:
        """Whether a committed event goes out: local, wanted, and not a message unless asked."""
        return (event.origin == LOCAL and (self.agents or event.source != agents.SOURCE)
                and self.export.matches(event))

    def accepts(self, event: Event) -> bool:
        """Whether a remote event is committed here."""
        return (self.agents or event.source != agents.SOURCE) and self.accept.matches(event)
