"""Tell the service manager (systemctl --user, launchctl) about installed or removed files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from waitbus.errors import UsageError

TIMEOUT_S = 60.0


def systemd_enable(unit: str) -> None:
    _run(["systemctl", "--user", "daemon-reload"])
    _run(["systemctl", "--user", "enable", "--now", unit])


def systemd_disable(unit: str) -> None:
    _run(["systemctl", "--user", "disable", "--now", unit])
    _run(["systemctl", "--user", "daemon-reload"])


def launchd_load(plist: Path) -> None:
    _run(["launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist)])


def launchd_unload(plist: Path) -> None:
    _run(["launchctl", "bootout", f"gui/{os.getuid()}", str(plist)])


def _run(argv: list[str]) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        msg = f"{argv[0]} is not available; rerun with --files-only to only write the files"
        raise UsageError(msg)
    done = subprocess.run([tool, *argv[1:]], capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        msg = f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}"
        raise UsageError(msg)
