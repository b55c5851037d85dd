"""Daemon settings: one frozen object built from defaults, the environment and flags."""

from __future__ import annotations

from pathlib import Path

from waitbus.event import JSONObject
from waitbus.paths import StatePaths, resolve
from waitbus.record import field, record

DAY_S = 86400.0
MIB = 1024 * 1024


@record
class Retention:
    """How much history the store keeps; a bound of None is off. The oldest events go first."""

    max_age_s: float | None = 30 * DAY_S
    max_bytes: int | None = 256 * MIB
    max_rows: int | None = None

    @property
    def bounded(self) -> bool:
        return any(b is not None for b in (self.max_age_s, self.max_bytes, self.max_rows))

    def to_json(self) -> JSONObject:
        return {"max_age_s": self.max_age_s, "max_bytes": self.max_bytes,
                "max_rows": self.max_rows}


@record
class Settings:
    """Everything `waitbus serve` can be told."""

    paths: StatePaths = field(default_factory=resolve)
    # Frames, and bytes of frames (at least one frame), queued for one subscriber before it is
    # told it lagged and moved to replay: what a reader that stops reading costs the daemon.
    max_queue_frames: int = 4096
    max_queue_bytes: int = 4 * 1024 * 1024
    # Rows read from the store per batch, for live fan-out and for replay; a replay batch also
    # stops at this many bytes of fields and payloads (at least one row).
    batch_rows: int = 512
    replay_batch_bytes: int = 1024 * 1024
    # The Docker engine socket to follow (`serve --docker`); None leaves the docker source off.
    docker_socket: Path | None = None
    # Files and directories the fs source watches (`serve --watch`); empty leaves it off.
    watch_paths: tuple[Path, ...] = ()
    # The webhook listener's port on 127.0.0.1 (`serve --listen-port`); 0 picks a free one,
    # None leaves the listener off.
    listen_port: int | None = 9000
    # A webhook body over this many bytes gets 413 before it is read.
    webhook_max_body_bytes: int = 1024 * 1024
    # A webhook request line and headers over this many bytes get 431.
    webhook_max_header_bytes: int = 16 * 1024
    # A webhook request must arrive whole within this, or it gets 408 and is disconnected.
    webhook_request_timeout_s: float = 10.0
    # What the daemon keeps; it prunes the rest as events arrive (`serve --retain-*`, config.toml).
    retention: Retention = field(default_factory=Retention)
