"""What `status` and `doctor` say about a bridge: running, connected, export and import lag."""

from __future__ import annotations

import contextlib
import fcntl
import os

from waitbus.event import JSONObject
from waitbus.paths import StatePaths
from waitbus.record import record
from waitbus.store.store import Store


@record
class BridgeReport:
    """One bridge as its state directory records it."""

    name: str
    running: bool
    connected: bool
    host: str | None
    url: str | None
    stream: str | None
    exported: int
    export_lag: int
    import_lag: int | None
    error: str | None

    def to_json(self) -> JSONObject:
        return {"name": self.name, "running": self.running, "connected": self.connected,
                "host": self.host, "url": self.url, "stream": self.stream,
                "exported": self.exported, "export_lag": self.export_lag,
                "import_lag": self.import_lag, "error": self.error}

    def __str__(self) -> str:
        where = f"{self.url} as host {self.host}, stream {self.stream}"
        if not self.running:
            state = "not running"
        elif self.connected:
            state = f"connected to {where}"
        else:
            state = f"disconnected from {where}"
        lags = f"export lag {self.export_lag}"
        if self.running and self.import_lag is not None:
            lags += f", import lag {self.import_lag}"
        error = f" ({self.error})" if self.error else ""
        return f"bridge {self.name}: {state}; {lags}{error}"


def read(paths: StatePaths, head: int | None = None) -> list[BridgeReport]:
    """Every bridge the store knows, with lags against `head` (default: the store's head)."""
    if not paths.store.exists():
        return []
    with Store(paths, read_only=True) as store:
        marks = store.bridges()
        if head is None:
            head = store.head()
    alive = running(paths)
    return [_report(name, exported, state, head, alive)
            for name, (exported, state) in sorted(marks.items())]


def running(paths: StatePaths) -> bool:
    """True while a bridge process holds the bridge lock of `paths`."""
    try:
        fd = os.open(paths.bridge_lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return False


def _report(name: str, exported: int, state: JSONObject, head: int,
            alive: bool) -> BridgeReport:
    def text(key: str) -> str | None:
        value = state.get(key)
        return value if isinstance(value, str) else None

    pending = state.get("import_pending")
    return BridgeReport(
        name=name, running=alive, connected=alive and state.get("connected") is True,
        host=text("host"), url=text("url"), stream=text("stream"), exported=exported,
        export_lag=max(0, head - exported),
        import_lag=pending if isinstance(pending, int) and not isinstance(pending, bool) else None,
        error=text("error"))
