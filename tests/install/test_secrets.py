"""Secrets: systemd-creds round trip, the credentials directory first, private files only."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.sources.webhook_client import (
    SECRET,
    TOKEN,
    deliver,
    fixture,
    listening_daemon,
    post,
)
from waitbus.demo import processes
from waitbus.install import creds
from waitbus.paths import StatePaths
from waitbus.secrets import (
    ALERTMANAGER_TOKEN,
    CREDENTIALS_DIRECTORY_ENV,
    GITHUB_WEBHOOK,
    MAX_SECRET_BYTES,
    SecretError,
    read_secret,
)


def _creds_tool() -> str:
    tool = shutil.which("systemd-creds")
    if tool is None:
        pytest.fail("systemd-creds is missing; install the systemd package (.ci/setup.d)")
    return tool


def _decrypt(name: str, path: Path, *, user: bool) -> bytes:
    """What systemd does when it loads the credential: `systemd-creds decrypt`."""
    argv = [_creds_tool(), *(["--user"] if user else []), "decrypt", f"--name={name}",
            str(path), "-"]
    return subprocess.run(argv, capture_output=True, check=True, timeout=30).stdout


def _private(path: Path, value: bytes, mode: int = 0o600) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(value)
    path.chmod(mode)
    return path


def test_systemd_creds_encrypt_then_decrypt_round_trips_a_secret(tmp_path: Path) -> None:
    _creds_tool()
    if os.geteuid() != 0:
        pytest.fail("the host-key round trip needs root (it reads the host credential secret)")
    sealed = tmp_path / "github-webhook.cred"
    # System scope with the host key: there is no TPM here, and user scope needs systemd >= 256.
    creds.encrypt(GITHUB_WEBHOOK, SECRET, sealed, user=False, key="host")
    assert SECRET not in sealed.read_bytes()
    assert _decrypt(GITHUB_WEBHOOK, sealed, user=False) == SECRET
    with pytest.raises(subprocess.CalledProcessError):  # sealed under another name
        _decrypt(ALERTMANAGER_TOKEN, sealed, user=False)


def test_user_units_get_encrypted_storage_only_from_systemd_256() -> None:
    assert creds.storage_for_user_unit(252) is creds.Storage.FILE
    assert creds.storage_for_user_unit(256) is creds.Storage.ENCRYPTED
    assert creds.storage_for_user_unit(None) is creds.Storage.FILE


def test_the_credentials_directory_wins_over_the_state_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = StatePaths(tmp_path / "state")
    _private(paths.secrets / GITHUB_WEBHOOK, b"from state")
    assert read_secret(GITHUB_WEBHOOK, paths) == b"from state"
    creds_dir = tmp_path / "creds"
    _private(creds_dir / GITHUB_WEBHOOK, b"from systemd", mode=0o400)
    monkeypatch.setenv(CREDENTIALS_DIRECTORY_ENV, str(creds_dir))
    assert read_secret(GITHUB_WEBHOOK, paths) == b"from systemd"
    assert read_secret(ALERTMANAGER_TOKEN, paths) is None


def test_a_secret_readable_by_others_is_refused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CREDENTIALS_DIRECTORY_ENV, raising=False)
    paths = StatePaths(tmp_path / "state")
    _private(paths.secrets / GITHUB_WEBHOOK, b"s", mode=0o640)
    with pytest.raises(SecretError, match=r"readable by group or others \(mode 0640\)"):
        read_secret(GITHUB_WEBHOOK, paths)


def test_a_symlinked_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CREDENTIALS_DIRECTORY_ENV, raising=False)
    paths = StatePaths(tmp_path / "state")
    target = _private(tmp_path / "elsewhere", b"s")
    paths.secrets.mkdir(parents=True)
    (paths.secrets / GITHUB_WEBHOOK).symlink_to(target)
    with pytest.raises(SecretError, match="cannot open secret"):
        read_secret(GITHUB_WEBHOOK, paths)


def test_an_encrypted_only_secret_says_only_the_unit_can_read_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CREDENTIALS_DIRECTORY_ENV, raising=False)
    paths = StatePaths(tmp_path / "state")
    _private(paths.secrets / f"{GITHUB_WEBHOOK}.cred", b"sealed")
    with pytest.raises(SecretError, match="only the systemd unit can read it"):
        read_secret(GITHUB_WEBHOOK, paths)


def test_secret_set_reads_stdin_and_stores_a_0600_file_here(state_dir: Path) -> None:
    done = run_cli(state_dir, "secret", "set", GITHUB_WEBHOOK, input="hunter2\n")
    assert done.returncode == 0, done.stderr
    stored = state_dir / "secrets" / GITHUB_WEBHOOK
    assert stored.read_bytes() == b"hunter2"
    assert stored.stat().st_mode & 0o777 == 0o600
    assert (state_dir / "secrets").stat().st_mode & 0o777 == 0o700
    assert read_secret(GITHUB_WEBHOOK, StatePaths(state_dir)) == b"hunter2"


def test_secret_set_refuses_encryption_a_user_unit_cannot_use_here(state_dir: Path) -> None:
    version = creds.systemd_version()
    if version is None or version >= creds.USER_ENCRYPTED_MIN_VERSION:
        pytest.fail(f"this test expects systemd older than 256 (found {version})")
    done = run_cli(state_dir, "secret", "set", GITHUB_WEBHOOK, "--storage", "encrypted",
                   input="hunter2")
    assert done.returncode == 2
    assert "needs systemd >= 256" in done.stderr
    assert not (state_dir / "secrets" / GITHUB_WEBHOOK).exists()


def test_secret_set_refuses_an_empty_value_and_a_bad_name(state_dir: Path) -> None:
    assert "empty value" in run_cli(state_dir, "secret", "set", "x", input="\n").stderr
    assert "is not allowed" in run_cli(state_dir, "secret", "set", "../x", input="v").stderr


def test_a_secret_file_ending_in_a_newline_authenticates_webhooks(state_dir: Path) -> None:
    # As `echo value > file` or an editor writes it, and as Alertmanager reads its own.
    _private(state_dir / "secrets" / GITHUB_WEBHOOK, SECRET + b"\n")
    _private(state_dir / "secrets" / ALERTMANAGER_TOKEN, TOKEN + b"\r\n")
    state_dir.chmod(0o700)
    alert = json.dumps({"version": "4", "status": "firing", "receiver": "r", "groupKey": "g",
                        "alerts": [{"status": "firing", "labels": {"alertname": "A"},
                                    "fingerprint": "f1", "startsAt": "2025-01-01T00:00:00Z"}],
                        "commonLabels": {}}).encode()
    with listening_daemon(state_dir) as (url, _proc):
        github = deliver(url, "workflow_run", "nl-1", fixture("workflow_run.completed"))
        alertmanager = post(url, "/alertmanager", alert,
                            {"Content-Type": "application/json",
                             "Authorization": f"Bearer {TOKEN.decode()}"})
    assert github.status == 200, github.body
    assert alertmanager.status == 200, alertmanager.body


def test_secret_set_refuses_a_value_over_the_limit_and_stores_nothing(state_dir: Path) -> None:
    done = run_cli(state_dir, "secret", "set", GITHUB_WEBHOOK,
                   input="x" * (MAX_SECRET_BYTES + 1))
    assert done.returncode == 2
    assert f"over the {MAX_SECRET_BYTES}-byte limit" in done.stderr
    assert not (state_dir / "secrets" / GITHUB_WEBHOOK).exists()


def test_a_stored_secret_over_the_limit_is_refused_not_truncated(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path / "state")
    _private(paths.secrets / GITHUB_WEBHOOK, b"x" * (MAX_SECRET_BYTES + 1))
    with pytest.raises(SecretError, match="over the"):
        read_secret(GITHUB_WEBHOOK, paths)


def test_stray_files_in_secrets_do_not_block_install_systemd(state_dir: Path,
                                                            tmp_path: Path) -> None:
    assert run_cli(state_dir, "secret", "set", GITHUB_WEBHOOK, "--storage", "file",
                   input="hunter2").returncode == 0
    _private(state_dir / "secrets" / f"{GITHUB_WEBHOOK}~", b"an editor's backup")
    _private(state_dir / "secrets" / f".{GITHUB_WEBHOOK}.123.tmp", b"an interrupted set")
    done = run_cli(state_dir, "install-systemd", "--dry-run", "--skip-verify",
                   "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    loads = [line for line in done.stdout.splitlines() if line.startswith("LoadCredential")]
    assert loads == [f"LoadCredential={GITHUB_WEBHOOK}:{state_dir / 'secrets' / GITHUB_WEBHOOK}"]
    assert f"ignoring {state_dir / 'secrets' / (GITHUB_WEBHOOK + '~')}" in done.stderr


@pytest.fixture
def sealed_credentials(tmp_path: Path) -> Path:
    """A credentials directory as systemd builds it: decrypted from a systemd-creds file."""
    _creds_tool()
    sealed = tmp_path / "github-webhook.cred"
    creds.encrypt(GITHUB_WEBHOOK, SECRET, sealed, user=False, key="host")
    creds_dir = tmp_path / "credentials"
    _private(creds_dir / GITHUB_WEBHOOK, _decrypt(GITHUB_WEBHOOK, sealed, user=False),
             mode=0o400)
    return creds_dir


def test_the_daemon_checks_webhooks_with_the_secret_from_its_credentials_directory(
        state_dir: Path, sealed_credentials: Path) -> None:
    env = {**os.environ, CREDENTIALS_DIRECTORY_ENV: str(sealed_credentials)}
    with _listening(state_dir, env) as url:
        answer = deliver(url, "workflow_run", "creds-1", fixture("workflow_run.completed"))
    assert answer.status == 200, answer.body
    assert not (state_dir / "secrets").exists()


@contextmanager
def _listening(state_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """A real `waitbus serve --listen-port 0` with `env`; yields its listener URL."""
    argv = processes.waitbus_argv(state_dir, "serve", "--listen-port", "0")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    lines: queue.Queue[str] = queue.Queue()
    # A thread, not a selector: two lines can arrive in one read of the buffered pipe.
    pump = threading.Thread(target=_pump, args=(proc, lines), daemon=True)
    pump.start()
    try:
        yield _listener_url(lines)
    finally:
        processes.stop(proc, keep_pipes=True)
        pump.join(10)
        assert proc.stdout is not None
        proc.stdout.close()


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    for text in proc.stdout or ():
        lines.put(text)


def _listener_url(lines: queue.Queue[str], timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            text = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            pytest.fail(f"waitbus serve reported no webhook listener within {timeout_s} s")
        found = re.search(r"webhook listener on (http://[0-9.]+:\d+)", text)
        if found:
            return found.group(1)
