"""Emit -> MCP `wait` return, and emit -> resources/updated notification, open loop.

    uv run python -m benchmarks.bench_mcp --n 200 --rate 50

One real daemon and one `waitbus mcp` subprocess, driven by the MCP SDK's stdio client. Emits
are committed by this process on a fixed schedule (from a thread, so a slow reply never delays
the next emit), and latency is the arrival time minus the emit's intended time.

- wait: each round starts `--batch` concurrent `wait` calls, each for its own fields.seq; once
  every one has reported progress (its subscription is live), the round's emits go out on the
  schedule. A call returning is the arrival.
- notify: one resources/subscribe per event, on waitbus://latest/bench/<seq>, so each
  notification names exactly one emit and none coalesce; then every emit goes out on the
  schedule. A notification reaching the client's message handler is the arrival.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPDeprecationWarning

from benchmarks.children import child_env
from benchmarks.harness import (
    Samples,
    Schedule,
    Summary,
    host_info,
    pace,
    print_table,
    summarize,
    write_json,
)
from waitbus import emit
from waitbus.demo import processes

SOURCE = "bench"


@asynccontextmanager
async def session(state_dir: Path, on_update: Any) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "waitbus", "--state-dir", str(state_dir), "mcp"],
        env=child_env())

    async def handler(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            on_update(message.params.uri, time.monotonic_ns())

    with open(state_dir.parent / "mcp.err", "w") as err:
        async with (stdio_client(params, errlog=err) as (read, write),
                    ClientSession(read, write, message_handler=handler) as client):
            await client.initialize()
            yield client


def emit_on_schedule(state_dir: Path, seqs: list[int], times_ns: list[int]) -> None:
    for seq, intended in zip(seqs, times_ns, strict=True):
        pace(intended)
        emit(SOURCE, "tick", subject=str(seq), fields={"seq": seq}, state_dir=state_dir)


async def wait_round(client: ClientSession, state_dir: Path, seqs: list[int], rate_hz: float,
                     samples: Samples) -> None:
    live = {seq: anyio.Event() for seq in seqs}
    returned: dict[int, int] = {}

    async def one(seq: int) -> None:
        async def progress(progress: float, total: float | None, message: str | None) -> None:
            live[seq].set()

        result = await client.call_tool(
            "wait", {"source": SOURCE, "match": [f"fields.seq={seq}"], "timeout_s": 60},
            progress_callback=progress)
        returned[seq] = time.monotonic_ns()
        assert isinstance(result, types.CallToolResult)
        assert isinstance(result.structured_content, dict)
        assert result.structured_content["outcome"] == "matched", result.content

    async with anyio.create_task_group() as group:
        for seq in seqs:
            group.start_soon(one, seq)
        for event in live.values():
            await event.wait()
        times = Schedule(rate_hz=rate_hz, n=len(seqs)).times_ns()
        await anyio.to_thread.run_sync(emit_on_schedule, state_dir, seqs, times)
    for seq, intended in zip(seqs, times, strict=True):
        samples.add(intended, returned[seq])


async def measure_wait(state_dir: Path, n: int, rate_hz: float, batch: int) -> Samples:
    samples = Samples("emit -> MCP wait return", expected=n)
    async with session(state_dir, lambda _uri, _ns: None) as client:
        for start in range(0, n, batch):
            seqs = list(range(start, min(n, start + batch)))
            await wait_round(client, state_dir, seqs, rate_hz, samples)
    return samples


async def measure_notify(state_dir: Path, n: int, rate_hz: float) -> Samples:
    samples = Samples("emit -> resources/updated", expected=n)
    arrived: dict[str, int] = {}
    done = anyio.Event()

    def on_update(uri: str, now_ns: int) -> None:
        arrived.setdefault(uri, now_ns)
        if len(arrived) == n:
            done.set()

    base = n * 10  # subjects unused by the wait scenario
    seqs = list(range(base, base + n))
    async with session(state_dir, on_update) as client:
        with warnings.catch_warnings():
            # resources/subscribe is the 2025 wire's call, deprecated for the 2026 wire.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            for seq in seqs:
                await client.subscribe_resource(f"waitbus://latest/{SOURCE}/{seq}")
        times = Schedule(rate_hz=rate_hz, n=n).times_ns()
        await anyio.to_thread.run_sync(emit_on_schedule, state_dir, seqs, times)
        with anyio.move_on_after(30):
            await done.wait()
    for seq, intended in zip(seqs, times, strict=True):
        got = arrived.get(f"waitbus://latest/{SOURCE}/{seq}")
        if got is not None:
            samples.add(intended, got)
    return samples


def run(n: int, rate_hz: float, batch: int) -> dict[str, Summary]:
    with tempfile.TemporaryDirectory(prefix="wbm-") as tmp:
        state_dir = Path(tmp) / "s"
        daemon = processes.start(processes.waitbus_argv(state_dir, "serve"), ready="serving",
                                 stream="stdout", env=child_env())
        try:
            waits = anyio.run(measure_wait, state_dir, n, rate_hz, batch)
            notes = anyio.run(measure_notify, state_dir, n, rate_hz)
        finally:
            processes.stop(daemon)
    return {"wait": summarize(waits), "notify": summarize(notes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="samples per scenario")
    parser.add_argument("--rate", type=float, default=50.0, help="emits per second")
    parser.add_argument("--batch", type=int, default=20,
                        help="concurrent wait calls per round (wait scenario)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args.n, args.rate, args.batch)
    print_table(f"MCP over stdio, open loop at {args.rate:g}/s, ms",
                [result["wait"], result["notify"]])
    if args.json:
        write_json(args.json, {"host": host_info(), "scenarios": {"mcp": result}})


if __name__ == "__main__":
    main()
