"""The dashboard generator: a self-contained page with a plot per metric and the latest table."""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from benchmarks import dashboard


def run_doc(commit: str, started_ns: int, p99: float) -> dict[str, Any]:
    def row(label: str, value: float) -> dict[str, Any]:
        return {"label": label, "n": 100, "lost": 0, "p50": value / 2, "p90": value,
                "p99": value, "p99.9": value, "max": value}
    rows = [row("waitbus", p99), row("redis", 0.5), row("poll 1 s", 990.0)]
    return {
        "host": {"commit": commit, "cpu_model": "test cpu", "cores": 2, "kernel": "k",
                 "python": "3.11"},
        "started_ns": started_ns,
        "latency": {"emit -> subscriber": rows, "emit -> wait exit": rows,
                    "fan-out to 50 subscribers": rows, "fan-out to 50, last receiver": rows,
                    "process: emit, exec -> exit": rows,
                    "process: wait, exec -> subscribed": rows},
        "ratios": {"emit -> subscriber": {"redis": {"p50": p99, "p99": 2 * p99}},
                   "fan-out to 50, last receiver": {"redis": {"p50": p99, "p99": p99}}},
        "throughput": {"ingest, 1 producer": {"per_s": 5000.0}},
        "idle": {"waitbus": {"rss_mb": 20.0, "wakeups_per_min": 0.0},
                 "nats": {"rss_mb": 11.0, "wakeups_per_min": 2500.0}},
        "instructions": {"wire.encode_event": 69000.0},
    }


class Outline(HTMLParser):
    """Counts the tags that matter and collects every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.polylines: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "polyline":
            self.polylines.append(dict(attrs))
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def build(tmp_path: Path) -> Outline:
    runs = tmp_path / "baselines"
    runs.mkdir()
    # Written out of order: the page orders runs by when they started.
    for commit, started, p99 in (("cccccccccccc", 3, 0.9), ("aaaaaaaaaaaa", 1, 1.4),
                                 ("bbbbbbbbbbbb", 2, 1.1)):
        (runs / f"{commit}.json").write_text(json.dumps(run_doc(commit, started, p99)))
    # A per-source benchmark's result sits beside them and is not a run to plot.
    (runs / "fs-dddddddddddd.json").write_text(json.dumps({"scenarios": {}}))
    out = tmp_path / "site" / "index.html"
    assert dashboard.main(["--runs", str(runs), "--out", str(out)]) == 0
    outline = Outline()
    outline.feed(out.read_text())
    return outline


def test_page_has_one_plot_per_metric_with_a_point_per_commit(tmp_path: Path) -> None:
    outline = build(tmp_path)
    assert outline.tags["svg"] == len(dashboard.METRICS)
    waitbus = [p for p in outline.polylines if p["data-series"] == "waitbus"]
    assert waitbus
    assert all(len((p["points"] or "").split()) == 3 for p in waitbus)


def test_polling_rows_stay_out_of_the_plots_but_in_the_latest_table(tmp_path: Path) -> None:
    outline = build(tmp_path)
    assert not [p for p in outline.polylines if str(p["data-series"]).startswith("poll")]
    assert "poll 1 s" in outline.text


def test_latest_table_is_the_newest_run_with_its_ratios(tmp_path: Path) -> None:
    outline = build(tmp_path)
    text = " ".join(outline.text)
    assert "cccccccccccc" in text  # the newest by start time, though not the last file name
    assert "1.8x" in text  # waitbus / redis at p99 of that run
    assert outline.tags["table"] == 6


def test_page_loads_nothing_from_anywhere(tmp_path: Path) -> None:
    outline = build(tmp_path)
    assert "script" not in outline.tags
    assert outline.urls == []
    assert "link" not in outline.tags


def test_without_runs_the_generator_says_how_to_record_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code = dashboard.main(["--runs", str(tmp_path / "empty"), "--out", str(tmp_path / "x")])
    assert code == 1


def test_an_older_commit_measured_later_is_not_the_latest_table(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": os.environ["PATH"]}
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    commits = []
    for n, when in ((1, "2026-01-01T00:00:00Z"), (2, "2026-02-01T00:00:00Z")):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", str(n)], check=True,
                       env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
        commits.append(subprocess.run([*git, "rev-parse", "HEAD"], check=True, env=env,
                                      capture_output=True, text=True).stdout.strip())
    runs = tmp_path / "baselines"
    runs.mkdir()
    older, newer = commits
    # The newer commit ran first; the older one (the "before") was measured after it.
    (runs / f"{newer[:12]}.json").write_text(json.dumps(run_doc(newer, 1, 0.9)))
    (runs / f"{older[:12]}.json").write_text(json.dumps(run_doc(older, 2, 1.4)))
    ordered = dashboard.load_runs(runs, repo)
    assert [d["host"]["commit"] for d in ordered] == [older, newer]
