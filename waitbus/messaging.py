"""Request and respond between agents, on top of emit and wait."""

from __future__ import annotations

import asyncio
import os
import uuid

from waitbus.api import refuse_inside_a_loop
from waitbus.consumers import wait as waiting
from waitbus.consumers.feed import DEFAULT_RECONNECT_S
from waitbus.consumers.since import NOW, Since
from waitbus.event import Conclusion, Event
from waitbus.paths import of_state_dir
from waitbus.sources import agents, emitter


async def arequest(to: str, body: str, *, sender: str, thread: str | None = None,
                   timeout_s: float | None = None,
                   state_dir: str | os.PathLike[str] | None = None,
                   reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Send `body` to `to` with a fresh correlation id and return the first reply.

    Raises WaitTimeout after `timeout_s`, and NotRunning when no daemon answers.
    """
    paths = of_state_dir(state_dir)
    # The wait starts at the head read before the request exists, so a reply that beats the
    # subscription is still replayed to it.
    cursor = NOW.start(paths)
    correlation = uuid.uuid4().hex
    message = agents.message(to, body, sender=sender, thread=thread, correlation=correlation)
    sent, _new = await asyncio.to_thread(emitter.append, paths, message)
    wait = waiting.build(agents.correlated(correlation, not_delivery=sent.delivery_id),
                         since=cursor, timeout_s=timeout_s)
    outcome = await waiting.run(wait, paths, reconnect_s=reconnect_s)
    return outcome.events[-1]


def request(to: str, body: str, *, sender: str, thread: str | None = None,
            timeout_s: float | None = None, state_dir: str | os.PathLike[str] | None = None,
            reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Blocking form of arequest."""
    refuse_inside_a_loop("request", "await arequest(...)")
    return asyncio.run(arequest(to, body, sender=sender, thread=thread, timeout_s=timeout_s,
                                state_dir=state_dir, reconnect_s=reconnect_s))


def respond(request: Event, body: str, *, sender: str | None = None,
            conclusion: Conclusion | str | None = None,
            state_dir: str | os.PathLike[str] | None = None) -> Event:
    """Answer `request` (an agent message): to its sender, with its correlation and thread.

    `sender` defaults to the request's addressee. Answering the same request twice as the same
    sender stores one reply.
    """
    reply = agents.reply(request, body, sender=sender, conclusion=conclusion)
    return emitter.append(of_state_dir(state_dir), reply)[0]


async def arespond(request: Event, body: str, *, sender: str | None = None,
                   conclusion: Conclusion | str | None = None,
                   state_dir: str | os.PathLike[str] | None = None) -> Event:
    """The asyncio twin of respond: the commit runs in a worker thread, so the event loop
    keeps running while other writers hold the lock."""
    reply = agents.reply(request, body, sender=sender, conclusion=conclusion)
    event, _new = await asyncio.to_thread(emitter.append, of_state_dir(state_dir), reply)
    return event


async def areceive(name: str, *, timeout_s: float | None = None,
                   since: int | Since | None = None,
                   state_dir: str | os.PathLike[str] | None = None,
                   reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """The next message in inbox `name`: addressed to `name` or to everyone ("*")."""
    wait = waiting.build(inbox=name, since=since, timeout_s=timeout_s)
    outcome = await waiting.run(wait, of_state_dir(state_dir), reconnect_s=reconnect_s)
    return outcome.events[-1]


def receive(name: str, *, timeout_s: float | None = None, since: int | Since | None = None,
            state_dir: str | os.PathLike[str] | None = None,
            reconnect_s: float = DEFAULT_RECONNECT_S) -> Event:
    """Blocking form of areceive."""
    refuse_inside_a_loop("receive", "await areceive(...)")
    return asyncio.run(areceive(name, timeout_s=timeout_s, since=since, state_dir=state_dir,
                                reconnect_s=reconnect_s))
