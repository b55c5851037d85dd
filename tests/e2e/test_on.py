"""`waitbus on` runs its command for every matching event, whatever the event holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import DaemonProcess
from waitbus import emit
from waitbus.demo import processes

# Prints the subject from the environment and from the event file, one line per event.
SHOW = ("import json, os; e = json.load(open(os.environ['WAITBUS_EVENT_FILE'])); "
        "print(json.dumps([os.environ['WAITBUS_EVENT_SUBJECT'], e['subject']]), flush=True)")


def test_a_nul_in_an_event_reaches_the_command_and_later_events_still_run(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    argv = processes.waitbus_argv(daemon.state_dir, "-v", "on", "--source", "ci", "--",
                                  sys.executable, "-c", SHOW)
    on = processes.start(argv, ready="live at cursor", stream="stderr")
    try:
        emit("ci", "build", subject="a\x00b", state_dir=daemon.state_dir)
        emit("ci", "build", subject="after", state_dir=daemon.state_dir)
        assert on.stdout is not None
        first = processes.read_until(on.stdout, "[", 20)
        second = processes.read_until(on.stdout, "[", 20)
    finally:
        processes.stop(on, keep_pipes=True)
        assert on.stderr is not None
        err = on.stderr.read()
        processes.stop(on)  # closes the pipes
    assert first is not None, err
    assert json.loads(first) == ["a\\x00b", "a\x00b"]
    assert second is not None, err
    assert json.loads(second) == ["after", "after"]
    assert "Traceback" not in err
