"""Another local user cannot speak for the bus: not through a state directory it created first,
nor through a daemon it runs behind my socket path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from waitbus.cli.exits import Exit
from waitbus.demo import processes
from waitbus.paths import resolve

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
# Debian's python: the default interpreter lives under root's 0700 home, unreadable to nobody.
PYTHON = "/usr/bin/python3"
FORGED = {"cursor": 1, "delivery_id": "forged", "source": "ci", "type": "build",
          "subject": "me/repo", "conclusion": "success", "received_at": 1, "fields": {}}
# Another user's daemon: binds bus.sock (and the directory when it has to create it), then
# answers every subscription with a forged success and `live`, and every status request.
IMPOSTOR = textwrap.dedent("""
    import json, os, socket, struct, sys
    root, make = sys.argv[1], sys.argv[2] == "make"
    if make:
        os.mkdir(root, 0o755)
    path = os.path.join(root, "bus.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(16)
    def frame(obj):
        body = json.dumps(obj).encode()
        return struct.pack(">I", len(body)) + body
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(frame({"t": "event", "event": json.loads(sys.argv[3])})
                     + frame({"t": "live", "cursor": 1}))
""")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A world-writable sticky directory, like /tmp, where another user can create things."""
    if shutil.which("setpriv") is None or not os.access(PYTHON, os.X_OK):
        pytest.fail("setpriv and Debian's /usr/bin/python3 are needed (.ci/setup.d)")
    root = Path(tempfile.mkdtemp(prefix="wb-shared-", dir="/tmp"))
    root.chmod(0o1777)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def impostor(root: Path, *, make: bool) -> subprocess.Popen[str]:
    argv = [*NOBODY, PYTHON, "-c", IMPOSTOR, str(root), "make" if make else "keep",
            json.dumps(FORGED)]
    return processes.start(argv, ready="listening", stream="stdout")


@pytest.mark.parametrize("command", [
    ("wait", "--source", "ci"), ("status",), ("tail", "-f"), ("on", "--source", "ci", "--once"),
])
def test_a_state_directory_another_user_created_first_is_not_trusted(
        shared_tmp: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    state = shared_tmp / "state"
    proof = tmp_path / "ran"
    after = ["--", "touch", str(proof)] if command[0] == "on" else []
    forged = impostor(state, make=True)
    try:
        done = run_cli(state, *command, *after, timeout_s=30)
    finally:
        processes.stop(forged)
    assert done.returncode == Exit.USAGE, (done.stdout, done.stderr)
    assert "belongs to uid 65534" in done.stderr
    assert "me/repo" not in done.stdout
    assert not proof.exists()


def test_a_daemon_of_another_user_behind_my_socket_path_is_not_believed(
        shared_tmp: Path) -> None:
    state = shared_tmp / "mine"
    resolve(state).ensure()
    state.chmod(0o777)  # a moment's mistake is enough for another user to bind bus.sock
    forged = impostor(state, make=False)
    try:
        done = run_cli(state, "wait", "--source", "ci", "--timeout", "10s")
    finally:
        processes.stop(forged)
    assert done.returncode == Exit.USAGE, (done.stdout, done.stderr)
    assert "runs as uid 65534, not as you" in done.stderr
    assert "me/repo" not in done.stdout
    assert (state.stat().st_mode & 0o777) == 0o700  # the client narrowed my directory again
