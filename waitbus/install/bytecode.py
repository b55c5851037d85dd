"""Bytecode under __pycache__ must be what the verified source beside it compiles to."""

from __future__ import annotations

import importlib.util
import marshal
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# PEP 3147 / PEP 488 names: `mod.cpython-313.pyc`, `mod.cpython-313.opt-1.pyc`.
_PYC_NAME = re.compile(r"(?P<stem>[^.]+)\.(?P<tag>[^.]+)(?:\.opt-(?P<opt>[12]))?\.pyc")
PYC_HEADER_BYTES = 16
MAX_PYC_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BytecodeCheck:
    """What the bytecode next to the verified sources held."""

    # .pyc files of this interpreter whose code equals the verified source's compiled code.
    matching: int
    # .pyc files for other interpreters (another cache tag): this one never loads them.
    other_interpreters: int
    # .pyc files in __pycache__ with no verified source beside them: the importer ignores them.
    orphaned: int
    # "path: reason" for each .pyc this interpreter would run that does not come from the source.
    foreign: tuple[str, ...]


def check_bytecode(base: Path, sources: dict[PurePosixPath, bytes]) -> BytecodeCheck:
    """Compare every `__pycache__/*.pyc` beside the verified `sources` with their compiled code.

    `sources` maps each verified `.py` file's path (relative to `base`) to its verified bytes.
    A .pyc whose header claims the right source (timestamp or hash) is still compared by its
    code objects: the header is easy to forge, the code is what runs.
    """
    tag = sys.implementation.cache_tag
    matching = other = orphaned = 0
    foreign: list[str] = []
    for folder in sorted({path.parent for path in sources}):
        cache = base / folder / "__pycache__"
        if not cache.is_dir():
            continue
        for pyc in sorted(cache.iterdir()):
            name = _PYC_NAME.fullmatch(pyc.name)
            if name is None:
                continue  # not bytecode the importer looks for
            if name["tag"] != tag:
                other += 1
                continue
            source = sources.get(folder / f"{name['stem']}.py")
            if source is None:
                orphaned += 1
                continue
            problem = _compare(pyc, source, int(name["opt"] or 0))
            if problem is None:
                matching += 1
            else:
                foreign.append(f"{PurePosixPath(folder, '__pycache__', pyc.name)}: {problem}")
    return BytecodeCheck(matching, other, orphaned, tuple(foreign))


def _compare(pyc: Path, source: bytes, optimize: int) -> str | None:
    try:
        data = pyc.read_bytes()[:MAX_PYC_BYTES + 1]
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if len(data) > MAX_PYC_BYTES or len(data) < PYC_HEADER_BYTES:
        return "not a bytecode file of a plausible size"
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return "its magic number is not this interpreter's"
    try:
        # marshal is not hardened against malicious input; this file was written by an account
        # that can already change anything this one runs (SECURITY.md: same-UID trust).
        code = marshal.loads(data[PYC_HEADER_BYTES:])  # noqa: S302
        expected = compile(source, str(pyc), "exec", dont_inherit=True, optimize=optimize)
    except (ValueError, EOFError, TypeError, SyntaxError) as exc:
        return f"cannot be compared ({type(exc).__name__})"
    # Code objects compare their bytecode, constants (nested code included), names, line and
    # exception tables; only the file name is left out, and it changes nothing that runs.
    return None if code == expected else "its code is not compiled from the verified source"
