"""Render the systemd unit and the launchd plist from the templates in packaging/."""

from __future__ import annotations

import logging
import os
import plistlib
import re
import sys
import sysconfig
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.paths import StatePaths
from waitbus.secrets import ENCRYPTED_SUFFIX, is_secret_name

log = logging.getLogger(__name__)

SYSTEMD_UNIT = "waitbus.service"
BRIDGE_UNIT = "waitbus-bridge.service"
LAUNCHD_LABEL = "io.github.waitbus.waitbus"
LAUNCHD_PLIST = f"{LAUNCHD_LABEL}.plist"
# Paths PrivateTmp= replaces with a private mount; only compared against, never written.
SHARED_TMP = (Path("/tmp"), Path("/var/tmp"))  # noqa: S108
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")
# Characters that would need systemd quoting in a path-list setting; such paths are refused.
_UNSAFE_PATH = re.compile(r"[\s\"'\\%$;]")


@dataclass(frozen=True, slots=True)
class Planned:
    """One file an install command would write."""

    path: Path
    content: bytes


def waitbus_command() -> list[str]:
    """The argv that runs this installed waitbus: its console script, else `python -m waitbus`."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "waitbus" and argv0.is_file():
        return [os.path.abspath(argv0)]
    # The script beside this interpreter belongs to this installation; one found on PATH may not.
    script = Path(sys.executable).parent / "waitbus"
    if script.is_file():
        return [os.path.abspath(script)]
    # abspath, not resolve: a venv's python is a symlink whose target would lose the venv.
    return [os.path.abspath(sys.executable), "-m", "waitbus"]


def command_scripts(command: list[str]) -> tuple[Path, ...]:
    """The console script a unit running `command` executes (none for `python -m waitbus`)."""
    return () if command[1:2] == ["-m"] else (Path(command[0]),)


def systemd_unit(unit_dir: Path, paths: StatePaths, command: list[str]) -> Planned:
    """The user service for `paths`, with one credential line per stored secret."""
    text = _fill(_template("systemd/" + SYSTEMD_UNIT), _systemd_fields(paths, command, ["serve"]))
    return Planned(unit_dir / SYSTEMD_UNIT, text.encode())


def bridge_unit(unit_dir: Path, paths: StatePaths, command: list[str],
                bridge_args: list[str]) -> Planned:
    """The user service running `waitbus bridge nats BRIDGE_ARGS` beside the daemon's."""
    fields = _systemd_fields(paths, command, ["bridge", "nats", *bridge_args])
    text = _fill(_template("systemd/" + BRIDGE_UNIT), fields)
    return Planned(unit_dir / BRIDGE_UNIT, text.encode())


def _systemd_fields(paths: StatePaths, command: list[str], args: list[str]) -> dict[str, str]:
    """The template fields of a unit running `command --state-dir STATE ARGS`."""
    state = _safe_path(paths.root)
    in_tmp = any(state.is_relative_to(t) for t in SHARED_TMP)
    return {
        "EXEC_START": " ".join(_systemd_quote(a) for a in
                               [*command, "--state-dir", str(state), *args]),
        "STATE_DIR": str(state),
        # A private /tmp would hide a state directory under /tmp from every client.
        "PRIVATE_TMP": "PrivateTmp=no" if in_tmp else "PrivateTmp=yes",
        "MEMORY_DENY_WRITE_EXECUTE": ("MemoryDenyWriteExecute=no" if _interpreter_jits()
                                      else "MemoryDenyWriteExecute=yes"),
        "CREDENTIALS": "\n".join(credential_lines(paths)),
    }


def launchd_plist(agent_dir: Path, paths: StatePaths, command: list[str]) -> Planned:
    """The LaunchAgent for `paths`."""
    raw = _template("launchd/" + LAUNCHD_PLIST).replace("@STATE_DIR@", str(paths.root))
    plist = plistlib.loads(raw.encode())
    plist["ProgramArguments"] = [*command, "--state-dir", str(paths.root), "serve"]
    return Planned(agent_dir / LAUNCHD_PLIST, plistlib.dumps(plist, sort_keys=False))


def credential_lines(paths: StatePaths) -> list[str]:
    """LoadCredentialEncrypted= for NAME.cred files, LoadCredential= for plain 0600 files."""
    if not paths.secrets.is_dir():
        return []
    lines = []
    for item in sorted(paths.secrets.iterdir()):
        encrypted = item.name.endswith(ENCRYPTED_SUFFIX)
        name = item.name.removesuffix(ENCRYPTED_SUFFIX)
        if not is_secret_name(name) or not item.is_file():
            # An editor's backup (NAME~), an interrupted `secret set` (.NAME.PID.tmp): not a
            # secret, and no reason to refuse the install.
            log.warning("ignoring %s: not a secret `waitbus secret set` stores", item)
            continue
        setting = "LoadCredentialEncrypted" if encrypted else "LoadCredential"
        lines.append(f"{setting}={name}:{_safe_path(item)}")
    return lines


def default_systemd_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "systemd" / "user"


def default_launchd_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def _template(relative: str) -> str:
    """The template shipped in the wheel, or packaging/ in a source checkout."""
    shipped = resources.files("waitbus.install").joinpath("templates", *relative.split("/"))
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "packaging" / relative
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    msg = f"unit template {relative} is missing from this installation; reinstall waitbus"
    raise UsageError(msg)


def _fill(template: str, fields: dict[str, str]) -> str:
    text = template
    for key, value in fields.items():
        text = text.replace(f"@{key}@", value)
    left = _PLACEHOLDER.search(text)
    if left:
        msg = f"unit template has an unfilled field {left.group(0)}; reinstall waitbus"
        raise UsageError(msg)
    return text


def _safe_path(path: Path) -> Path:
    absolute = Path(os.path.abspath(path))
    if _UNSAFE_PATH.search(str(absolute)):
        msg = (f"{absolute} contains spaces, quotes or other characters a systemd unit would "
               "have to escape; choose a state directory without them (--state-dir)")
        raise UsageError(msg)
    return absolute


def _systemd_quote(arg: str) -> str:
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _interpreter_jits() -> bool:
    """CPython's experimental JIT writes machine code at run time, which W^X would kill."""
    jit = getattr(sys, "_jit", None)
    if jit is not None and getattr(jit, "is_enabled", lambda: False)():
        return True
    return "--enable-experimental-jit" in str(sysconfig.get_config_var("CONFIG_ARGS") or "")
