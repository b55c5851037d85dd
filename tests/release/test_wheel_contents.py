"""What ships: the release wheel's files, metadata, entry points and the daemon's import closure."""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "packaging" / "release" / "build.sh"
# Heavy libraries that only `waitbus mcp`, `waitbus verify`, the install commands and
# `waitbus bridge` may load.
HEAVY = ("mcp", "sigstore", "cryptography", "pypi_attestations", "nats", "nacl", "nkeys")
EXTRAS = {"mcp", "verify", "nats"}


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                         text=True)
    return out.stdout


# The commit under test, fixed once: the work tree may gain commits while the tests run.
REV = _git("rev-parse", "HEAD").strip()
PYPROJECT = tomllib.loads(_git("show", f"{REV}:pyproject.toml"))
VERSION = PYPROJECT["project"]["version"]
DIST_INFO = f"waitbus-{VERSION}.dist-info"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel of REV, built once per session the way a release builds them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(["bash", str(BUILD), str(out)], check=True, timeout=300,
                   env={**os.environ, "BUILD_REV": REV})
    return out


@pytest.fixture(scope="session")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def sdist(dist: Path) -> Path:
    (built,) = dist.glob("*.tar.gz")
    return built


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename for info in archive.infolist() if not info.is_dir()}


def _read(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name).decode("utf-8")


def _metadata(wheel: Path) -> Message:
    return HeaderParser().parsestr(_read(wheel, f"{DIST_INFO}/METADATA"))


def _committed(prefix: str) -> set[str]:
    """Files under prefix in REV, the commit the wheel was built from."""
    return set(_git("ls-tree", "-r", "--name-only", REV, "--", prefix).split())


def _forced_into_wheel() -> set[str]:
    """Files that pyproject's force-include adds to the wheel, by their path inside it."""
    wheel_cfg = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    names: set[str] = set()
    for source, dest in wheel_cfg.get("force-include", {}).items():
        files = _committed(source)
        names |= {dest + name[len(source):] for name in files} if files else {dest}
    return names


def test_wheel_holds_the_committed_package_and_nothing_else(wheel: Path) -> None:
    names = _names(wheel)
    package = {n for n in names if not n.startswith(f"{DIST_INFO}/")}
    assert package == _committed("waitbus") | _forced_into_wheel()
    assert "waitbus/py.typed" in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
    assert {n for n in names if n.startswith(f"{DIST_INFO}/")} == {
        f"{DIST_INFO}/{name}"
        for name in ("METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE")
    }


def test_wheel_record_matches_every_file(wheel: Path) -> None:
    record = _read(wheel, f"{DIST_INFO}/RECORD").splitlines()
    rows = dict(line.rsplit(",", 2)[:2] for line in record if line)
    assert set(rows) == _names(wheel)
    with zipfile.ZipFile(wheel) as archive:
        for name, digest in rows.items():
            if name == f"{DIST_INFO}/RECORD":
                continue
            raw = hashlib.sha256(archive.read(name)).digest()
            assert digest == "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_wheel_metadata_requires_only_h11_outside_extras(wheel: Path) -> None:
    meta = _metadata(wheel)
    assert meta["Name"] == "waitbus"
    assert meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.11"
    requirements = [Requirement(line) for line in meta.get_all("Requires-Dist", [])]
    assert [r.name for r in requirements if r.marker is None] == ["h11"]
    assert set(meta.get_all("Provides-Extra", [])) == EXTRAS
    for requirement in requirements:
        if requirement.marker is not None:
            assert any(requirement.marker.evaluate({"extra": e}) for e in EXTRAS), requirement


def test_wheel_entry_points_are_the_command_and_the_pytest_plugin(wheel: Path) -> None:
    points = configparser.ConfigParser()
    points.read_string(_read(wheel, f"{DIST_INFO}/entry_points.txt"))
    assert dict(points["console_scripts"]) == {"waitbus": "waitbus.cli.main:entry"}
    assert dict(points["pytest11"]) == {"waitbus": "waitbus.sources.pytest_plugin"}
    names = _names(wheel)
    assert "waitbus/cli/main.py" in names
    assert "waitbus/sources/pytest_plugin.py" in names


CLOSURE_PROBE = """
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import waitbus.api, waitbus.bus.daemon, waitbus.cli.commands.serve
from waitbus.cli.main import main
with contextlib.redirect_stdout(io.StringIO()) as help_text:
    code = main(["--help"])
print(json.dumps({"file": waitbus.__file__, "code": code, "help": help_text.getvalue(),
                  "modules": sorted({name.partition(".")[0] for name in sys.modules})}))
"""


def test_daemon_import_closure_holds_no_heavy_library(wheel: Path) -> None:
    # The project venv has every extra installed, so a stray import would succeed and show here.
    probe = subprocess.run([sys.executable, "-I", "-c", CLOSURE_PROBE, str(wheel)],
                           check=True, capture_output=True, text=True, timeout=60)
    seen = json.loads(probe.stdout)
    assert seen["file"].startswith(str(wheel)), "waitbus must come from the wheel under test"
    assert seen["code"] == 0
    assert "usage: waitbus" in seen["help"]
    assert not set(HEAVY) & set(seen["modules"])


def test_sdist_holds_the_include_list_and_no_builder_identity(sdist: Path) -> None:
    top = f"waitbus-{VERSION}/"
    include = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    expected = {".gitignore", "PKG-INFO"}
    for entry in include:
        expected |= _committed(entry.lstrip("/"))
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
    assert {m.name.removeprefix(top) for m in members} == expected
    # What reprotest's user_group variation would catch, checked directly.
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
