"""Outside text printed for people has its terminal escapes shown, never obeyed; JSON is exact."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.sources.webhook_client import (
    SECRET,
    deliver,
    fixture,
    listening_daemon,
    write_secret,
)
from waitbus import emit
from waitbus.secrets import GITHUB_WEBHOOK

# Clear the screen, then retitle the terminal window (an OSC sequence ended by BEL).
HOSTILE = "o/r\x1b[2J\x1b]0;pwned\x07"
SHOWN = "o/r\\e[2J\\e]0;pwned\\x07"


def raw_bytes_absent(text: str) -> bool:
    return not any(ch in text for ch in "\x1b\x07\x9b")


def test_a_signed_webhook_with_escapes_is_shown_escaped_by_tail_wait_and_events(
        state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    obj = json.loads(fixture("ping"))
    obj["repository"]["full_name"] = HOSTILE
    body = json.dumps(obj).encode()
    with listening_daemon(state_dir) as (url, _proc):
        assert deliver(url, "ping", "esc-1", body).status == 200
        tail = run_cli(state_dir, "tail")
        wait = run_cli(state_dir, "wait", "--source", "github", "--since", "0",
                       "--timeout", "10s")
    got = run_cli(state_dir, "events", "get", "github:esc-1", "--payload")
    for done in (tail, wait, got):
        assert done.returncode == 0, done.stderr
        assert raw_bytes_absent(done.stdout), done.stdout
        assert SHOWN in done.stdout
    as_json = run_cli(state_dir, "tail", "--json")
    assert json.loads(as_json.stdout)["subject"] == HOSTILE


def test_emit_and_tail_show_a_newline_in_a_type_on_one_line(state_dir: Path) -> None:
    done = run_cli(state_dir, "emit", "--source", "ci", "--type", "build\nfake line",
                   "--subject", "a\u202eb")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert "ci/build\\nfake line a\\u202eb" in done.stdout
    tail = run_cli(state_dir, "tail")
    assert tail.stdout.count("\n") == 1
    assert "\u202e" not in tail.stdout


def test_an_error_quoting_outside_text_is_escaped(state_dir: Path) -> None:
    emit("ci", "build", state_dir=state_dir)
    done = run_cli(state_dir, "events", "get", "no\x1b]0;such\x07")
    assert done.returncode == 2
    assert raw_bytes_absent(done.stderr)
    assert "\\e]0;such\\x07" in done.stderr


def test_events_query_output_is_escaped(state_dir: Path) -> None:
    emit("ci", "build", subject=HOSTILE, state_dir=state_dir)
    done = run_cli(state_dir, "events", "query", "SELECT subject FROM events")
    assert done.returncode == 0, done.stderr
    assert raw_bytes_absent(done.stdout)
    assert SHOWN in done.stdout
