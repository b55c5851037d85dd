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


def write_lock_entries(tmp_path: Path, entries: list[tuple[str, str]]) -> Path:
    """A uv.lock holding each (name, version) as its own entry, as a forked resolution does."""
    lines = ["version = 1", 'requires-python = ">=3.11"', ""]
    for name, version in entries:
        lines += ["[[package]]", f'name = "{name}"', f'version = "{version}"',
                  'source = { registry = "https://index.invalid/simple" }', ""]
    lock = tmp_path / "uv.lock"
    lock.write_text("\n".join(lines), encoding="utf-8")
    return lock


def test_every_entry_counts_when_the_lock_holds_two_versions_of_one_package(
        tmp_path: Path) -> None:
    # uv forks a resolution per platform or Python range: one package, two locked versions.
    db = write_db(tmp_path, advisory("lib", events=[{"introduced": "0"}, {"fixed": "2.0"}]))
    for entries in ([("lib", "1.0"), ("lib", "2.1")], [("lib", "2.1"), ("lib", "1.0")]):
        result = gate(write_lock_entries(tmp_path, entries), db)
        assert result.returncode == 1, (entries, result.stderr)
        assert "BLOCKED: lib==1.0 is affected by GHSA-stub-0001" in result.stderr


SNAPSHOT = ROOT / "tests" / "fixtures" / "osv"
RELEASE = ROOT / "packaging" / "release"
# Every pinned input of a release: the lock (runtime, dev and release tools), the build backend
# and its dependencies, uv itself, and the second builder (pypa/build) with its dependencies.
PINNED_FILES = [RELEASE / "build-constraints.txt", RELEASE / "uv.txt", RELEASE / "build-tool.txt"]


def gate_files(lock: Path, requirements: list[Path], db: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(GATE), "--lock", str(lock), "--db", str(db)]
    for path in requirements:
        argv += ["--requirements", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_every_pinned_release_input_passes_the_committed_advisory_snapshot() -> None:
    result = gate_files(LOCK, PINNED_FILES, SNAPSHOT)
    assert result.returncode == 0, result.stderr
    assert "osv gate: ok" in result.stdout
    for path in PINNED_FILES:
        assert str(path) in result.stdout


def test_the_snapshot_blocks_a_locked_pin_hidden_behind_a_second_entry(tmp_path: Path) -> None:
    lock = write_lock_entries(tmp_path, [("urllib3", "1.26.17"), ("urllib3", "2.8.0")])
    result = gate_files(lock, [], SNAPSHOT)
    assert result.returncode == 1
    assert "BLOCKED: urllib3==1.26.17 is affected by PYSEC-2023-212" in result.stderr
    assert "urllib3==2.8.0" not in result.stderr


def test_the_snapshot_blocks_a_vulnerable_build_or_tool_pin(tmp_path: Path) -> None:
    pinned = tmp_path / "build-constraints.txt"
    pinned.write_text("# via hatchling\ncryptography==41.0.5 \\\n"
                      "    --hash=sha256:" + "0" * 64 + "\n    # via -r tool.in\n")
    result = gate_files(write_lock_entries(tmp_path, []), [pinned], SNAPSHOT)
    assert result.returncode == 1
    assert ("BLOCKED: cryptography==41.0.5 is affected by PYSEC-2023-254: cryptography is a "
            "package designed") in result.stderr
    assert f"(pinned in {pinned})" in result.stderr


def test_an_unpinned_requirement_fails_instead_of_passing(tmp_path: Path) -> None:
    loose = tmp_path / "tool.txt"
    loose.write_text("build>=1\n")
    result = gate_files(write_lock_entries(tmp_path, []), [loose], SNAPSHOT)
    assert result.returncode == 2
    assert "is not pinned with ==" in result.stderr
