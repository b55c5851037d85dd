"""The swarm demo's invariants and its result: who woke, who noticed, and that nothing was lost."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

from waitbus.demo import agent
from waitbus.event import JSON, Event, JSONObject
from waitbus.paths import StatePaths
from waitbus.store.store import Store


@dataclass
class AgentRow:
    """One agent's line in the latency table."""

    name: str
    woke_ms: float | None = None
    noticed_ms: float | None = None
    killed: bool = False
    status: int | None = None
    framework: str = "waitbus"

    def to_json(self) -> JSONObject:
        return {"name": self.name, "framework": self.framework, "woke_ms": self.woke_ms,
                "noticed_ms": self.noticed_ms, "killed": self.killed, "exit_status": self.status}


@dataclass
class SwarmResult:
    """What the swarm run did and measured; `ok` only when every invariant held."""

    agents: int
    rows: list[AgentRow] = field(default_factory=list)
    killed: str | None = None
    seed: Event | None = None
    failure: Event | None = None
    stop: Event | None = None
    lane_events: int = 0
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.stop is not None and not self.problems

    def to_json(self) -> JSONObject:
        rows: list[JSON] = [row.to_json() for row in self.rows]
        checks: list[JSON] = list(self.checks)
        problems: list[JSON] = list(self.problems)
        return {"ok": self.ok, "agents": self.agents, "killed": self.killed,
                "seed_cursor": None if self.seed is None else self.seed.cursor,
                "failure_cursor": None if self.failure is None else self.failure.cursor,
                "lane_events": self.lane_events, "rows": rows, "checks": checks,
                "problems": problems}


def check(paths: StatePaths, run: str, seen: list[Event], statuses: dict[str, int | None],
          result: SwarmResult) -> None:
    """Fill the latency rows and record every invariant that held or broke."""
    result.rows = [_row(name, status, seen, result) for name, status in statuses.items()]
    if result.stop is None:
        return  # a phase already failed and said why
    survivors = [row for row in result.rows if not row.killed]
    _expect(result, all(row.woke_ms is not None for row in result.rows),
            f"every agent reacted to the seed ({len(result.rows)}/{result.agents})")
    _expect(result, all(row.noticed_ms is not None for row in survivors),
            f"every survivor noticed the failure ({len(survivors)}/{result.agents - 1})")
    killed_ok = all(row.status == -signal.SIGKILL for row in result.rows if row.killed)
    acked = [e for e in seen if agent.kind(e) == agent.ACK and e.subject == result.killed]
    _expect(result, killed_ok and not acked,
            f"{result.killed} died of SIGKILL and emitted nothing after it")
    _expect(result, all(row.status == 0 for row in survivors),
            "every survivor exited 0 on the stop event")
    with Store(paths, read_only=True) as store:
        stored = [e for e in store.read_after(0, limit=1_000_000)
                  if agent.run_match(run).matches(e)]
    lane = [e.cursor for e in stored]
    result.lane_events = len(lane)
    want = 3 * result.agents + 2
    _expect(result, len(lane) == want,
            f"the store holds {len(lane)} agent messages in this run's thread (expected {want})")
    _expect(result, [e.cursor for e in seen] == lane,
            "the supervisor's subscription got every one of them once, in order")
    _expect(result, all(_ack_matches(e, lane, seen) for e in seen if agent.kind(e) == agent.ACK),
            "each survivor saw every event from its subscription up to the failure, "
            "no gap and no duplicate")


def _row(name: str, status: int | None, seen: list[Event], result: SwarmResult) -> AgentRow:
    row = AgentRow(name, status=status, killed=name == result.killed)
    if result.seed is not None:
        row.woke_ms = _wake_ms(seen, agent.REACTION, name, "seed", result.seed)
    if result.failure is not None:
        row.noticed_ms = _wake_ms(seen, agent.ACK, name, "failure", result.failure)
    return row


def _wake_ms(seen: list[Event], step: str, name: str, key: str, cause: Event) -> float | None:
    for event in seen:
        if (agent.kind(event) == step and event.subject == name
                and event.fields.get(key) == cause.cursor):
            woke_ns = event.fields.get("woke_ns")
            if isinstance(woke_ns, int):
                return (woke_ns - cause.received_at) / 1e6
    return None


def _ack_matches(ack: Event, lane: list[int], seen: list[Event]) -> bool:
    """The ack's list of cursors equals the store's, from the agent's start to the failure."""
    ready = [e for e in seen if agent.kind(e) == agent.READY and e.subject == ack.subject]
    since, failure = (ready[0].fields.get("since") if ready else None), ack.fields.get("failure")
    if not isinstance(since, int) or not isinstance(failure, int):
        return False
    return ack.fields.get("seen") == [c for c in lane if since < c <= failure]


def _expect(result: SwarmResult, held: bool, text: str) -> None:
    if held:
        result.checks.append(text)
    else:
        result.problems.append(f"broken: {text}")

