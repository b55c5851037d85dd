"""`waitbus swarm-demo` as a user runs it: real agent processes, a real kill, checked output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.e2e.tmux_pane import Pane, tmux_env

BOUND_S = 120.0


def _swarm(*args: str, bound_s: float = BOUND_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "waitbus", "swarm-demo", *args],
                          capture_output=True, text=True, timeout=bound_s, check=False,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_swarm_of_five_wakes_every_agent_and_survivors_notice_the_killed_one() -> None:
    result = _swarm("--agents", "5")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "swarm: 5 agents subscribed" in out
    assert re.search(r"swarm: seed #\d+ woke 5/5 agents", out)
    assert re.search(r"swarm: killed agent-5 \(pid \d+\) with SIGKILL", out)
    assert re.search(r"swarm: failure #\d+ of agent-5 noticed by 4/4 survivors", out)
    for n in range(1, 5):
        assert re.search(rf"^agent-{n} +\d+\.\d+ ms +\d+\.\d+ ms +0$", out, re.MULTILINE), out
    assert re.search(r"^agent-5 +\d+\.\d+ ms +killed +-9$", out, re.MULTILINE), out
    assert "swarm: ok: the store holds 17 agent messages in this run's thread (expected 17)" in out
    assert "no gap and no duplicate" in out
    assert out.rstrip().endswith("swarm: all invariants hold")
    assert "Traceback" not in result.stderr


def test_swarm_kill_picks_the_agent_and_json_reports_every_latency() -> None:
    result = _swarm("--agents", "5", "--kill", "2", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["killed"] == "agent-2"
    assert report["lane_events"] == 17
    assert report["problems"] == []
    rows = {row["name"]: row for row in report["rows"]}
    assert sorted(rows) == [f"agent-{n}" for n in range(1, 6)]
    assert all(row["woke_ms"] > 0 for row in rows.values())
    assert rows["agent-2"]["killed"] is True
    assert rows["agent-2"]["noticed_ms"] is None
    assert rows["agent-2"]["exit_status"] == -9
    survivors = [row for name, row in rows.items() if name != "agent-2"]
    assert all(row["noticed_ms"] > 0 and row["exit_status"] == 0 for row in survivors)


def test_swarm_on_frameworks_wakes_pydantic_ai_and_langgraph_agents_and_survivors_notice(
        ) -> None:
    # Each Pydantic AI agent starts its own `waitbus mcp`; the phases allow 120 s each.
    result = _swarm("--frameworks", "--agents", "3", "--kill", "2", "--json", bound_s=600)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True, report["problems"]
    rows = {row["name"]: row for row in report["rows"]}
    assert {name: row["framework"] for name, row in rows.items()} == {
        "agent-1": "pydantic-ai", "agent-2": "langgraph", "agent-3": "pydantic-ai"}
    assert all(row["woke_ms"] > 0 for row in rows.values())
    assert rows["agent-2"]["killed"] is True
    assert all(rows[name]["noticed_ms"] > 0 for name in ("agent-1", "agent-3"))
    assert report["lane_events"] == 11


def test_swarm_refuses_too_few_agents_with_a_usage_error() -> None:
    result = _swarm("--agents", "1")
    assert result.returncode == 2
    assert "give 2 to 64" in result.stderr
    assert "Traceback" not in result.stderr


def test_swarm_refuses_a_kill_outside_the_swarm() -> None:
    result = _swarm("--agents", "3", "--kill", "4")
    assert result.returncode == 2
    assert "give an agent number from 1 to 3" in result.stderr


def test_swarm_pause_kills_on_a_key_press_in_a_terminal() -> None:
    pane = Pane([sys.executable, "-m", "waitbus", "swarm-demo", "--agents", "3", "--pause"],
                tmux_env())
    try:
        pane.wait_for("press any key to kill agent-3")
        pane.send("k")
        screen = pane.wait_for("[exited with status")
        assert "killed agent-3" in screen
        assert "noticed by 2/2 survivors" in screen
        assert "swarm: all invariants hold" in screen
        assert "[exited with status 0]" in screen
    finally:
        pane.close()
