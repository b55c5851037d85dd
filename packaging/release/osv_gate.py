"""Block a release when a pinned version (uv.lock, hash-pinned requirements) has an OSV advisory.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# PEP 440, appendix B: the canonical version pattern.
_PEP440 = re.compile(
    r"""^\s*v?(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_INF = (1 << 62,)
_NEG = (-(1 << 62),)

VersionKey = tuple[Any, ...]


class GateError(Exception):
    """The gate cannot decide (an unreadable lock, database or version): it must not pass."""


# A pinned requirement line: `name==version`, maybe with extras and a marker after it.
_PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*"
                     r"(?P<version>[^\s;\\]+)")


@dataclass(frozen=True, order=True)
class Pin:
    """One pinned version of one package, and the file that pins it."""

    package: str
    version: str
    origin: str


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    summary: str
    fixed: tuple[str, ...]

    def __str__(self) -> str:
        fixed = f"; fixed in {', '.join(self.fixed)}" if self.fixed else "; no fixed version"
        pin = f"{self.package}=={self.version}"
        return f"{pin} is affected by {self.advisory}: {self.summary}{fixed}"


def normal_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version_key(text: str) -> VersionKey:
    """A sort key that orders PEP 440 versions as installers do."""
    match = _PEP440.match(text)
    if match is None:
        msg = f"cannot compare version {text!r}: it is not a PEP 440 version"
        raise GateError(msg)
    release = tuple(int(part) for part in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    # As installers order them: 1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1.
    pre: VersionKey = _INF
    if match["pre"]:
        pre = (_PRE_RANK[match["pre_l"].lower()], int(match["pre_n"] or 0))
    elif match["dev"] and not match["post"]:
        pre = _NEG
    post = (int(match["post_n1"] or match["post_n2"] or 0),) if match["post"] else _NEG
    dev = (int(match["dev_n"] or 0),) if match["dev"] else _INF
    return (int(match["epoch"] or 0), release, pre, post, dev)


def locked_pins(lock_path: Path) -> list[Pin]:
    """Every registry package entry in uv.lock (the project itself excluded).

    A lock can hold several entries for one package (uv forks the resolution per platform or
    Python range): each is a pin of its own, so none can hide another.
    """
    try:
        lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read the lock file {lock_path}: {exc}"
        raise GateError(msg) from exc
    return sorted({Pin(normal_name(package["name"]), package["version"], str(lock_path))
                   for package in lock.get("package", [])
                   if "registry" in package.get("source", {}) and "version" in package})


def requirement_pins(path: Path) -> list[Pin]:
    """Every `name==version` in a requirements file (build constraints, pinned tools)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the requirements file {path}: {exc}"
        raise GateError(msg) from exc
    pins = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("--") or line == "\\":
            continue
        pinned = _PINNED.match(line)
        if pinned is None:
            msg = f"{path}: {line!r} is not pinned with ==; the gate checks exact versions only"
            raise GateError(msg)
        pins.add(Pin(normal_name(pinned["name"]), pinned["version"], str(path)))
    return sorted(pins)


def advisories(db: Path) -> Iterator[dict[str, Any]]:
    """Every OSV record under db: *.json files, and *.zip exports of them (osv-scanner's layout)."""
    if not db.is_dir():
        msg = f"no advisory database at {db}; pass a directory of OSV records"
        raise GateError(msg)
    try:
        for path in sorted(db.rglob("*.json")):
            yield json.loads(path.read_bytes())
        for path in sorted(db.rglob("*.zip")):
            with zipfile.ZipFile(path) as archive:
                for name in sorted(archive.namelist()):
                    if name.endswith(".json"):
                        yield json.loads(archive.read(name))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        msg = f"cannot read the advisory database {db}: {exc}"
        raise GateError(msg) from exc


def in_range(version: VersionKey, events: list[dict[str, str]]) -> bool:
    """OSV range semantics: walk the events in version order, switching on and off."""
    def at(event: dict[str, str]) -> VersionKey:
        (value,) = event.values()
        return (-1,) if value == "0" else version_key(value)

    affected = False
    for event in sorted(events, key=at):
        point = at(event)
        if "introduced" in event and version >= point:
            affected = True
        elif (("fixed" in event or "limit" in event) and version >= point) or (
                "last_affected" in event and version > point):
            affected = False
    return affected


def _affects(entry: dict[str, Any], version: str) -> bool:
    key = version_key(version)
    if any(version_key(v) == key for v in entry.get("versions", [])):
        return True
    return any(in_range(key, r.get("events", [])) for r in entry.get("ranges", [])
               if r.get("type") in ("ECOSYSTEM", "SEMVER"))


def scan(pins: list[Pin], records: Iterator[dict[str, Any]]) -> list[Finding]:
    """The findings for the pinned versions; withdrawn advisories do not count."""
    by_name: dict[str, set[str]] = {}
    for pin in pins:
        by_name.setdefault(pin.package, set()).add(pin.version)
    findings: set[Finding] = set()
    seen = 0
    for record in records:
        seen += 1
        if record.get("withdrawn"):
            continue
        for entry in record.get("affected", []):
            package = entry.get("package", {})
            name = normal_name(package.get("name", ""))
            if package.get("ecosystem") != "PyPI":
                continue
            for version in sorted(by_name.get(name, ())):
                if _affects(entry, version):
                    fixed = tuple(e["fixed"] for r in entry.get("ranges", [])
                                  for e in r.get("events", []) if "fixed" in e)
                    summary = record.get("summary") or record.get("details", "")[:80]
                    findings.add(Finding(name, version, record["id"], summary.strip(), fixed))
    if not seen:
        msg = "the advisory database holds no OSV records; a gate over nothing proves nothing"
        raise GateError(msg)
    return sorted(findings, key=lambda f: (f.package, f.version, f.advisory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lock", type=Path, action="append",
                        help="a uv.lock to check (repeatable; default: uv.lock)")
    parser.add_argument("--requirements", type=Path, action="append", default=[],
                        help="a hash-pinned requirements file to check, e.g. the build "
                        "constraints or a pinned tool (repeatable)")
    parser.add_argument("--db", type=Path, required=True,
                        help="a directory of OSV JSON records (or of osv-scanner's zip exports)")
    args = parser.parse_args(argv)
    locks = args.lock or [Path("uv.lock")]
    try:
        pins = [pin for lock in locks for pin in locked_pins(lock)]
        pins += [pin for path in args.requirements for pin in requirement_pins(path)]
        findings = scan(pins, advisories(args.db))
    except GateError as exc:
        print(f"osv gate: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        origins = sorted({p.origin for p in pins
                          if (p.package, p.version) == (finding.package, finding.version)})
        print(f"BLOCKED: {finding} (pinned in {', '.join(origins)})", file=sys.stderr)
    sources = ", ".join(str(path) for path in [*locks, *args.requirements])
    if findings:
        print(f"osv gate: {len(findings)} affected pin(s) in {sources}; upgrade them "
              "(uv lock --upgrade-package NAME, or recompile the requirements file) before "
              "releasing", file=sys.stderr)
        return 1
    print(f"osv gate: ok, none of the {len(pins)} pins in {sources} is affected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
