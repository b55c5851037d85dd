"""What a user meets running the daemon: stop, who holds the directory, sources that fail."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli
from waitbus import emit
from waitbus.cli.exits import Exit
from waitbus.demo import processes


def test_stop_ends_the_daemon_and_says_which_pid_it_was(daemon: DaemonProcess) -> None:
    done = run_cli(daemon.state_dir, "stop")
    assert done.returncode == Exit.MATCHED, done.stderr
    assert f"pid {daemon.pid}" in done.stdout
    assert daemon.proc is not None
    assert daemon.proc.wait(10) == 0
    daemon.stop()  # closes its pipes
    again = run_cli(daemon.state_dir, "stop")
    assert again.returncode == Exit.UNREACHABLE


def test_a_second_serve_names_the_pid_that_holds_the_directory(daemon: DaemonProcess) -> None:
    done = run_cli(daemon.state_dir, "serve", "--listen-port", "off")
    assert done.returncode == Exit.USAGE
    assert f"(pid {daemon.pid})" in done.stderr
    assert "waitbus stop" in done.stderr


def test_a_taken_webhook_port_is_said_by_serve_and_by_status(state_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        running = DaemonProcess(state_dir, ("--listen-port", str(port))).start()
        try:
            assert running.proc is not None
            assert running.proc.stderr is not None
            said = processes.read_until(running.proc.stderr, "source webhook failed", 15)
            status = run_cli(state_dir, "status")
        finally:
            running.stop()
    assert said is not None
    assert f"cannot listen on 127.0.0.1:{port}" in said
    assert "Traceback" not in said
    assert f"source webhook: failed: cannot listen on 127.0.0.1:{port}" in status.stdout


def test_a_missing_docker_socket_is_said_by_serve_and_shown_degraded_in_status(
        state_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "docker.sock"
    running = DaemonProcess(state_dir, ("--docker", str(missing))).start()
    try:
        assert running.proc is not None
        assert running.proc.stderr is not None
        said = processes.read_until(running.proc.stderr, "source docker", 15)
        status = run_cli(state_dir, "status")
        as_json = run_cli(state_dir, "status", "--json")
    finally:
        running.stop()
    assert said is not None
    assert f"cannot reach the Docker engine at {missing}" in said
    assert "source docker: degraded: cannot reach the Docker engine" in status.stdout
    assert '"state":"degraded"' in as_json.stdout


def test_a_wait_on_a_source_never_seen_says_so_once(daemon: DaemonProcess) -> None:
    emit("ci", "build", state_dir=daemon.state_dir)
    unseen = run_cli(daemon.state_dir, "wait", "--source", "cii", "--timeout", "0.3s")
    assert unseen.returncode == Exit.TIMEOUT
    assert unseen.stderr.count("no event from source 'cii' is stored yet") == 1
    seen = run_cli(daemon.state_dir, "wait", "--source", "ci", "--timeout", "0.3s")
    assert seen.returncode == Exit.TIMEOUT
    assert "is stored yet" not in seen.stderr



def test_a_stopped_daemon_leaves_its_events_in_the_store_file_and_no_write_ahead_log(
        daemon: DaemonProcess) -> None:
    for n in range(20):
        emit(source="bench", type="stop-test", subject=f"s{n}", state_dir=daemon.state_dir)
    done = run_cli(daemon.state_dir, "stop")
    assert done.returncode == Exit.MATCHED, done.stderr
    assert daemon.proc is not None
    assert daemon.proc.wait(10) == 0
    daemon.stop()
    wal = daemon.state_dir / "events.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0, wal.stat().st_size
    listed = run_cli(daemon.state_dir, "tail", "-n", "50", "--json")
    assert listed.stdout.count('"stop-test"') == 20, listed.stdout
