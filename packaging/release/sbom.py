"""Write the CycloneDX 1.6 SBOM of waitbus's runtime dependency closure, reproducibly."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

SPEC_VERSION = "1.6"
# Extras are part of the closure: `waitbus[verify]` is how the install commands are meant to be
# run, so a package they pull in belongs in the SBOM even though a bare install skips it.
EXPORT_ARGS = ("export", "--frozen", "--no-dev", "--all-extras", "--no-emit-project",
               "--no-header", "--no-annotate", "--format", "requirements-txt", "--quiet")

Bom = dict[str, Any]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def source_date_epoch(root: Path) -> str:
    """SOURCE_DATE_EPOCH if set, else the committer time of the last commit."""
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        return epoch
    git = shutil.which("git")
    if git is None:
        msg = "git is not installed; set SOURCE_DATE_EPOCH to the release commit's time"
        raise SystemExit(msg)
    out = subprocess.run([git, "-C", str(root), "log", "-1", "--format=%ct"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def export_requirements(root: Path) -> str:
    uv = os.environ.get("UV", "uv")
    out = subprocess.run([uv, *EXPORT_ARGS], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout


def run_cyclonedx(requirements: str, root: Path, epoch: str) -> Bom:
    argv = [sys.executable, "-m", "cyclonedx_py", "requirements", "--pyproject",
            str(root / "pyproject.toml"), "--sv", SPEC_VERSION, "--output-reproducible",
            "--of", "JSON", "-"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(argv, input=requirements, check=True, capture_output=True, text=True,
                         env=env)
    bom: Bom = json.loads(out.stdout)
    return bom


def lock_graph(lock: dict[str, Any], root_name: str) -> dict[str, set[str]]:
    """Map each locked package (and the root) to the names of its runtime dependencies."""
    graph: dict[str, set[str]] = {}
    for package in lock["package"]:
        deps = {_normal(d["name"]) for d in package.get("dependencies", [])}
        for extra in package.get("optional-dependencies", {}).values():
            deps |= {_normal(d["name"]) for d in extra}
        name = _normal(package["name"])
        graph[name] = graph.get(name, set()) | deps
    graph.setdefault(_normal(root_name), set())
    return graph


def rewrite(bom: Bom, lock_bytes: bytes) -> Bom:
    """Key components by purl, add the dependency graph from uv.lock, pin the serial number."""
    root = bom["metadata"]["component"]
    root_ref = f"pkg:pypi/{_normal(root['name'])}@{root['version']}"
    root["bom-ref"] = root["purl"] = root_ref
    refs: dict[str, str] = {}
    for component in bom["components"]:
        component["bom-ref"] = component["purl"]
        component.pop("description", None)  # it only echoes the requirements line
        refs[_normal(component["name"])] = component["purl"]
    graph = lock_graph(tomllib.loads(lock_bytes.decode()), root["name"])
    nodes = {_normal(root["name"]): root_ref, **refs}
    bom["dependencies"] = [
        {"ref": ref, "dependsOn": sorted(refs[d] for d in graph.get(name, ()) if d in refs)}
        for name, ref in sorted(nodes.items(), key=lambda item: item[1])
    ]
    bom["components"].sort(key=lambda c: c["bom-ref"])
    digest = hashlib.sha256(lock_bytes).hexdigest()
    bom["serialNumber"] = uuid.uuid5(uuid.NAMESPACE_URL, f"{root_ref}#uv.lock={digest}").urn
    return bom


def validate(text: str) -> None:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        msg = f"the SBOM does not validate against CycloneDX {SPEC_VERSION}: {error}"
        raise SystemExit(msg)


def build(root: Path) -> str:
    """Return the SBOM text for the project at root (validated)."""
    epoch = source_date_epoch(root)
    bom = run_cyclonedx(export_requirements(root), root, epoch)
    text = json.dumps(rewrite(bom, (root / "uv.lock").read_bytes()), indent=2, sort_keys=True)
    text += "\n"
    validate(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root")
    parser.add_argument("--output", "-o", type=Path, required=True, help="SBOM file to write")
    args = parser.parse_args(argv)
    text = build(args.root.resolve())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"{digest}  {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
