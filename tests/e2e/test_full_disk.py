"""A full disk is reported as a full disk, by emit and by the webhook listener, never as damage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sources.webhook_client import SECRET, fixture, github_headers
from waitbus.cli.exits import Exit

# Runs inside its own mount namespace (`unshare -m`), so the small tmpfs it mounts for the
# state directory is private to it and goes away with it.
SCENARIO = textwrap.dedent("""
    import http.client, json, os, re, subprocess, sys
    from waitbus import emit
    from waitbus.errors import WaitbusError
    root, body, headers = sys.argv[1], open(sys.argv[2], "rb").read(), json.loads(sys.argv[3])
    os.makedirs(root + "/secrets", mode=0o700)
    with open(os.open(root + "/secrets/github-webhook", os.O_WRONLY | os.O_CREAT, 0o600),
              "wb") as handle:
        handle.write(sys.argv[4].encode())
    cli = [sys.executable, "-m", "waitbus", "--state-dir", root]
    daemon = subprocess.Popen([*cli, "serve", "--listen-port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    for line in daemon.stdout:
        found = re.search(r"webhook listener on http://([0-9.]+):([0-9]+)", line)
        if found:
            break
    try:
        try:
            while True:
                emit("fill", "x", payload="p" * 8192, state_dir=root)
        except WaitbusError as exc:
            api = str(exc)
        done = subprocess.run([*cli, "emit", "--source", "a", "--type", "b", "--payload", "-"],
                              input="p" * 65536, capture_output=True, text=True, timeout=60)
        conn = http.client.HTTPConnection(found.group(1), int(found.group(2)), timeout=30)
        conn.request("POST", "/github", body=body, headers=headers)
        answer = conn.getresponse()
        print(json.dumps({"api": api, "cli_code": done.returncode, "cli_err": done.stderr,
                          "status": answer.status, "reply": answer.read().decode()}))
    finally:
        daemon.terminate()
        daemon.wait(10)
""")


def test_a_full_disk_is_said_as_full_by_emit_and_by_the_webhook_listener(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.fail("unshare is missing; install util-linux (.ci/setup.d)")
    mount = tmp_path / "small"
    mount.mkdir()
    body = fixture("workflow_run.completed")
    (tmp_path / "body.json").write_bytes(body)
    headers = github_headers("workflow_run", "full-1", body)
    shell = ('mount -t tmpfs -o size=384k tmpfs "$1" && shift && exec "$@"')
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell, "sh", str(mount), sys.executable, "-c", SCENARIO,
         str(mount / "s"), str(tmp_path / "body.json"), json.dumps(headers), SECRET.decode()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    for said in (seen["api"], seen["cli_err"], seen["reply"]):
        assert "is full" in said, seen
        assert "move it aside" not in said, seen
        assert "Traceback" not in said, seen
    assert seen["cli_code"] == Exit.STORE
    assert seen["status"] == 503
