"""Block a release when a version pinned in uv.lock is affected by an OSV advisory (stdlib only)."""

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


def locked_versions(lock_path: Path) -> dict[str, str]:
    """Map each registry package in uv.lock to its pinned version (the project itself excluded)."""
    try:
        lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read the lock file {lock_path}: {exc}"
        raise GateError(msg) from exc
    pins: dict[str, str] = {}
    for package in lock.get("package", []):
        source = package.get("source", {})
        if "registry" in source and "version" in package:
            pins[normal_name(package["name"])] = package["version"]
    return pins


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


def scan(pins: dict[str, str], records: Iterator[dict[str, Any]]) -> list[Finding]:
    """The findings for the pinned versions; withdrawn advisories do not count."""
    findings: list[Finding] = []
    seen = 0
    for record in records:
        seen += 1
        if record.get("withdrawn"):
            continue
        for entry in record.get("affected", []):
            package = entry.get("package", {})
            name = normal_name(package.get("name", ""))
            if package.get("ecosystem") != "PyPI" or name not in pins:
                continue
            if _affects(entry, pins[name]):
                fixed = tuple(e["fixed"] for r in entry.get("ranges", [])
                              for e in r.get("events", []) if "fixed" in e)
                summary = record.get("summary") or record.get("details", "")[:80]
                findings.append(Finding(name, pins[name], record["id"], summary, fixed))
    if not seen:
        msg = "the advisory database holds no OSV records; a gate over nothing proves nothing"
        raise GateError(msg)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lock", type=Path, default=Path("uv.lock"), help="the uv.lock to check")
    parser.add_argument("--db", type=Path, required=True,
                        help="a directory of OSV JSON records (or of osv-scanner's zip exports)")
    args = parser.parse_args(argv)
    try:
        pins = locked_versions(args.lock)
        findings = scan(pins, advisories(args.db))
    except GateError as exc:
        print(f"osv gate: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(f"BLOCKED: {finding}", file=sys.stderr)
    if findings:
        print(f"osv gate: {len(findings)} affected pin(s) in {args.lock}; upgrade them "
              "(uv lock --upgrade-package NAME) before releasing", file=sys.stderr)
        return 1
    print(f"osv gate: ok, none of the {len(pins)} pins in {args.lock} is affected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
