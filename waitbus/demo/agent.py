"""One swarm-demo agent: a child process that reacts to the swarm's events on the agent lane."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from waitbus.consumers.feed import Feed
from waitbus.consumers.since import NOW
from waitbus.event import JSON, Conclusion, Draft, Event
from waitbus.match import AnyOf, Clause, Match, Op
from waitbus.paths import StatePaths, resolve
from waitbus.sources import agents, emitter
from waitbus.wire import Live

# Every swarm event is an agent message to everyone whose thread is the run's id, so runs
# never mix; fields.kind says which step of the run it is.
READY, SEED, REACTION, FAILED, ACK, STOP = "ready", "seed", "reaction", "failed", "ack", "stop"


def run_match(run: str) -> AnyOf:
    """Every agent message of one swarm run."""
    return AnyOf((Match(agents.SOURCE, (Clause(("type",), Op.EQ, agents.TYPE),
                                        Clause(("fields", "thread"), Op.EQ, run))),))


def kind(event: Event) -> str | None:
    """The step of the run an event is (ready, seed, reaction, failed, ack or stop)."""
    value = event.fields.get("kind")
    return value if isinstance(value, str) else None


def message(run: str, step: str, sender: str, body: str, *, subject: str,
            conclusion: Conclusion | None = None, extra: dict[str, JSON] | None = None) -> Draft:
    """One swarm message from `sender` to everyone, in the run's thread."""
    return agents.message(agents.EVERYONE, body, sender=sender, thread=run, subject=subject,
                          conclusion=conclusion, extra={"kind": step, **(extra or {})})


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
        since = NOW.start(self.paths)
        feed = Feed(self.paths, run_match(self.run), cursor=since)
        ready = False
        try:
            async with (asyncio.timeout(lifetime_s),
                        contextlib.aclosing(feed.batches()) as batches):
                async for batch in batches:
                    woke_ns = time.time_ns()
                    for item in batch:
                        if isinstance(item, Live) and not ready:
                            ready = True
                            self.ready(since)
                        elif isinstance(item, Event) and not self.react(item, woke_ns):
                            return 0
        except TimeoutError:
            return 1
        msg = "a feed never ends"
        raise AssertionError(msg)  # pragma: no cover

    def ready(self, since: int) -> None:
        """Say that every event of the run after cursor `since` will reach this agent."""
        self._emit(READY, f"{self.name} is listening", since=since)

    def react(self, event: Event, woke_ns: int) -> bool:
        """Answer one event of the run, received in order; False once told to stop."""
        self.seen.append(event.cursor)
        step = kind(event)
        if step == SEED:
            self._emit(REACTION, f"{self.name} woke on seed #{event.cursor}",
                       seed=event.cursor, woke_ns=woke_ns)
        elif (step == FAILED and event.conclusion is Conclusion.FAILURE
              and event.subject != self.name):
            seen: list[JSON] = [*self.seen]
            self._emit(ACK, f"{self.name} saw {event.subject} fail", failure=event.cursor,
                       woke_ns=woke_ns, seen=seen)
        return step != STOP

    def _emit(self, step: str, body: str, **extra: JSON) -> None:
        item = message(self.run, step, self.name, body, subject=self.name,
                       extra={"agent": self.name, **extra})
        emitter.append(self.paths, item)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """What every swarm agent process is told: the bus, the run, its name and its lifetime."""
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--run", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--lifetime", type=float, default=120.0, metavar="SECONDS",
                        help="give up (exit 1) if no stop event arrives within this bound")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m waitbus.demo.agent`; only the swarm demo starts it."""
    parser = argparse.ArgumentParser(prog="python -m waitbus.demo.agent")
    add_arguments(parser)
    args = parser.parse_args(argv)
    agent = Agent(resolve(args.state_dir), args.run, args.name)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(agent.serve(args.lifetime))
    return 130


if __name__ == "__main__":
    sys.exit(main())
