"""Check installed files against the RECORD of a verified wheel (not the installed RECORD)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path, PurePosixPath

from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import normalize

# Files an installer writes or rewrites itself; the wheel cannot vouch for them.
UNCHECKED = frozenset({"RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER", "REQUESTED"})
SHOWN_MISMATCHES = 5


@dataclass(frozen=True, slots=True)
class InstalledCheck:
    """How the installed copy of a verified wheel compared with the wheel's RECORD."""

    root: Path
    project: str
    version: str
    checked: int
    # Entries the installer places outside site-packages (scripts, headers, data).
    skipped: int


def check_installed(wheel: Path, root: Path | None = None) -> InstalledCheck:
    """Hash every installed file of `wheel`'s project under `root` (default: where it is)."""
    if not wheel.name.endswith(".whl"):
        msg = (f"{wheel.name} is not a wheel, so it has no RECORD to check installed files "
               "against; verify the wheel you installed")
        raise VerificationFailed(msg)
    with zipfile.ZipFile(wheel) as archive:
        project, version, rows = _record_of(wheel.name, archive)
    base = root if root is not None else _installed_root(project, version)
    _check_version(base, project, version)
    checked, skipped, bad = 0, 0, []
    for path, expected in rows:
        target = _installed_path(path)
        if target is None:
            skipped += 1
            continue
        checked += 1
        problem = _compare(base / target, expected)
        if problem:
            bad.append(f"{target}: {problem}")
    if bad:
        shown = "; ".join(bad[:SHOWN_MISMATCHES])
        more = f" and {len(bad) - SHOWN_MISMATCHES} more" if len(bad) > SHOWN_MISMATCHES else ""
        msg = (f"{len(bad)} installed file(s) of {project} {version} under {base} differ from "
               f"the verified wheel: {shown}{more}; reinstall from the verified wheel")
        raise VerificationFailed(msg)
    return InstalledCheck(base, project, version, checked, skipped)


def _record_of(filename: str, archive: zipfile.ZipFile) -> tuple[str, str, list[tuple[str, str]]]:
    name_part, version = filename.split("-")[:2]
    info_dir = next((n.split("/")[0] for n in archive.namelist()
                     if n.endswith(".dist-info/RECORD") and n.count("/") == 1), None)
    if info_dir is None:
        msg = f"{filename} has no top-level .dist-info/RECORD; it is not a valid wheel"
        raise VerificationFailed(msg)
    meta = HeaderParser().parsestr(archive.read(f"{info_dir}/METADATA").decode("utf-8"))
    project = str(meta["Name"])
    if normalize(project) != normalize(name_part) or str(meta["Version"]) != version:
        msg = (f"{filename} carries metadata for {project} {meta['Version']}, "
               "which does not match its file name")
        raise VerificationFailed(msg)
    text = archive.read(f"{info_dir}/RECORD").decode("utf-8")
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or PurePosixPath(row[0]).name in UNCHECKED:
            continue
        path, digest = row[0], row[1]
        if not digest.startswith("sha256="):
            msg = f"{filename} RECORD lists {path} without a sha256 hash"
            raise VerificationFailed(msg)
        if _b64_sha256(archive.read(path)) != digest:
            msg = f"{filename} RECORD disagrees with its own member {path}"
            raise VerificationFailed(msg)
        rows.append((path, digest))
    return project, version, rows


def _installed_root(project: str, version: str) -> Path:
    try:
        dist = metadata.distribution(project)
    except metadata.PackageNotFoundError:
        msg = f"{project} is not installed here; install the verified wheel first"
        raise VerificationFailed(msg) from None
    return Path(str(dist.locate_file("")))


def _check_version(root: Path, project: str, version: str) -> None:
    found = [d.version for d in metadata.distributions(path=[str(root)])
             if normalize(d.metadata["Name"] or "") == normalize(project)]
    if version not in found:
        have = ", ".join(found) or "none"
        msg = (f"the verified wheel is {project} {version}, but {root} holds version(s) {have}; "
               "verify the wheel of the installed version")
        raise VerificationFailed(msg)


def _installed_path(path: str) -> PurePosixPath | None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        msg = f"wheel RECORD entry {path} escapes the install root"
        raise VerificationFailed(msg)
    first = pure.parts[0]
    if first.endswith(".data"):
        if len(pure.parts) > 2 and pure.parts[1] in {"purelib", "platlib"}:
            return PurePosixPath(*pure.parts[2:])
        return None
    return pure


def _compare(path: Path, expected: str) -> str | None:
    try:
        actual = _b64_sha256(path.read_bytes())
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    return None if actual == expected else "content differs"


def _b64_sha256(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")
