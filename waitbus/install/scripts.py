"""A console script must be the launcher an installer writes for the verified entry point."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shlex
from pathlib import Path

from waitbus.install.trust import VerificationFailed

MAX_SCRIPT_BYTES = 64 * 1024
_PYTHON_NAME = re.compile(r"python(?:3(?:\.[0-9]+)?)?")
# The launcher bodies installers write (without the shebang): distlib's older template (pip up to
# 24), its newer one (uv, distlib 0.3.9 and later), and pypa/installer's. Compared as syntax
# trees, so quoting and blank lines do not matter; nothing else may be in the file.
_TEMPLATES = (
    """
import re
import sys
from {module} import {name}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
""",
    """
import sys
from {module} import {name}
if __name__ == "__main__":
    if sys.argv[0].endswith("-script.pyw"):
        sys.argv[0] = sys.argv[0][:-11]
    elif sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit({call}())
""",
    """
import re
import sys
if __name__ == "__main__":
    from {module} import {name}
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
""",
)


def console_scripts(entry_points_txt: str) -> dict[str, str]:
    """The `[console_scripts]` of an entry_points.txt: script name -> `module:attr`."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(entry_points_txt)
    except configparser.Error as exc:
        msg = f"the verified wheel's entry_points.txt is malformed: {exc}"
        raise VerificationFailed(msg) from exc
    if not parser.has_section("console_scripts"):
        return {}
    return {name: value.strip() for name, value in parser.items("console_scripts")}


def check_script(path: Path, target: str, python: Path) -> None:
    """`path` must run `target` (`module:attr`) with `python` and do nothing else."""
    try:
        raw = path.read_bytes()[:MAX_SCRIPT_BYTES + 1]
    except OSError as exc:
        msg = f"cannot read the console script {path}: {exc.strerror}"
        raise VerificationFailed(msg) from exc
    if len(raw) > MAX_SCRIPT_BYTES:
        msg = f"{path} is larger than any console script an installer writes"
        raise VerificationFailed(msg)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"{path} is not a Python console script (it is not UTF-8 text)"
        raise VerificationFailed(msg) from None
    interpreter, body = _split_shebang(path, text)
    _check_interpreter(path, interpreter, python)
    if not _is_launcher(body, target):
        msg = (f"{path} is not the launcher an installer writes for {target}: it runs something "
               "else; reinstall from the verified wheel")
        raise VerificationFailed(msg)


def _split_shebang(path: Path, text: str) -> tuple[str, str]:
    lines = text.split("\n")
    first = lines[0]
    if first == "#!/bin/sh" and len(lines) > 2 and lines[2] == "' '''":
        # distlib's form for long interpreter paths: `'''exec' /path/python "$0" "$@"`.
        words = shlex.split(lines[1])
        if len(words) == 4 and words[0] == "exec" and words[2:] == ["$0", "$@"]:
            return words[1], "\n".join(lines[3:])
    if first.startswith("#!") and " " not in first[2:].strip():
        return first[2:].strip(), "\n".join(lines[1:])
    msg = f"{path} does not start with a plain interpreter line, as installers write it"
    raise VerificationFailed(msg)


def _check_interpreter(path: Path, interpreter: str, python: Path) -> None:
    """The interpreter must be this environment's: same folder, a python name, same binary."""
    named = Path(interpreter)
    same_env = (named.is_absolute()
                and Path(os.path.abspath(named.parent)) == Path(os.path.abspath(python.parent))
                and _PYTHON_NAME.fullmatch(named.name) is not None
                and os.path.realpath(named) == os.path.realpath(python))
    if not same_env:
        msg = (f"{path} runs {interpreter}, not this environment's interpreter {python}; "
               "so it would not run the verified installation")
        raise VerificationFailed(msg)


def _is_launcher(body: str, target: str) -> bool:
    module, _, attr = target.partition(":")
    if not module or not attr:
        return False
    name = attr.split(".")[0]
    try:
        found = ast.dump(ast.parse(body))
    except SyntaxError:
        return False
    return any(found == ast.dump(ast.parse(template.format(module=module, name=name, call=attr)))
               for template in _TEMPLATES)
