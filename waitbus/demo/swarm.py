"""`waitbus swarm-demo`: agent processes on one bus; a seed wakes them, a death is noticed."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from waitbus.demo import agent, processes
from waitbus.demo.ledger import Ledger
from waitbus.demo.swarm_checks import SwarmResult, check
from waitbus.errors import UsageError
from waitbus.event import Conclusion, Event
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter

Report = Callable[[str], None]
MAX_AGENTS = 64


@dataclass
class Child:
    """One agent process the supervisor started."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    framework: str
    status: int | None = None


@dataclass
class Swarm:
    """The supervisor: starts the bus and the agents, drives the run, and checks it."""

    root: Path
    report: Report
    count: int
    victim: int
    timeout_s: float
    # One framework per agent, round robin ("" for a plain waitbus agent).
    frameworks: tuple[str, ...] = ("",)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    children: list[Child] = field(default_factory=list)

    @property
    def paths(self) -> StatePaths:
        return resolve(self.root / "state")

    async def drive(self, ledger: Ledger, before_kill: Callable[[str], None] | None,
                    result: SwarmResult) -> None:
        """The run's phases in order; each waits on events, with a bound."""
        self._spawn()
        if not await self._phase(ledger, agent.READY, {}, self.count, "reported ready", result):
            return
        self.report(f"{self.count} agents subscribed")
        seed = self._emit(agent.SEED, "swarm", "seed: every agent, wake up and react")
        result.seed = seed
        if not await self._phase(ledger, agent.REACTION, {"seed": seed.cursor}, self.count,
                                 f"reacted to seed #{seed.cursor}", result):
            return
        self.report(f"seed #{seed.cursor} woke {self.count}/{self.count} agents; each reacted")
        victim = self.children[self.victim]
        if before_kill is not None:
            await asyncio.to_thread(before_kill, victim.name)
        await self._kill(victim, result)
        failure = self._emit(agent.FAILED, victim.name, f"{victim.name} died (SIGKILL)",
                             Conclusion.FAILURE, pid=victim.proc.pid)
        result.failure = failure
        if not await self._phase(ledger, agent.ACK, {"failure": failure.cursor}, self.count - 1,
                                 f"noticed failure #{failure.cursor}", result):
            return
        self.report(f"failure #{failure.cursor} of {victim.name} noticed by "
                    f"{self.count - 1}/{self.count - 1} survivors")
        await self._stop_all(ledger, result)

    async def _phase(self, ledger: Ledger, step: str, fields: dict[str, object], want: int,
                     what: str, result: SwarmResult) -> bool:
        def done() -> bool:
            return len({e.subject for e in ledger.of(step, **fields)}) >= want

        if await ledger.until(done, self.timeout_s):
            return True
        got = len({e.subject for e in ledger.of(step, **fields)})
        result.problems.append(f"only {got} of {want} agents {what} within {self.timeout_s:g} s"
                               f"{self._logs()}")
        return False

    def _spawn(self) -> None:
        for n in range(1, self.count + 1):
            name = f"agent-{n}"
            log = self.root / f"{name}.log"
            framework = self.frameworks[(n - 1) % len(self.frameworks)]
            module = ("waitbus.demo.frameworks", "--framework", framework) if framework else (
                "waitbus.demo.agent",)
            argv = [sys.executable, "-m", *module, "--state-dir", str(self.paths.root),
                    "--run", self.run, "--name", name, "--lifetime", str(self.timeout_s * 4)]
            with open(log, "wb") as handle:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=handle)
            self.children.append(Child(name, proc, log, framework))
        self.report(f"started {self.count} agent processes (run {self.run})")

    async def _kill(self, victim: Child, result: SwarmResult) -> None:
        victim.proc.send_signal(signal.SIGKILL)
        victim.status = await asyncio.to_thread(victim.proc.wait, self.timeout_s)
        result.killed = victim.name
        self.report(f"killed {victim.name} (pid {victim.proc.pid}) with SIGKILL")

    async def _stop_all(self, ledger: Ledger, result: SwarmResult) -> None:
        stop = self._emit(agent.STOP, "swarm", "stop: the run is over")
        for child in self.children:
            if child.status is None:
                try:
                    child.status = await asyncio.to_thread(child.proc.wait, self.timeout_s)
                except subprocess.TimeoutExpired:
                    result.problems.append(f"{child.name} did not exit after the stop event")
        await ledger.until(lambda: bool(ledger.of(agent.STOP)), self.timeout_s)
        result.stop = stop

    def _emit(self, step: str, subject: str, body: str, conclusion: Conclusion | None = None,
              **extra: int) -> Event:
        item = agent.message(self.run, step, "swarm", body, subject=subject,
                             conclusion=conclusion, extra=dict(extra))
        return emitter.append(self.paths, item)[0]

    def _logs(self) -> str:
        tails = []
        for child in self.children:
            text = child.log.read_text(errors="replace").strip() if child.log.exists() else ""
            if text:
                tails.append(f"\n  {child.name}: {text.splitlines()[-1]}")
        return "".join(tails)

    def cleanup(self) -> None:
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                try:
                    child.proc.wait(self.timeout_s)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()


def run(report: Report, *, agents: int = 5, kill: int | None = None,
        before_kill: Callable[[str], None] | None = None, timeout_s: float = 30.0,
        frameworks: bool = False) -> SwarmResult:
    """Run the swarm in a fresh temporary directory and remove it afterwards.

    `kill` is the 1-based number of the agent to kill (default: the last one); `before_kill`
    is called (in a worker thread) with the victim's name just before the kill. With
    `frameworks`, the agents are Pydantic AI and LangGraph agents, round robin over those
    installed.
    """
    if not 2 <= agents <= MAX_AGENTS:
        msg = f"--agents {agents}: give 2 to {MAX_AGENTS} (one dies, the others must notice)"
        raise UsageError(msg)
    victim = agents if kill is None else kill
    if not 1 <= victim <= agents:
        msg = f"--kill {victim}: give an agent number from 1 to {agents}"
        raise UsageError(msg)
    chosen = _frameworks(report) if frameworks else ("",)
    swarm = Swarm(Path(tempfile.mkdtemp(prefix="waitbus-swarm-")), report, agents, victim - 1,
                  timeout_s, chosen)
    result = SwarmResult(agents=agents)
    daemon = None
    try:
        report(f"state directory {swarm.paths.root} (temporary)")
        # No webhook listener: the demo touches nothing outside its temporary directory.
        argv = processes.waitbus_argv(swarm.paths.root, "serve", "--listen-port", "off")
        daemon = processes.start(argv, ready="serving", stream="stdout")
        report(f"daemon started (pid {daemon.pid})")
        asyncio.run(_supervise(swarm, before_kill, result))
    except processes.ChildFailed as exc:
        result.problems.append(str(exc))
    finally:
        swarm.cleanup()
        if daemon is not None and processes.stop(daemon) != 0:
            result.problems.append("the daemon did not exit cleanly on SIGTERM")
        shutil.rmtree(swarm.root, ignore_errors=True)
    return result


def _frameworks(report: Report) -> tuple[str, ...]:
    from waitbus.demo.frameworks import FRAMEWORKS, installed

    found = installed()
    if not found:
        msg = (f"--frameworks: none of {', '.join(FRAMEWORKS)} is installed here; install "
               "pydantic-ai-slim[mcp] and langgraph (`uv sync` installs them with the dev group)")
        raise UsageError(msg)
    missing = [name for name in FRAMEWORKS if name not in found]
    report("agents on " + ", ".join(f"{name} {version}" for name, version in found.items())
           + (f" ({', '.join(missing)} not installed)" if missing else ""))
    return tuple(found)


async def _supervise(swarm: Swarm, before_kill: Callable[[str], None] | None,
                     result: SwarmResult) -> None:
    ledger = Ledger(swarm.paths, swarm.run, cursor=0)
    try:
        await ledger.start(swarm.timeout_s)
        await swarm.drive(ledger, before_kill, result)
    finally:
        await ledger.close()
    statuses = {child.name: child.status for child in swarm.children}
    check(swarm.paths, swarm.run, ledger.events, statuses, result)
    for row, child in zip(result.rows, swarm.children, strict=True):
        row.framework = child.framework or "waitbus"
