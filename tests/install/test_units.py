"""The generated units: systemd-analyze accepts them silently, plists carry the expected keys."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from waitbus.install.units import (
    LAUNCHD_LABEL,
    bridge_unit,
    credential_lines,
    launchd_plist,
    systemd_unit,
    waitbus_command,
)
from waitbus.paths import StatePaths

HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only",
             "PrivateDevices=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
             "RestrictNamespaces=yes", "LockPersonality=yes", "SystemCallArchitectures=native",
             "MemoryDenyWriteExecute=yes", "CapabilityBoundingSet=", "Type=notify")


def _analyze(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing; install the systemd package (.ci/setup.d)")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    # --user needs a runtime directory; a container has no user session to provide one.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    return subprocess.run([tool, "--user", "verify", str(unit)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def _written(tmp_path: Path, state: Path) -> Path:
    planned = systemd_unit(tmp_path / "units", StatePaths(state), waitbus_command())
    planned.path.parent.mkdir(parents=True, exist_ok=True)
    planned.path.write_bytes(planned.content)
    return planned.path


def test_the_user_unit_passes_systemd_analyze_verify_with_empty_stderr(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    unit = _written(tmp_path, state)
    done = _analyze(unit, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    text = unit.read_text()
    for line in (*HARDENING, f"ReadWritePaths={state}"):
        assert line in text.splitlines()


def test_stored_secrets_become_credential_lines_that_verify(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "secrets").mkdir(parents=True)
    (state / "secrets" / "github-webhook").write_bytes(b"s")
    (state / "secrets" / "alertmanager-token.cred").write_bytes(b"encrypted")
    assert credential_lines(StatePaths(state)) == [
        f"LoadCredentialEncrypted=alertmanager-token:{state}/secrets/alertmanager-token.cred",
        f"LoadCredential=github-webhook:{state}/secrets/github-webhook",
    ]
    done = _analyze(_written(tmp_path, state), tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


def test_exec_start_is_this_installations_real_executable(tmp_path: Path) -> None:
    command = waitbus_command()
    # The console script installed beside this interpreter, not a guessed ~/.local/bin path.
    assert command == [os.path.abspath(Path(sys.executable).parent / "waitbus")]
    assert Path(command[0]).is_file()
    text = systemd_unit(tmp_path, StatePaths(tmp_path / "s"), command).content.decode()
    assert f'ExecStart="{command[0]}"' in text


def test_a_state_dir_under_tmp_keeps_the_shared_tmp(tmp_path: Path) -> None:
    text = systemd_unit(tmp_path, StatePaths(tmp_path / "s"), ["/bin/true"]).content.decode()
    assert "PrivateTmp=no" in text.splitlines()


def test_a_state_dir_needing_escapes_is_refused(tmp_path: Path) -> None:
    from waitbus.errors import UsageError

    with pytest.raises(UsageError, match="spaces, quotes"):
        systemd_unit(tmp_path, StatePaths(tmp_path / "my state"), ["/bin/true"])


def test_the_launchd_plist_parses_and_carries_the_expected_keys(tmp_path: Path) -> None:
    state = tmp_path / "state"
    planned = launchd_plist(tmp_path / "agents", StatePaths(state), ["/opt/wb/bin/waitbus"])
    plist = plistlib.loads(planned.content)
    assert plist["Label"] == LAUNCHD_LABEL
    assert planned.path.name == f"{LAUNCHD_LABEL}.plist"
    assert plist["ProgramArguments"] == ["/opt/wb/bin/waitbus", "--state-dir", str(state),
                                         "serve"]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["Umask"] == 0o077
    assert plist["StandardErrorPath"] == f"{state}/launchd.log"


def test_the_bridge_unit_passes_systemd_analyze_and_runs_the_bridge_after_the_daemon(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "secrets").mkdir(parents=True)
    (state / "secrets" / "nats-creds").write_bytes(b"creds")
    planned = bridge_unit(tmp_path / "units", StatePaths(state), waitbus_command(),
                          ["--url", "tls://hub:4222", "--agents"])
    planned.path.parent.mkdir(parents=True, exist_ok=True)
    planned.path.write_bytes(planned.content)
    done = _analyze(planned.path, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    lines = planned.content.decode().splitlines()
    for line in (*HARDENING, f"ReadWritePaths={state}",
                 "After=waitbus.service network-online.target", "RestartPreventExitStatus=2",
                 f"LoadCredential=nats-creds:{state}/secrets/nats-creds"):
        assert line in lines
    (exec_start,) = [line for line in lines if line.startswith("ExecStart=")]
    assert exec_start.endswith(f'"--state-dir" "{state}" "bridge" "nats" "--url" '
                               '"tls://hub:4222" "--agents"')
