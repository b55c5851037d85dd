"""The measured program under callgrind: fixed inputs, then each hot path run COUNTS times.

`python -m benchmarks.callgrind_workload HOT_PATH...` builds every input first, then runs each
hot path between two calls of os.sched_yield(), which nothing else here calls: the gate runs
callgrind with --dump-before=sched_yield, so each hot path's instructions land in a dump of
their own. WAITBUS_CALLGRIND_SLOWDOWN=HOT_PATH adds work to that path, to show the gate fails.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

from waitbus import wire
from waitbus.bus.broadcast import Broadcast
from waitbus.bus.subscriber import Subscriber
from waitbus.event import Conclusion, Draft, Event
from waitbus.match import AnyOf, Match, parse_clause
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store

FAN_OUT_SUBSCRIBERS = 50
SLOWDOWN_ENV = "WAITBUS_CALLGRIND_SLOWDOWN"
FAN_OUT = f"bus.fan_out_to_{FAN_OUT_SUBSCRIBERS}"
BURST = 100
EMIT_MANY = f"sources.emitter.emit_many_{BURST}"
# Operations per measured run: enough that start-up noise is far below the gate's threshold.
COUNTS = {
    "wire.encode_event": 400,
    "wire.FrameDecoder.feed": 100,
    "match.AnyOf.matches": 1000,
    "store.Store.append": 50,
    FAN_OUT: 20,
    EMIT_MANY: 10,
}

EVENT = Event(
    cursor=41, delivery_id="d" * 32, source="github", type="workflow_run",
    subject="octo/widgets", conclusion=Conclusion.FAILURE, received_at=1_700_000_000_000_000_000,
    fields={"branch": "main", "run": {"id": 123456, "attempt": 2}, "labels": ["ci", "linux"]},
)
MATCH = AnyOf((
    Match("docker", (parse_clause('fields.exit_code=0'),)),
    Match("github", (parse_clause('fields.branch~"ma*"'), parse_clause("fields.run.attempt>=2"),
                     parse_clause('conclusion="failure"'))),
))


_SCRATCH: list[Path] = []


def _scratch() -> Path:
    """One temporary folder per run, removed when the run ends."""
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="wb-cg-")))
    return _SCRATCH[0]


def draft(seq: int) -> Draft:
    return Draft(source="bench", type="tick", delivery_id=f"id-{seq:08d}",
                 received_at=1_700_000_000_000_000_000 + seq, subject="s",
                 fields={"seq": seq, "name": "x" * 40})


def encode(count: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(count):
            wire.encode_event(EVENT)
    return run


def decode(count: int) -> Callable[[], None]:
    frame = wire.encode_event(EVENT)
    stream = frame * 4
    decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)

    def run() -> None:
        for _ in range(count):
            for obj in decoder.feed(stream):
                wire.parse_reply(obj)
    return run


def match(count: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(count):
            MATCH.matches(EVENT)
    return run


def append(count: int) -> Callable[[], None]:
    store = Store(resolve(_scratch() / "append"))
    store.append(draft(-1))  # the first append creates the tables' pages; keep it out
    drafts = [draft(seq) for seq in range(COUNTS["store.Store.append"])]

    def run() -> None:
        for item in drafts[:count]:
            store.append(item)
    return run


class _NullTransport:
    """A transport with room to spare: the live path writes straight to it."""

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        del data


class _NullWriter:
    """Stands in for asyncio.StreamWriter (a real socket would make the count noisy)."""

    transport = _NullTransport()

    def write(self, data: bytes) -> None:
        del data


def fan_out(count: int) -> Callable[[], None]:
    store = Store(resolve(_scratch() / "fan-out"))
    broadcast = Broadcast(store, batch_rows=1)
    loop = asyncio.new_event_loop()  # Subscriber holds an asyncio.Event; give it a loop
    asyncio.set_event_loop(loop)
    request = wire.Subscribe(AnyOf((Match("bench", ()),)))
    for _ in range(FAN_OUT_SUBSCRIBERS):
        sub = Subscriber(uid=0, writer=cast(asyncio.StreamWriter, _NullWriter()), request=request,
                         since=0, max_queue_frames=1 << 30)
        sub.live = True
        broadcast.subscribers.add(sub)
    # The same rows are committed in both runs; only the measured run fans them out.
    rows = COUNTS[FAN_OUT]
    for seq in range(rows):
        store.append(draft(seq))

    def run() -> None:
        if count:
            assert count == rows, f"fan-out always offers {rows} rows"
            broadcast.fan_out()
    return run


def emit_many(count: int) -> Callable[[], None]:
    """Bursts as `emit_many` takes them: JSON objects checked into drafts, one transaction."""
    paths = resolve(_scratch() / "emit-many")
    emitter.append(paths, draft(-1))  # creates the store and caches the connection
    bursts = [[{"source": "bench", "type": "tick", "subject": "s", "delivery_id": f"b{n}-{i}",
                "fields": {"seq": i, "name": "x" * 40}} for i in range(BURST)]
              for n in range(COUNTS[EMIT_MANY])]

    def run() -> None:
        for burst in bursts[:count]:
            emitter.append_many(paths, [emitter.draft_of(spec) for spec in burst])
    return run


HOT_PATHS: dict[str, Callable[[int], Callable[[], None]]] = {
    "wire.encode_event": encode,
    "wire.FrameDecoder.feed": decode,
    "match.AnyOf.matches": match,
    "store.Store.append": append,
    FAN_OUT: fan_out,
    EMIT_MANY: emit_many,
}


def _slowed(run: Callable[[], None]) -> Callable[[], None]:
    def slow() -> None:
        run()
        # The deliberate regression: a fixed extra cost on top of the real work.
        total = 0
        for i in range(50_000):
            total += i
    return slow


def main(argv: list[str]) -> int:
    runs = [HOT_PATHS[name](COUNTS[name]) for name in argv]
    slow = os.environ.get(SLOWDOWN_ENV)
    runs = [_slowed(run) if name == slow else run for name, run in zip(argv, runs, strict=True)]
    try:
        for run in runs:
            # A collection started inside a run would charge it for every object the inputs
            # made: collect first, and keep what exists out of later collections.
            gc.collect()
            gc.freeze()
            os.sched_yield()  # a dump boundary (see the module docstring)
            run()
        os.sched_yield()
    finally:
        for folder in _SCRATCH:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
