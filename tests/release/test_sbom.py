"""The SBOM's own logic: which locked file each installed distribution came from, the root's
hashes, and refusing an SBOM that does not match the environment. The full run (a fresh venv,
cyclonedx-py, schema validation, reproducibility) is .ci/checks.d/25-sbom.sh."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sbom", ROOT / "packaging/release/sbom.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sbom"] = module
    spec.loader.exec_module(module)
    return module


sbom = _load()
LOCK = {"package": [
    {"name": "cffi", "version": "2.1.1",
     "sdist": {"url": "https://files.invalid/cffi-2.1.1.tar.gz", "hash": "sha256:" + "0" * 64},
     "wheels": [
         {"url": "https://files.invalid/cffi-2.1.1-cp311-cp311-manylinux_2_17_x86_64"
                 ".manylinux2014_x86_64.whl", "hash": "sha256:" + "1" * 64},
         {"url": "https://files.invalid/cffi-2.1.1-cp311-cp311-win_amd64.whl",
          "hash": "sha256:" + "2" * 64}]},
    {"name": "nkeys", "version": "0.2.1",
     "sdist": {"url": "https://files.invalid/nkeys-0.2.1.tar.gz", "hash": "sha256:" + "3" * 64}},
]}


def test_each_distribution_is_traced_to_the_locked_file_with_its_tags() -> None:
    files = sbom.locked_files(LOCK)
    manylinux = frozenset({"cp311-cp311-manylinux_2_17_x86_64",
                           "cp311-cp311-manylinux2014_x86_64"})
    found = sbom.installed_from(files[("cffi", "2.1.1")], manylinux)
    assert found.filename.endswith("manylinux2014_x86_64.whl")
    assert found.sha256 == "1" * 64
    # No locked wheel has these tags: it was built from the sdist.
    built = sbom.installed_from(files[("nkeys", "0.2.1")], frozenset({"py3-none-any"}))
    assert (built.filename, built.sha256) == ("nkeys-0.2.1.tar.gz", "3" * 64)


def test_an_sbom_listing_a_package_that_is_not_installed_is_refused() -> None:
    bom: dict[str, Any] = {"components": [{"name": "pywin32", "version": "311"},
                                          {"name": "h11", "version": "0.16.0"}]}
    present = [sbom.Installed("h11", "0.16.0", frozenset()),
               sbom.Installed("waitbus", "0.1.0", frozenset())]
    with pytest.raises(SystemExit, match=r"not installed \[\('pywin32', '311'\)\]"):
        sbom.check_complete(bom, present, "waitbus")


def test_an_sbom_missing_an_installed_package_is_refused() -> None:
    present = [sbom.Installed("h11", "0.16.0", frozenset())]
    with pytest.raises(SystemExit, match=r"missing \[\('h11', '0.16.0'\)\]"):
        sbom.check_complete({"components": []}, present, "waitbus")


def test_the_root_carries_the_wheel_and_sdist_hashes_and_says_what_it_describes() -> None:
    wheel = sbom.DistFile("waitbus-0.1.0-py3-none-any.whl", "waitbus", "0.1.0", "a" * 64)
    sdist = sbom.DistFile("waitbus-0.1.0.tar.gz", "waitbus", "0.1.0", "b" * 64)
    h11 = sbom.DistFile("h11-0.16.0-py3-none-any.whl", "h11", "0.16.0", "c" * 64)

    def bom() -> dict[str, Any]:
        return {"metadata": {"component": {"bom-ref": "root-component", "name": "waitbus",
                                           "version": "0.1.0"}},
                "components": [{"bom-ref": "h11==0.16.0", "name": "h11", "version": "0.16.0"}],
                "dependencies": [{"ref": "root-component", "dependsOn": ["h11==0.16.0"]}]}

    one = sbom.annotate(bom(), {("h11", "0.16.0"): h11}, wheel, sdist, "3.11.7", "linux-x86_64")
    root = one["metadata"]["component"]
    assert root["purl"] == root["bom-ref"] == "pkg:pypi/waitbus@0.1.0"
    assert [h["content"] for h in root["hashes"]] == ["a" * 64, "b" * 64]
    assert one["components"][0]["hashes"] == [{"alg": "SHA-256", "content": "c" * 64}]
    assert one["dependencies"][0]["ref"] == "pkg:pypi/waitbus@0.1.0"
    described = {p["name"]: p["value"] for p in one["metadata"]["properties"]}
    assert described["waitbus:sbom:python"] == "3.11.7"
    assert "fresh venv" in described["waitbus:sbom:describes"]
    again = sbom.annotate(bom(), {("h11", "0.16.0"): h11}, wheel, sdist, "3.11.7", "linux-x86_64")
    assert again["serialNumber"] == one["serialNumber"]
    other = sbom.DistFile(wheel.filename, "waitbus", "0.1.0", "d" * 64)
    assert sbom.annotate(bom(), {}, other, sdist, "3.11.7", "linux-x86_64")["serialNumber"] != (
        one["serialNumber"])
