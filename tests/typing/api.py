"""Type-level checks of the public API: mypy reads this file, pytest never runs it."""

from __future__ import annotations

import waitbus
from waitbus import Conclusion, Event, WaitbusError, WaitTimeout


def sync_usage() -> None:
    stored: Event = waitbus.emit("agent", "message", fields={"to": "*"}, subject="s",
                                 conclusion=Conclusion.SUCCESS, delivery_id="k")
    cursor: int = stored.cursor
    try:
        found: Event = waitbus.wait_for('conclusion="failure"', source="pytest", timeout_s=1.5,
                                        since=cursor)
    except WaitTimeout as exc:
        resume: int = exc.cursor
        del resume
    except WaitbusError:
        raise
    else:
        del found
    started: Event = waitbus.wait_for(source="ci", since=waitbus.Since.process_start())
    del started
    for event in waitbus.subscribe(source="docker", payload=True, since=waitbus.Since.ago(60)):
        text: str | None = event.payload
        del text


async def async_usage() -> None:
    stored = await waitbus.aemit("agent", "status", conclusion="failure")
    found: Event = await waitbus.await_for(all_of=['pytest:type="session"'], since=stored.cursor)
    del found
    async for event in waitbus.asubscribe(["fields.n>1"], source="x"):
        received: int = event.received_at
        del received


def agent_usage() -> None:
    reply: Event = waitbus.request("bob", "ready?", sender="alice", thread="t", timeout_s=5.0)
    answer: Event = waitbus.respond(reply, "yes", sender="bob", conclusion=Conclusion.SUCCESS)
    del answer


async def async_agent_usage() -> None:
    reply: Event = await waitbus.arequest("*", "anyone?", sender="alice")
    await waitbus.arespond(reply, "me", conclusion="success")


def batch_usage() -> None:
    stored: list[Event] = waitbus.emit_many(
        [{"source": "ci", "type": "step", "fields": {"n": 1}, "subject": "me/repo"}])
    del stored


async def async_batch_usage() -> None:
    stored: list[Event] = await waitbus.aemit_many([{"source": "ci", "type": "step"}])
    del stored
