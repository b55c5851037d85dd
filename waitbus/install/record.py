"""Check an installation against the RECORD of a verified wheel (not the installed RECORD)."""

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

from waitbus.install.bytecode import check_bytecode
from waitbus.install.scripts import check_script, console_scripts
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import Verified, normalize

# Files an installer writes or rewrites itself; the wheel cannot vouch for them.
UNCHECKED = frozenset({"RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER", "REQUESTED"})
SHOWN_PROBLEMS = 5


@dataclass(frozen=True, slots=True)
class Wheel:
    """What a verified wheel says about itself, read from the verified bytes."""

    project: str
    version: str
    # RECORD rows (path in the wheel, "sha256=...") whose members match their hash.
    rows: tuple[tuple[str, str], ...]
    members: dict[str, bytes]
    entry_points: dict[str, str]


@dataclass(frozen=True, slots=True)
class InstalledCheck:
    """How an installation compared with a verified wheel: what was checked and what was not."""

    root: Path
    project: str
    version: str
    # Files under `root` hashed against the verified RECORD.
    checked: int
    # __pycache__ bytecode compared with the compiled verified sources.
    bytecode_checked: int
    # Console scripts compared with the launcher for the verified entry point.
    scripts: tuple[Path, ...]
    # One line for each thing this check did not cover.
    not_checked: tuple[str, ...]


def read_wheel(verified: Verified) -> Wheel:
    """RECORD, metadata and entry points of the verified wheel, from the bytes that verified."""
    filename = verified.dist.name
    if not filename.endswith(".whl"):
        msg = (f"{filename} is not a wheel, so it has no RECORD to check installed files "
               "against; verify the wheel you installed")
        raise VerificationFailed(msg)
    try:
        with zipfile.ZipFile(io.BytesIO(verified.data)) as archive:
            members = {name: archive.read(name) for name in archive.namelist()
                       if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{filename} is not a readable wheel: {exc}"
        raise VerificationFailed(msg) from exc
    return _parse(filename, members)


def check_installed(verified: Verified, root: Path | None = None,
                    scripts: tuple[Path, ...] | None = None,
                    python: Path | None = None) -> InstalledCheck:
    """Check the installation of `verified`'s project under `root` (default: where it is).

    Refuses when a file differs from the verified RECORD, when the package holds a file the
    wheel does not, when bytecode this interpreter would load is not compiled from the verified
    source, or when a console script in `scripts` is not the launcher of its entry point with
    `python`. `scripts=None` means no console script was named: reported as not checked.
    """
    wheel = read_wheel(verified)
    base = root if root is not None else _installed_root(wheel.project, wheel.version)
    _check_version(base, wheel.project, wheel.version)
    problems: list[str] = []
    sources: dict[PurePosixPath, bytes] = {}
    listed: set[PurePosixPath] = set()
    outside = 0
    for path, expected in wheel.rows:
        target = _installed_path(path)
        if target is None:
            outside += 1
            continue
        listed.add(target)
        if target.suffix == ".py":
            sources[target] = wheel.members[path]
        problem = _compare(base / target, expected)
        if problem:
            problems.append(f"{target}: {problem}")
    problems += [f"{extra}: not in the verified wheel" for extra in _extras(base, listed)]
    bytecode = check_bytecode(base, sources)
    problems += list(bytecode.foreign)
    _refuse(problems, wheel, base)
    checked_scripts = _check_scripts(wheel, scripts, python)
    not_checked = _not_checked(outside, scripts, bytecode.other_interpreters, wheel)
    return InstalledCheck(base, wheel.project, wheel.version, len(listed),
                          bytecode.matching, checked_scripts, not_checked)


def _parse(filename: str, members: dict[str, bytes]) -> Wheel:
    name_part, version = filename.split("-")[:2]
    info_dir = next((n.split("/")[0] for n in members
                     if n.endswith(".dist-info/RECORD") and n.count("/") == 1), None)
    if info_dir is None or f"{info_dir}/METADATA" not in members:
        msg = f"{filename} has no top-level .dist-info/RECORD; it is not a valid wheel"
        raise VerificationFailed(msg)
    meta = HeaderParser().parsestr(members[f"{info_dir}/METADATA"].decode("utf-8"))
    project = str(meta["Name"])
    if normalize(project) != normalize(name_part) or str(meta["Version"]) != version:
        msg = (f"{filename} carries metadata for {project} {meta['Version']}, "
               "which does not match its file name")
        raise VerificationFailed(msg)
    rows = []
    for row in csv.reader(io.StringIO(members[f"{info_dir}/RECORD"].decode("utf-8"))):
        if not row or PurePosixPath(row[0]).name in UNCHECKED:
            continue
        path, digest = row[0], row[1]
        if not digest.startswith("sha256="):
            msg = f"{filename} RECORD lists {path} without a sha256 hash"
            raise VerificationFailed(msg)
        if path not in members or _b64_sha256(members[path]) != digest:
            msg = f"{filename} RECORD disagrees with its own member {path}"
            raise VerificationFailed(msg)
        rows.append((path, digest))
    entry_points = members.get(f"{info_dir}/entry_points.txt", b"").decode("utf-8")
    return Wheel(project, version, tuple(rows), members, console_scripts(entry_points))


def _refuse(problems: list[str], wheel: Wheel, base: Path) -> None:
    if not problems:
        return
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = (f" and {len(problems) - SHOWN_PROBLEMS} more"
            if len(problems) > SHOWN_PROBLEMS else "")
    msg = (f"{len(problems)} installed file(s) of {wheel.project} {wheel.version} under {base} "
           f"differ from the verified wheel: {shown}{more}; reinstall from the verified wheel "
           "(and remove files it does not list)")
    raise VerificationFailed(msg)


def _extras(base: Path, listed: set[PurePosixPath]) -> list[PurePosixPath]:
    """Files inside the wheel's top-level packages that its RECORD does not list.

    `__pycache__` folders are left to the bytecode check; the site-packages folder itself and
    .dist-info folders are shared with installers and other projects, so they are not walked.
    """
    packages = {p.parts[0] for p in listed
                if len(p.parts) > 1 and not p.parts[0].endswith(".dist-info")}
    extras = []
    for package in sorted(packages):
        for found in sorted((base / package).rglob("*")):
            relative = PurePosixPath(found.relative_to(base).as_posix())
            if "__pycache__" in relative.parts or found.is_dir():
                continue
            if relative not in listed:
                extras.append(relative)
    return extras


def _check_scripts(wheel: Wheel, scripts: tuple[Path, ...] | None,
                   python: Path | None) -> tuple[Path, ...]:
    if not scripts:
        return ()
    if python is None:
        msg = "checking console scripts needs the interpreter they must run"
        raise VerificationFailed(msg)
    for script in scripts:
        target = wheel.entry_points.get(script.name)
        if target is None:
            msg = (f"{script} is not a console script of the verified {wheel.project} "
                   f"{wheel.version} (it declares: {', '.join(wheel.entry_points) or 'none'})")
            raise VerificationFailed(msg)
        check_script(script, target, python)
    return scripts


def _not_checked(outside: int, scripts: tuple[Path, ...] | None, other_bytecode: int,
                 wheel: Wheel) -> tuple[str, ...]:
    lines = []
    if scripts is None and wheel.entry_points:
        lines.append(f"console scripts ({', '.join(sorted(wheel.entry_points))}): "
                     "no installation of them was named")
    if outside:
        lines.append(f"{outside} RECORD entries installed outside site-packages "
                     "(scripts, headers or data from the wheel's .data folder)")
    if other_bytecode:
        lines.append(f"{other_bytecode} bytecode files for other interpreters "
                     "(this one never loads them)")
    lines.append("the interpreter, its standard library, .pth files and sitecustomize in "
                 "site-packages, and every dependency")
    return tuple(lines)


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
