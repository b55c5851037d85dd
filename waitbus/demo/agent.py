"""One swarm-demo agent: a child process that reacts to the swarm's events on the agent lane."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from waitbus.consumers.feed import Feed, start_cursor
from waitbus.event import JSON, Conclusion, Event
from waitbus.match import AnyOf, match
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter

LANE = "agent"
# Event types on the agent lane; every swarm event carries fields.run so runs never mix.
READY, SEED, REACTION, FAILED, ACK, STOP = "ready", "seed", "reaction", "failed", "ack", "stop"


def run_filter(run: str) -> AnyOf:
    """Every agent-lane event of one swarm run."""
    return AnyOf((match([f"fields.run={_quote(run)}"], source=LANE),))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Agent:
    """Subscribes, says it is ready, then answers the seed, a peer's failure and the stop."""

    def __init__(self, paths: StatePaths, run: str, name: str) -> None:
        self.paths = paths
        self.run = run
        self.name = name
        self.seen: list[int] = []

    def __repr__(self) -> str:
        return f"<Agent {self.name} run={self.run} seen={len(self.seen)}>"

    async def serve(self, lifetime_s: float) -> int:
        """Run until the stop event; 0 on a clean stop, 1 when `lifetime_s` ran out."""
        since = start_cursor(self.paths)
        feed = Feed(self.paths, run_filter(self.run), cursor=since)
        inbox: asyncio.Queue[tuple[Event, int]] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(feed, inbox))
        try:
            async with asyncio.timeout(lifetime_s):
                await self._until_live(feed, pump)
                self._emit(READY, {"since": since})
                while True:
                    event, woke_ns = await inbox.get()
                    if not self._react(event, woke_ns):
                        return 0
        except TimeoutError:
            return 1
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _until_live(self, feed: Feed, pump: asyncio.Task[None]) -> None:
        live = asyncio.create_task(feed.live.wait())
        await asyncio.wait({live, pump}, return_when=asyncio.FIRST_COMPLETED)
        if pump.done():
            live.cancel()
            pump.result()  # raises what ended the feed (NotRunning, Refused)

    async def _pump(self, feed: Feed, inbox: asyncio.Queue[tuple[Event, int]]) -> None:
        async for event in feed:
            inbox.put_nowait((event, time.time_ns()))

    def _react(self, event: Event, woke_ns: int) -> bool:
        """Answer one event; False once told to stop."""
        self.seen.append(event.cursor)
        if event.type == SEED:
            self._emit(REACTION, {"seed": event.cursor, "woke_ns": woke_ns})
        elif (event.type == FAILED and event.conclusion is Conclusion.FAILURE
              and event.subject != self.name):
            self._emit(ACK, {"failure": event.cursor, "woke_ns": woke_ns,
                             "seen": list[JSON](self.seen)})
        return event.type != STOP

    def _emit(self, type_: str, fields: dict[str, JSON]) -> None:
        item = emitter.draft(LANE, type_, subject=self.name,
                             fields={"run": self.run, "agent": self.name, **fields})
        emitter.append(self.paths, item)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m waitbus.demo.agent`; only the swarm demo starts it."""
    parser = argparse.ArgumentParser(prog="python -m waitbus.demo.agent")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--run", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--lifetime", type=float, default=120.0, metavar="SECONDS",
                        help="give up (exit 1) if no stop event arrives within this bound")
    args = parser.parse_args(argv)
    agent = Agent(resolve(args.state_dir), args.run, args.name)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(agent.serve(args.lifetime))
    return 130


if __name__ == "__main__":
    sys.exit(main())
