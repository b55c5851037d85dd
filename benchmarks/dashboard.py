"""A static page from the runs in benchmarks/baselines/: one SVG plot per metric, the latest table.

    uv run python -m benchmarks.dashboard        # writes benchmarks/dashboard/index.html

No script and no network asset: the page is one HTML file that any browser opens offline.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).absolute().parent
COLUMNS = ("p50", "p90", "p99", "p99.9", "max", "lost", "n")
COLOURS = ("#1b6ac9", "#d1495b", "#2e933c", "#8a5cc2", "#e08e0b", "#555555")
Series = dict[str, float | None]
Metric = tuple[str, str, Callable[[dict[str, Any]], Series], float | None]


def _latency(scenario: str, column: str) -> Callable[[dict[str, Any]], Series]:
    def pick(doc: dict[str, Any]) -> Series:
        rows = doc.get("latency", {}).get(scenario, [])
        return {r["label"]: r.get(column) for r in rows if not str(r["label"]).startswith("poll")}
    return pick


def _throughput(doc: dict[str, Any]) -> Series:
    return {name: row["per_s"] for name, row in doc.get("throughput", {}).items()
            if isinstance(row, dict)}


def _idle(key: str) -> Callable[[dict[str, Any]], Series]:
    def pick(doc: dict[str, Any]) -> Series:
        return {name: row.get(key) for name, row in doc.get("idle", {}).items()}
    return pick


def _to_redis(scenario: str) -> Callable[[dict[str, Any]], Series]:
    def pick(doc: dict[str, Any]) -> Series:
        ratio = doc.get("ratios", {}).get(scenario, {}).get("redis", {})
        return {f"waitbus / Redis, {c}": ratio.get(c) for c in ("p50", "p99") if c in ratio}
    return pick


def _instructions(doc: dict[str, Any]) -> Series:
    return {name: value / 1000 for name, value in doc.get("instructions", {}).items()}


# Title, unit, what to plot, and the target for waitbus (a dashed line), if any.
METRICS: list[Metric] = [
    ("emit -> subscriber, p99", "ms", _latency("emit -> subscriber", "p99"), None),
    ("emit -> subscriber, p50", "ms", _latency("emit -> subscriber", "p50"), None),
    ("emit -> subscriber, against Redis", "x", _to_redis("emit -> subscriber"), 1.5),
    ("fan-out to 50, last receiver, against Redis", "x",
     _to_redis("fan-out to 50, last receiver"), 1.5),
    ("fan-out to 50, last receiver, p99", "ms",
     _latency("fan-out to 50, last receiver", "p99"), None),
    ("emit -> wait exit, p99", "ms", _latency("emit -> wait exit", "p99"), 5.0),
    ("waitbus emit, exec -> exit, p50", "ms", _latency("process: emit, exec -> exit", "p50"),
     25.0),
    ("waitbus wait, exec -> subscribed, p50", "ms",
     _latency("process: wait, exec -> subscribed", "p50"), 40.0),
    ("durable ingest", "emits/s", _throughput, None),
    ("idle RSS", "MB", _idle("rss_mb"), 20.0),
    ("idle wakeups", "per minute", _idle("wakeups_per_min"), None),
    ("hot-path instructions (callgrind)", "thousand per op", _instructions, None),
]


# run_all names a run after its commit's first 12 hex digits.
RUN_NAME = re.compile(r"[0-9a-f]{12}")


def load_runs(folder: Path, repo: Path = HERE.parent) -> list[dict[str, Any]]:
    """Every full run in `folder` (run_all's <commit>.json, not a per-source bench_*'s
    <source>-<commit>.json), oldest commit first, so the latest is the newest code.

    An older commit is often measured after a newer one (the "before" of a change): ordered
    by when the commit was made, as git knows it, else by when the run started.
    """
    docs = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))
            if RUN_NAME.fullmatch(path.stem)]
    return sorted(docs, key=lambda d: (_commit_time(repo, d.get("host", {}).get("commit")),
                                       d.get("started_ns", 0)))


def _commit_time(repo: Path, commit: str | None) -> int:
    """When `commit` was made (seconds), or 0 when `repo`'s git does not know it."""
    if not commit:
        return 0
    found = subprocess.run(["git", "-C", str(repo), "show", "-s", "--format=%ct", commit],
                           capture_output=True, text=True, check=False)
    return int(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else 0


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    scale = 10.0 ** math.ceil(math.log10(value))
    for step in (0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= step * scale:
            return step * scale
    return scale


def plot(title: str, unit: str, commits: list[str], series: dict[str, list[float | None]],
         target: float | None = None, width: int = 560, height: int = 240) -> str:
    """An SVG line chart: one polyline per series over the commits, y from zero."""
    left, right, top, bottom = 64, 165, 28, 44
    w, h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    ymax = _nice_top(max([*values, target or 0.0], default=1.0))
    step = w / max(1, len(commits) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + h - h * v / ymax

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="{left}" y="18" class="title">{html.escape(title)} ({unit})</text>']
    for k in range(5):
        y = top + h - h * k / 4
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
                     f"{ymax * k / 4:g}</text>")
    for i, commit in enumerate(commits):
        x = left + i * step
        parts.append(f'<text x="{x:.1f}" y="{top + h + 16}" class="tick" '
                     f'text-anchor="middle">{html.escape(commit[:7])}</text>')
    if target is not None:
        y = top + h - h * target / ymax
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="target"/><text x="{left + w - 2}" y="{y - 4:.1f}" class="tick" '
                     f'text-anchor="end">target {target:g}</text>')
    for n, (label, vs) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = [xy(i, v) for i, v in enumerate(vs) if v is not None]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" data-series="{html.escape(label)}"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        ly = top + 12 + 16 * n
        parts.append(f'<rect x="{left + w + 12}" y="{ly - 9}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{left + w + 26}" y="{ly}" class="tick">'
                     f"{html.escape(label)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return html.escape(str(value))


def table(scenario: str, rows: list[dict[str, Any]], ratios: dict[str, Any]) -> str:
    """The latest run of one scenario, side by side, with waitbus / peer at p50 and p99."""
    head = "".join(f"<th>{c}</th>" for c in ("target", *COLUMNS, "waitbus/peer p50",
                                             "waitbus/peer p99"))
    body = []
    for row in rows:
        ratio = ratios.get(row["label"], {})
        cells = [html.escape(str(row["label"])), *(_cell(row.get(c)) for c in COLUMNS),
                 *(f"{ratio[c]:.3g}x" if ratio.get(c) else "" for c in ("p50", "p99"))]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (f"<h3>{html.escape(scenario)} (ms)</h3>\n<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1150px}
.plots{display:flex;flex-wrap:wrap;gap:8px}svg{background:#fafafa;border:1px solid #ddd}
.title{font-weight:600;font-size:13px}.tick{font-size:11px;fill:#444}
.grid{stroke:#ddd}.target{stroke:#999;stroke-dasharray:5 4}
table{border-collapse:collapse;margin-bottom:12px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}
th{background:#eee}.host{color:#555}"""


def page(runs: list[dict[str, Any]]) -> str:
    """The whole dashboard as one HTML document."""
    commits = [str(d.get("host", {}).get("commit") or "?") for d in runs]
    plots = []
    for title, unit, pick, target in METRICS:
        picked = [pick(d) for d in runs]
        labels = list(dict.fromkeys(k for p in picked for k in p))
        if labels:
            series = {label: [p.get(label) for p in picked] for label in labels}
            plots.append(plot(title, unit, commits, series, target))
    latest = runs[-1] if runs else {}
    host = latest.get("host", {})
    tables = [table(s, rows, latest.get("ratios", {}).get(s, {}))
              for s, rows in latest.get("latency", {}).items()]
    about = html.escape(", ".join(f"{k}: {host.get(k)}" for k in
                                  ("cpu_model", "cores", "kernel", "python", "commit")))
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>waitbus benchmarks</title><style>{STYLE}</style></head><body>\n"
            f"<h1>waitbus benchmarks</h1>\n<p>{len(runs)} runs, one per commit, oldest "
            f"left. Lower is better except for ingest. Ratios are waitbus over the peer: "
            f"below 1, waitbus is faster.</p>\n<h2>Over commits</h2>\n"
            f'<div class="plots">{"".join(plots)}</div>\n<h2>Latest run</h2>\n'
            f'<p class="host">{about}</p>\n{"".join(tables)}\n</body></html>\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=HERE / "baselines",
                        help="the folder of run_all results (default benchmarks/baselines)")
    parser.add_argument("--out", type=Path, default=HERE / "dashboard" / "index.html")
    parser.add_argument("--repo", type=Path, default=HERE.parent,
                        help="the git repository whose commit times order the runs")
    args = parser.parse_args(argv)
    runs = load_runs(args.runs, args.repo)
    if not runs:
        print(f"no runs in {args.runs}; record one with "
              "`python -m benchmarks.run_all --snapshot`", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page(runs))
    print(f"wrote {args.out} from {len(runs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
