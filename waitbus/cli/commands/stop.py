"""`waitbus stop`: ask the daemon serving this state directory to drain and exit."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "stop",
        description="Send SIGTERM to the daemon that holds this state directory's lock and "
        "wait until it has drained and let go. A daemon the user service runs is better "
        "stopped with `systemctl --user stop waitbus`, or the service starts it again.")
    p.add_argument("--timeout", default="10s", metavar="DURATION",
                   help="how long to wait for it to exit (default 10s; exit 124 after)")


def run(args: argparse.Namespace) -> int:
    from waitbus import lockfile
    from waitbus.cli.durations import seconds
    from waitbus.cli.exits import Exit
    from waitbus.errors import NotRunning

    paths = paths_from(args)
    timeout_s = seconds(args.timeout)
    pid = lockfile.holder_pid(paths.daemon_lock)
    if pid is None:
        raise NotRunning(paths.socket, 0.0)
    if pid == lockfile.UNKNOWN_PID:
        # It took the lock an instant ago and has not written its PID yet.
        print(f"waitbus: a daemon is starting on {paths.root}; run `waitbus stop` again in a "
              "moment", file=sys.stderr)
        return Exit.UNREACHABLE
    os.kill(pid, signal.SIGTERM)
    if not lockfile.wait_released(paths.daemon_lock, timeout_s):
        print(f"waitbus: daemon pid {pid} did not exit within {timeout_s:g} s; it may be "
              f"draining a large backlog: wait, or `kill -9 {pid}` (nothing committed is lost)",
              file=sys.stderr)
        return Exit.TIMEOUT
    print(f"stopped the daemon (pid {pid}) serving {paths.root}")
    return Exit.MATCHED
