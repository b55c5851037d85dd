"""Write the CycloneDX 1.6 SBOM of what installing a built waitbus wheel puts in a fresh venv.

The environment is made the way a careful user installs: a new venv, the locked runtime closure
(`uv export --locked --all-extras --no-dev --no-emit-project`) and the wheel itself with every
extra, installed with `uv pip install --require-hashes --no-deps`. `cyclonedx-py
environment` describes that venv; this script adds the sha256 of the locked file each
distribution was installed from (the wheel whose tags its WHEEL file lists, else its sdist), the
wheel and sdist as the root's hashes, says what the SBOM describes, pins the serial
number and validates the result. Same wheel, same lock, same platform: same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_VERSION = "1.6"
EXPORT_ARGS = ("export", "--locked", "--all-extras", "--no-dev", "--no-emit-project",
               "--format", "requirements-txt", "--no-header", "--no-annotate", "--quiet")
PROPERTY = "waitbus:sbom"

Bom = dict[str, Any]


@dataclass(frozen=True)
class DistFile:
    """A distribution file that was installed (or built): its name, project, version, sha256."""

    filename: str
    project: str
    version: str
    sha256: str


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_file(path: Path) -> DistFile:
    """Name and version from a wheel's or sdist's file name, and the file's sha256."""
    name = path.name
    if name.endswith(".whl"):
        project, version = name.split("-")[:2]
    elif name.endswith((".tar.gz", ".zip")):
        project, version = re.sub(r"\.(tar\.gz|zip)$", "", name).rsplit("-", 1)
    else:
        msg = f"{path} is neither a wheel nor an sdist"
        raise SystemExit(msg)
    return DistFile(name, normal(project), version, hashlib.sha256(path.read_bytes()).hexdigest())


def built(dist: Path) -> tuple[DistFile, DistFile]:
    """The one wheel and the one sdist in `dist`."""
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        msg = f"{dist} must hold exactly one wheel and one sdist (build.sh OUT_DIR makes them)"
        raise SystemExit(msg)
    return dist_file(wheels[0]), dist_file(sdists[0])


def run(argv: list[str], **kwargs: Any) -> str:
    done = subprocess.run(argv, check=False, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        msg = f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stderr.strip()}"
        raise SystemExit(msg)
    return done.stdout


def install(root: Path, wheel: Path, base: str, work: Path) -> Path:
    """A fresh venv holding the locked closure and the wheel with every extra; its python."""
    uv = os.environ.get("UV", "uv")
    requirements = work / "locked.txt"
    requirements.write_text(run([uv, *EXPORT_ARGS], cwd=root))
    extras = sorted(tomllib.loads((root / "pyproject.toml").read_text())["project"]
                    .get("optional-dependencies", {}))
    wheel_sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    own = work / "waitbus.txt"
    own.write_text(f"waitbus[{','.join(extras)}] @ {wheel.resolve().as_uri()} "
                   f"--hash=sha256:{wheel_sha}\n")
    venv = work / "venv"
    run([uv, "venv", "--quiet", "--python", base, str(venv)])
    python = venv / "bin" / "python"
    # --no-deps: the export is the whole locked closure; `pip check` below proves it complete.
    run([uv, "pip", "install", "--quiet", "--python", str(python), "--require-hashes",
         "--no-deps", "-r", str(requirements), "-r", str(own)])
    run([uv, "pip", "check", "--quiet", "--python", str(python)])
    return python


def locked_files(lock: dict[str, Any]) -> dict[tuple[str, str], list[DistFile]]:
    """Every wheel and sdist uv.lock pins, by (normal name, version)."""
    files: dict[tuple[str, str], list[DistFile]] = {}
    for package in lock.get("package", []):
        key = (normal(package["name"]), str(package.get("version", "")))
        entries = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        for entry in entries:
            if "url" in entry and str(entry.get("hash", "")).startswith("sha256:"):
                filename = entry["url"].rsplit("/", 1)[-1]
                files.setdefault(key, []).append(
                    DistFile(filename, key[0], key[1], entry["hash"].removeprefix("sha256:")))
    return files


def wheel_tags(filename: str) -> frozenset[str]:
    """The tags a wheel file name stands for, expanded (`py2.py3-none-any` is two)."""
    python, abi, platform = filename.removesuffix(".whl").split("-")[-3:]
    return frozenset(f"{p}-{a}-{t}" for p in python.split(".") for a in abi.split(".")
                     for t in platform.split("."))


def installed_from(candidates: list[DistFile], tags: frozenset[str]) -> DistFile | None:
    """The locked file a distribution with these WHEEL tags was installed from.

    A wheel whose tags are exactly the installed ones; else, when no locked wheel matches, the
    sdist it was built from; None when neither is known.
    """
    for candidate in candidates:
        if candidate.filename.endswith(".whl") and wheel_tags(candidate.filename) == tags:
            return candidate
    sdists = [c for c in candidates if not c.filename.endswith(".whl")]
    return sdists[0] if len(sdists) == 1 else None


def describe(python: Path, epoch: str, pyproject: Path) -> Bom:
    argv = [sys.executable, "-m", "cyclonedx_py", "environment", "--pyproject", str(pyproject),
            "--sv", SPEC_VERSION, "--output-reproducible", "--of", "JSON", "-o", "-",
            "--no-validate", str(python)]  # validated once, after annotate()
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch, "PYTHONWARNINGS": "ignore"}
    bom: Bom = json.loads(run(argv, env=env))
    return bom


@dataclass(frozen=True)
class Installed:
    """One distribution in the venv: its name, version and the tags in its WHEEL file."""

    project: str
    version: str
    tags: frozenset[str]


def installed(python: Path) -> list[Installed]:
    """Every distribution in the venv, read by the venv's own interpreter."""
    code = ("import json, importlib.metadata as m; print(json.dumps(sorted("
            "[d.metadata['Name'], d.version, [v for k, v in __import__('email').message_from_"
            "string(d.read_text('WHEEL') or '').items() if k == 'Tag']] "
            "for d in m.distributions())))")
    return [Installed(normal(name), version, frozenset(tags))
            for name, version, tags in json.loads(run([str(python), "-c", code]))]


def environment_of(python: Path) -> tuple[str, str]:
    code = "import platform, sysconfig; print(platform.python_version(), sysconfig.get_platform())"
    version, platform_tag = run([str(python), "-c", code]).split()
    return version, platform_tag


def annotate(bom: Bom, files: dict[tuple[str, str], DistFile], wheel: DistFile, sdist: DistFile,
             python_version: str, platform_tag: str) -> Bom:
    """Hashes of installed files, the root's wheel and sdist, what this SBOM describes, serial."""
    for component in bom.get("components", []):
        found = files.get((normal(component["name"]), component["version"]))
        if found is not None:
            component["hashes"] = [{"alg": "SHA-256", "content": found.sha256}]
            component.setdefault("properties", []).append(
                {"name": f"{PROPERTY}:installed-from", "value": found.filename})
    root = bom["metadata"]["component"]
    purl = f"pkg:pypi/{normal(root['name'])}@{root['version']}"
    old_ref, root["bom-ref"], root["purl"] = root["bom-ref"], purl, purl
    root["hashes"] = [{"alg": "SHA-256", "content": f.sha256} for f in (wheel, sdist)]
    root["externalReferences"] = [
        {"type": "distribution", "url": f.filename, "comment": kind,
         "hashes": [{"alg": "SHA-256", "content": f.sha256}]}
        for f, kind in ((wheel, "the wheel that was installed"), (sdist, "the sdist"))]
    for dependency in bom.get("dependencies", []):
        if dependency["ref"] == old_ref:
            dependency["ref"] = purl
    bom["metadata"]["properties"] = [*bom["metadata"].get("properties", []), *[
        {"name": f"{PROPERTY}:{key}", "value": value} for key, value in (
            ("describes", "the packages installed into a fresh venv by installing the root's "
             "wheel with all its extras from the locked requirements (uv export --locked "
             "--all-extras --no-dev --no-emit-project; uv pip install --require-hashes "
             "--no-deps); each component's SHA-256 is the locked file it was installed from"),
            ("python", python_version), ("platform", platform_tag))]]
    seed = f"{purl}#wheel={wheel.sha256}&sdist={sdist.sha256}&{python_version}&{platform_tag}"
    bom["serialNumber"] = uuid.uuid5(uuid.NAMESPACE_URL, seed).urn
    bom["components"] = sorted(bom.get("components", []), key=lambda c: c["bom-ref"])
    return bom


def check_complete(bom: Bom, present: list[Installed], root_name: str) -> None:
    """Every installed distribution but the root is a component, and nothing else is."""
    listed = sorted((normal(c["name"]), c["version"]) for c in bom.get("components", []))
    expected = sorted((p.project, p.version) for p in present if p.project != normal(root_name))
    if listed != expected:
        missing = sorted(set(expected) - set(listed))
        extra = sorted(set(listed) - set(expected))
        msg = f"the SBOM does not match the environment: missing {missing}, not installed {extra}"
        raise SystemExit(msg)


def validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        msg = f"the SBOM does not validate against CycloneDX {SPEC_VERSION}: {error}"
        raise SystemExit(msg)


def source_date_epoch(root: Path) -> str:
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        return epoch
    git = shutil.which("git")
    if git is None:
        msg = "git is not installed; set SOURCE_DATE_EPOCH to the release commit's time"
        raise SystemExit(msg)
    return run([git, "-C", str(root), "log", "-1", "--format=%ct"]).strip()


def build(root: Path, dist: Path, base: str) -> tuple[str, int]:
    """The validated SBOM text, and how many distributions the environment holds."""
    wheel, sdist = built(dist)
    lock = locked_files(tomllib.loads((root / "uv.lock").read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory(prefix="waitbus-sbom-") as tmp:
        python = install(root, dist / wheel.filename, base, Path(tmp))
        bom = describe(python, source_date_epoch(root), root / "pyproject.toml")
        present = installed(python)
        check_complete(bom, present, wheel.project)
        files = {(p.project, p.version): found for p in present
                 if (found := installed_from(lock.get((p.project, p.version), []), p.tags))}
        bom = annotate(bom, files, wheel, sdist, *environment_of(python))
    text = json.dumps(bom, indent=2, sort_keys=True) + "\n"
    validate(text)
    return text, len(present)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (uv.lock)")
    parser.add_argument("--dist", type=Path, required=True,
                        help="the folder with the built wheel and sdist")
    parser.add_argument("--python", required=True,
                        help="the base interpreter of the fresh venv, e.g. "
                        "\"$(command -v python3)\" taken outside `uv run`")
    parser.add_argument("--output", "-o", type=Path, required=True, help="SBOM file to write")
    args = parser.parse_args(argv)
    text, present = build(args.root.resolve(), args.dist, args.python)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    components = len(json.loads(text)["components"])
    print(f"{hashlib.sha256(text.encode()).hexdigest()}  {args.output}")
    print(f"{components} components + the root = the {present} distributions installed",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
