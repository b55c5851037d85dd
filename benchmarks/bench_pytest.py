"""pytest session end -> subscriber wake: the waitbus plugin beside polling a JUnit XML report.

    uv run python -m benchmarks.bench_pytest            # 30 pytest runs
    uv run python -m benchmarks.bench_pytest --quick    # 3 runs, to check that it works

Not open loop: nothing can schedule the instant a pytest run ends. Each sample starts at the
run's own end stamp (the session event's received_at; the report file's mtime for the poll) and
ends when the subscriber process sees it, both on the host's wall clock. The poll looks at the
report's mtime once a second, as a script waiting on `--junitxml` would.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.children import child_env, spawn
from benchmarks.harness import Samples, host_info, print_table, summarize, write_json
from waitbus.demo import processes

HERE = Path(__file__).absolute().parent
SUBSCRIBER = """\
import logging, sys, time
from waitbus import subscribe
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
for event in subscribe('type="session"', source="pytest", state_dir=sys.argv[1]):
    print(event.received_at, time.time_ns(), flush=True)
"""
POLLER = """\
import os, sys, time
report, last = sys.argv[1], None
print("polling", file=sys.stderr, flush=True)
while True:
    try:
        mtime = os.stat(report).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    if mtime is not None and mtime != last:
        last = mtime
        print(mtime, time.time_ns(), flush=True)
    time.sleep(1.0)
"""
TESTS = "def test_passes():\n    pass\n\ndef test_fails():\n    assert 0\n"


def next_line(proc: subprocess.Popen[str], timeout_s: float) -> tuple[int, int] | None:
    """One `start_ns end_ns` line from `proc`, or None after `timeout_s`."""
    assert proc.stdout is not None
    fd, data = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout_s
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        data += os.read(fd, 1)  # byte by byte: the next line belongs to the next run
    start, end = data.split()
    return int(start), int(end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pytest",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 runs: check, not measure")
    parser.add_argument("-n", type=int, default=30, help="pytest runs")
    parser.add_argument("--out", type=Path,
                        help="JSON path (default: baselines/pytest-<commit>.json)")
    args = parser.parse_args(argv)
    n = 3 if args.quick else args.n
    root = Path(tempfile.mkdtemp(prefix="wb-pt-"))
    state, project = root / "s", root / "proj"
    project.mkdir()
    (project / "test_sample.py").write_text(TESTS)
    report = project / "report.xml"
    env = {**child_env(), "WAITBUS_STATE_DIR": str(state),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    serve = [sys.executable, "-m", "waitbus", "-v", "serve", "--listen-port", "off"]
    children = [spawn(serve, ready="serving", stream="stdout", env=env)]
    try:
        children.append(spawn([sys.executable, "-c", SUBSCRIBER, str(state)],
                              ready="live at cursor", env=env))
        children.append(spawn([sys.executable, "-c", POLLER, str(report)], ready="polling",
                              env=env))
        bus, poll = Samples("waitbus", expected=n), Samples("poll 1 s (JUnit XML)", expected=n)
        for _ in range(n):
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-p", "waitbus.sources.pytest_plugin", "--waitbus",
                            f"--junitxml={report}"], cwd=project, env=env,
                           capture_output=True, timeout=120, check=False)
            for samples, proc in ((bus, children[1]), (poll, children[2])):
                seen = next_line(proc, 3.0)
                if seen is not None:
                    samples.add(*seen)
    finally:
        for proc in reversed(children):
            processes.stop(proc)
        shutil.rmtree(root, ignore_errors=True)
    rows = [summarize(bus), summarize(poll)]
    print_table("pytest session end -> subscriber", rows)
    host = host_info()
    if not args.quick or args.out:
        out = args.out or HERE / "baselines" / f"pytest-{str(host['commit'])[:12]}.json"
        doc = {"host": host, "scenario": "pytest session end -> subscriber", "runs": n,
               "rows": rows}
        print(f"wrote {write_json(out, doc)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
