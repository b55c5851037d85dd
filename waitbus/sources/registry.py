"""The sources a daemon runs: the built-ins its settings enable, then trusted plugins."""

from __future__ import annotations

from waitbus.config import Settings
from waitbus.sources.base import Source


def builtin(settings: Settings) -> list[Source]:
    """Every built-in source that `settings` enables, ready for the daemon to run."""
    sources: list[Source] = []
    if settings.docker_socket is not None:
        from waitbus.sources.docker_events import DockerEvents

        sources.append(DockerEvents(settings.docker_socket))
    if settings.watch_paths:
        from waitbus.sources.fs import watcher

        sources.append(watcher(settings.watch_paths))
    if settings.listen_port is not None:
        from waitbus.sources.webhook.routes import listener

        sources.append(listener(settings, settings.listen_port))
    return sources


def enabled(settings: Settings) -> list[Source]:
    """The built-ins `settings` enables, then every installed plugin that may load."""
    from waitbus.sources import plugins

    return [*builtin(settings), *plugins.load(settings)]
