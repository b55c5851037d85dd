"""The OSV gate blocks a release on an affected pin and passes a clean lock, offline."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "packaging" / "release" / "osv_gate.py"
LOCK = ROOT / "uv.lock"


def _locked_h11() -> str:
    lock = tomllib.loads(LOCK.read_text(encoding="utf-8"))
    (version,) = [p["version"] for p in lock["package"] if p["name"] == "h11"]
    return str(version)


def write_lock(tmp_path: Path, pins: dict[str, str]) -> Path:
    lines = ["version = 1", 'requires-python = ">=3.11"', ""]
    for name, version in pins.items():
        lines += ["[[package]]", f'name = "{name}"', f'version = "{version}"',
                  'source = { registry = "https://index.invalid/simple" }', ""]
    lines += ["[[package]]", 'name = "waitbus"', 'version = "0.1.0"', 'source = { editable = "." }']
    lock = tmp_path / "uv.lock"
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lock


def advisory(name: str, *, events: list[dict[str, str]] | None = None,
             versions: list[str] | None = None, ident: str = "GHSA-stub-0001",
             **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {"id": ident, "summary": f"stub advisory for {name}", "affected": [affected], **extra}


def write_db(tmp_path: Path, *records: dict[str, Any]) -> Path:
    db = tmp_path / "osv"
    db.mkdir()
    for record in records:
        (db / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    return db


def gate(lock: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GATE), "--lock", str(lock), "--db", str(db)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_vulnerable_pin_in_the_real_lock_blocks(tmp_path: Path) -> None:
    pinned = _locked_h11()
    db = write_db(tmp_path, advisory("h11", versions=[pinned], ident="GHSA-h11-stub"))
    result = gate(LOCK, db)
    assert result.returncode == 1
    assert f"BLOCKED: h11=={pinned} is affected by GHSA-h11-stub" in result.stderr


def test_real_lock_passes_when_no_advisory_touches_its_pins(tmp_path: Path) -> None:
    db = write_db(tmp_path, advisory("h11", events=[{"introduced": "0"}, {"fixed": "0.14.0"}]),
                  advisory("not-locked-anywhere", events=[{"introduced": "0"}], ident="GHSA-2"))
    result = gate(LOCK, db)
    assert result.returncode == 0, result.stderr
    assert "osv gate: ok" in result.stdout


def test_range_blocks_versions_below_the_fix_and_passes_the_fix(tmp_path: Path) -> None:
    db = write_db(tmp_path, advisory("Some_Lib", events=[{"introduced": "1.2"}, {"fixed": "1.10"}]))
    for version, blocked in [("1.1", False), ("1.2.0", True), ("1.9", True), ("1.10rc1", True),
                             ("1.10", False), ("1.10.post1", False)]:
        result = gate(write_lock(tmp_path, {"some-lib": version}), db)
        assert result.returncode == (1 if blocked else 0), (version, result.stderr)


def test_last_affected_includes_that_version_and_not_the_next(tmp_path: Path) -> None:
    db = write_db(tmp_path, advisory("lib", events=[{"introduced": "0"}, {"last_affected": "2.0"}]))
    assert gate(write_lock(tmp_path, {"lib": "2.0"}), db).returncode == 1
    assert gate(write_lock(tmp_path, {"lib": "2.0.1"}), db).returncode == 0


def test_withdrawn_advisory_does_not_block(tmp_path: Path) -> None:
    db = write_db(tmp_path, advisory("lib", versions=["1.0"], withdrawn="2026-01-01T00:00:00Z"))
    assert gate(write_lock(tmp_path, {"lib": "1.0"}), db).returncode == 0


def test_osv_scanner_zip_layout_is_read(tmp_path: Path) -> None:
    db = tmp_path / "osv-scanner" / "PyPI"
    db.mkdir(parents=True)
    with zipfile.ZipFile(db / "all.zip", "w") as archive:
        archive.writestr("GHSA-zip.json", json.dumps(advisory("lib", versions=["1.0"])))
    result = gate(write_lock(tmp_path, {"lib": "1.0"}), tmp_path / "osv-scanner")
    assert result.returncode == 1
    assert "GHSA-stub-0001" in result.stderr


def test_empty_or_unreadable_database_fails_instead_of_passing(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, {"lib": "1.0"})
    empty = tmp_path / "empty"
    empty.mkdir()
    assert gate(lock, empty).returncode == 2
    assert gate(lock, tmp_path / "missing").returncode == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.json").write_text("{not json", encoding="utf-8")
    result = gate(lock, broken)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_unparseable_advisory_version_fails_instead_of_passing(tmp_path: Path) -> None:
    db = write_db(tmp_path, advisory("lib", events=[{"introduced": "0"}, {"fixed": "banana"}]))
    result = gate(write_lock(tmp_path, {"lib": "1.0"}), db)
    assert result.returncode == 2
    assert "cannot compare version 'banana'" in result.stderr
