"""The connection to NATS: credentials and TLS in, a connected client out, refusals explained."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client, RawCredentials

from waitbus.bridge.config import Settings
from waitbus.errors import UsageError, WaitbusError

log = logging.getLogger(__name__)
_REFUSALS = ("authorization violation", "authentication", "user authentication expired",
             "account authentication expired", "permissions violation")


class NatsRefused(UsageError):
    """The server refused this bridge's credentials; retrying would not help."""


class Unreachable(WaitbusError):
    """No NATS server answered at the URL."""


async def connect(settings: Settings, *, on_state: Callable[[bool], None],
                  on_refused: Callable[[NatsRefused], None]) -> Client:
    """Connect to `settings.url`; reconnect forever afterwards, reporting each change.

    Raises:
        NatsRefused: the server refused the credentials (or their absence).
        Unreachable: no server answered within the first attempts.
    """
    refused: asyncio.Future[NatsRefused] = asyncio.get_running_loop().create_future()

    async def error_cb(exc: Exception) -> None:
        if _is_refusal(exc) or isinstance(exc, ssl.SSLCertVerificationError):
            problem = NatsRefused(_refusal_message(settings, exc))
            if not refused.done():
                refused.set_result(problem)
            on_refused(problem)
        else:
            log.info("nats: %s", exc or type(exc).__name__)

    async def disconnected_cb() -> None:
        on_state(False)

    async def reconnected_cb() -> None:
        on_state(True)

    attempt: asyncio.Future[Client] = asyncio.ensure_future(nats.connect(
        settings.url, error_cb=error_cb, disconnected_cb=disconnected_cb,
        reconnected_cb=reconnected_cb, max_reconnect_attempts=-1, reconnect_time_wait=1,
        connect_timeout=2, name=f"waitbus-bridge-{settings.host}", **_auth(settings)))
    either: list[asyncio.Future[Client] | asyncio.Future[NatsRefused]] = [attempt, refused]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if refused.done():
        attempt.cancel()
        with contextlib.suppress(BaseException):
            await attempt
        raise refused.result()
    try:
        client = attempt.result()
    except (OSError, nats.errors.Error) as exc:
        msg = f"no NATS server answered at {settings.url} ({exc}); start it or fix --url"
        raise Unreachable(msg) from exc
    on_state(True)
    return client


def _auth(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {}
    creds = settings.credentials
    if creds.creds is not None:
        options["user_credentials"] = RawCredentials(creds.creds)
    elif creds.nkey_seed is not None:
        options["nkeys_seed_str"] = creds.nkey_seed
    if settings.tls_ca is not None:
        options["tls"] = ssl.create_default_context(cafile=str(settings.tls_ca))
    elif settings.url.startswith("tls://"):
        options["tls"] = ssl.create_default_context()
    return options


def _is_refusal(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, nats.errors.AuthorizationError) or any(
        word in text for word in _REFUSALS)


def _refusal_message(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the NATS server at {settings.url} presented a certificate this bridge cannot "
                f"verify ({exc.verify_message or exc}); pass --tls-ca FILE with the CA that "
                "signed it")
    given = settings.credentials.origin or "no credentials"
    return (f"the NATS server at {settings.url} refused this bridge ({str(exc).strip()}) "
            f"with {given}; check --creds or --nkey (or the nats-creds / nats-nkey secret) "
            "and the server's authorization settings")
