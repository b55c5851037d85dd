"""`waitbus hook-event CLIENT`: record one agent client's hook call as an event, at once.

The agent waits for this process, so it exits 0 whatever happens and leaves the store write to
a detached child. Standard library only until that fork (see benchmarks/bench_hook.py).
"""

from __future__ import annotations

import json
import os
import select
import sys

from waitbus.integrations import lifecycle

MAX_INPUT_BYTES = 1 << 20
# Clients write the whole payload and close stdin before they wait; this only bounds a caller
# that never does (a person typing the command).
STDIN_WAIT_S = 0.05


def run(argv: list[str]) -> int:
    """Handle `[--state-dir DIR] hook-event CLIENT [PAYLOAD]`; the payload is stdin if absent."""
    try:
        state_dir, words = _split(argv)
        client = words[0]
        # Codex CLI's notify program gets its JSON as the last argument, hooks get it on stdin.
        raw = words[1] if len(words) > 1 else _read_stdin()
        payload = json.loads(raw) if raw.strip() else {}
        described = lifecycle.describe(client, payload) if isinstance(payload, dict) else None
        if described is not None:
            _commit_detached(state_dir, described)
    except Exception:  # nothing may reach the agent that called the hook
        return 0
    return 0


def _split(argv: list[str]) -> tuple[str | None, list[str]]:
    state_dir = None
    words = list(argv)
    if words[:1] == ["--state-dir"]:
        state_dir, words = words[1], words[2:]
    elif words[:1] and words[0].startswith("--state-dir="):
        state_dir, words = words[0].split("=", 1)[1], words[1:]
    if words[:1] == ["hook-event"]:
        words = words[1:]
    return state_dir, words


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    fd = sys.stdin.fileno()
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_INPUT_BYTES:
        ready, _, _ = select.select([fd], [], [], STDIN_WAIT_S)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _commit_detached(state_dir: str | None, described: lifecycle.Described) -> None:
    try:
        pid = os.fork()
    except OSError:
        _commit(state_dir, described)
        return
    if pid:
        return
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _commit(state_dir, described)
    finally:
        os._exit(0)


def _commit(state_dir: str | None, described: lifecycle.Described) -> None:
    from waitbus.paths import resolve
    from waitbus.sources import emitter

    try:
        item = emitter.draft(lifecycle.SOURCE, described.type, subject=described.subject,
                             conclusion=described.conclusion, fields=described.fields,
                             delivery_id=described.delivery_id)
        emitter.append(resolve(state_dir).ensure(), item)
    except Exception:  # noqa: S110 - an unwritable store loses this one event, quietly
        pass
    finally:
        emitter.close_all()
