"""The listener's routes: each path, its sender's handler, and the secret it checks against."""

from __future__ import annotations

from collections.abc import Callable

from waitbus.config import Settings
from waitbus.errors import WaitbusError
from waitbus.paths import StatePaths
from waitbus.secrets import ALERTMANAGER_TOKEN, GITHUB_WEBHOOK, read_secret
from waitbus.sources.webhook import alertmanager, github
from waitbus.sources.webhook.exchange import Reply, Request
from waitbus.sources.webhook.http import Limits, Listener, Route


def listener(settings: Settings, port: int) -> Listener:
    """The webhook listener `settings` describe, serving every route on `port`."""
    limits = Limits(max_body_bytes=settings.webhook_max_body_bytes,
                    max_header_bytes=settings.webhook_max_header_bytes,
                    request_timeout_s=settings.webhook_request_timeout_s)
    return Listener(port, routes(settings.paths), limits)


def routes(paths: StatePaths) -> dict[str, Route]:
    """Each path's handler; secrets are read per request, so setting one needs no restart."""
    return {
        "/github": _with_secret(GITHUB_WEBHOOK, paths, github.handle),
        "/alertmanager": _with_secret(ALERTMANAGER_TOKEN, paths, alertmanager.handle),
    }


def _with_secret(name: str, paths: StatePaths,
                 handle: Callable[..., Reply]) -> Route:
    def route(request: Request, received_at: int) -> Reply:
        try:
            secret = read_secret(name, paths)
        except WaitbusError as exc:
            return Reply(503, f"the {name} secret cannot be used: {exc}")
        reply: Reply = handle(request, secret, received_at=received_at)
        return reply

    return route
