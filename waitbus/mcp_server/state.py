"""What every MCP handler shares: the state paths, one read-only store, the watcher."""

from __future__ import annotations

from waitbus.mcp_server.watch import Watcher
from waitbus.paths import StatePaths
from waitbus.store.store import Store


class Bus:
    """The daemon and store this server fronts."""

    def __init__(self, paths: StatePaths, *, reconnect_s: float) -> None:
        self.paths = paths
        self.reconnect_s = reconnect_s
        self.watcher: Watcher | None = None
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"<Bus {self.paths.root} watcher={self.watcher!r}>"

    @property
    def store(self) -> Store:
        """The store for reads, opened on first use (created empty if missing); writes go
        through the emitter like any other process's."""
        if self._store is None:
            if not self.paths.store.exists():
                Store(self.paths).close()
            self._store = Store(self.paths, read_only=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
