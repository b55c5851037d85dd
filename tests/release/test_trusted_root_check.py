"""The scheduled trusted-root check: the pinned root compared with a current one, offline."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from waitbus.install.trust import TRUSTED_ROOT_PARTS

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "packaging" / "release" / "check_trusted_root.py"


def _pinned() -> dict[str, object]:
    raw = resources.files("sigstore").joinpath(*TRUSTED_ROOT_PARTS).read_bytes()
    root: dict[str, object] = json.loads(raw)
    return root


def _check(tmp_path: Path, root: dict[str, object]) -> subprocess.CompletedProcess[str]:
    current = tmp_path / "trusted_root.json"
    current.write_text(json.dumps(root))
    return subprocess.run([sys.executable, str(CHECK), "--current", str(current)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_same_root_is_current(tmp_path: Path) -> None:
    done = _check(tmp_path, _pinned())
    assert done.returncode == 0, done.stderr
    assert "is current" in done.stdout


def test_a_rotated_log_key_makes_the_pin_stale_and_says_what_changed(tmp_path: Path) -> None:
    root = _pinned()
    tlogs = root["tlogs"]
    assert isinstance(tlogs, list)
    rotated = json.loads(json.dumps(tlogs[-1]))
    rotated["logId"] = {"keyId": "bmV3LWtleQ=="}
    tlogs.append(rotated)
    tlogs[0]["publicKey"]["validFor"]["end"] = "2026-01-01T00:00:00Z"
    done = _check(tmp_path, root)
    assert done.returncode == 1
    assert '- tlogs: added {"keyId": "bmV3LWtleQ=="}' in done.stdout
    assert "- tlogs: changed" in done.stdout
    assert "uv lock --upgrade-package sigstore" in done.stdout


def test_an_unreadable_current_root_is_an_error_not_a_pass(tmp_path: Path) -> None:
    bad = tmp_path / "trusted_root.json"
    bad.write_text("{not json")
    done = subprocess.run([sys.executable, str(CHECK), "--current", str(bad)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "cannot compare" in done.stderr
