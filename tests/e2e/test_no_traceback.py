"""Real processes meeting closed pipes, Ctrl-C and occupied paths: a clear end, no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli
from waitbus import emit_many
from waitbus.cli.exits import Exit
from waitbus.demo import processes
from waitbus.paths import resolve


def test_tail_into_a_closed_pipe_ends_quietly(state_dir: Path) -> None:
    # More than a pipe buffer (64 KiB) of lines, so tail is still writing when head leaves.
    emit_many(({"source": "pipe", "type": "n", "fields": {"i": i}} for i in range(5000)),
              state_dir=state_dir)
    shell = (f"{sys.executable} -m waitbus --state-dir {state_dir} tail -n 5000 | head -1; "
             "echo \"status=${PIPESTATUS[0]}\" >&2")
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert f"status={Exit.CLOSED_OUTPUT}" in done.stderr


def test_ctrl_c_inside_a_subscribe_loop_reaches_the_caller_as_keyboard_interrupt(
        daemon: DaemonProcess) -> None:
    script = textwrap.dedent(f"""
        import logging, signal, sys, waitbus
        # What a terminal gives a foreground program (a background job ignores SIGINT).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        logging.basicConfig(level=logging.INFO)  # the feed says "live at cursor N"
        try:
            for event in waitbus.subscribe(source="never", state_dir={str(daemon.state_dir)!r}):
                print(event)
        except KeyboardInterrupt:
            print("caught KeyboardInterrupt", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        assert processes.read_until(proc.stderr, "live at cursor", 20) is not None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        processes.stop(proc)
    assert "Traceback" not in err, err
    assert out.strip() == "caught KeyboardInterrupt"
    assert proc.returncode == 0


def test_serve_refuses_a_directory_where_its_socket_goes(state_dir: Path) -> None:
    resolve(state_dir).ensure()
    (state_dir / "bus.sock").mkdir()
    done = run_cli(state_dir, "serve", "--listen-port", "off", timeout_s=30)
    assert done.returncode == Exit.USAGE
    assert "is not a socket" in done.stderr
    assert "Traceback" not in done.stderr
    assert (state_dir / "bus.sock").is_dir()  # nothing of the user's was removed
