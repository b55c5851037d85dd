"""Another real process holding the store's write lock, as a stalled writer would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks.bench_stalled_writer import HOLDER
from waitbus.demo import processes
from waitbus.paths import StatePaths

BOUND_S = 30.0


@contextmanager
def holding_the_store_lock(paths: StatePaths) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the store's write lock until the block ends (or releases it)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(paths.store_lock),
                               str(paths.store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        if processes.read_until(holder.stdout, "holding", BOUND_S) is None:
            pytest.fail("the lock holder did not take the store's write lock")
        yield holder
    finally:
        release(holder)


def release(holder: subprocess.Popen[str]) -> None:
    if holder.poll() is None:
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(BOUND_S)
    assert holder.stdout is not None
    holder.stdout.close()


def waiting_on_the_lock(paths: StatePaths) -> bool:
    """Whether the kernel lists a process blocked on the store's write lock (/proc/locks)."""
    inode = str(os.stat(paths.store_lock).st_ino)
    with open("/proc/locks", encoding="ascii") as table:
        for line in table:
            words = line.split()
            # "1: -> FLOCK  ADVISORY  WRITE 1234 00:2b:5678 0 EOF": "->" marks a waiter.
            if len(words) > 6 and words[1] == "->" and words[2] == "FLOCK" \
                    and words[6].rsplit(":", 1)[-1] == inode:
                return True
    return False
