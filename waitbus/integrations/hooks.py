"""`waitbus hooks`: add waitbus to a client's own hooks, and take out exactly what was added.

What was added is kept in a manifest in the state directory (install/hooks-CLIENT.json), per
file: the matcher groups put under each hook event, and for Codex the `notify` line.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.event import JSON, JSONObject
from waitbus.install.manifest import manifest_path
from waitbus.integrations import clients, files
from waitbus.integrations.clients import Scope
from waitbus.integrations.files import Change
from waitbus.paths import StatePaths

CODEX_TRUST_NOTE = ("Codex runs a new or changed hook only once you trust it: start `codex` "
                    "and open /hooks (its notify program needs no trust)")


@dataclass(frozen=True, slots=True)
class Plan:
    """The file changes an install or uninstall makes, and what the manifest keeps after it."""

    client: str
    changes: tuple[Change, ...]
    record: JSONObject
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScopeStatus:
    scope: Scope
    path: Path
    present: tuple[str, ...]
    missing: tuple[str, ...]
    command_ok: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def installed(self) -> bool:
        return bool(self.present) and not self.missing and self.command_ok


def waitbus_executable() -> str:
    """The `waitbus` beside this interpreter (a venv's or pipx's), else the one on PATH."""
    beside = Path(sys.executable).with_name("waitbus")
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("waitbus")
    if found is None:
        msg = "no `waitbus` executable found beside this Python or on PATH; install waitbus first"
        raise UsageError(msg)
    return str(Path(found).resolve())


def hook_argv(client: str, state_dir: Path | None) -> list[str]:
    state = [] if state_dir is None else ["--state-dir", str(state_dir)]
    return [waitbus_executable(), *state, "hook-event", client]


def plan_install(paths: StatePaths, client: str, scope: Scope, argv: list[str],
                 cwd: Path | None = None) -> Plan:
    """Add each hook of `client` that is not there yet; the user's own are kept as they are."""
    record = _load_manifest(paths, client)
    path = clients.hooks_file(client, scope, cwd)
    before = files.read_text(path)
    doc = files.load_json(path, before)
    hooks = _hooks_table(path, doc)
    kept = _file_record(record, path, created=before is None)
    command = shlex.join(argv)
    for hook in clients.HOOKS[client]:
        group = clients.entry(client, hook, command)
        groups = hooks.setdefault(hook.event, [])
        if not isinstance(groups, list):
            msg = f"{path}: hooks.{hook.event} is not a list; fix it, then run this again"
            raise UsageError(msg)
        if group not in groups:
            groups.append(group)
        pair: JSON = [hook.event, group]
        if pair not in _list(kept, "hooks"):
            _list(kept, "hooks").append(pair)
    changes = [Change(path, before, files.dump_json(doc))]
    notes: list[str] = []
    if client == "codex":
        changes.append(_codex_notify(path.with_name("config.toml"), argv, record, notes))
        notes.append(CODEX_TRUST_NOTE)
    real = tuple(change for change in changes if change.before != change.after)
    return Plan(client, real, record, tuple(notes))


def plan_uninstall(paths: StatePaths, client: str, scope: Scope,
                   cwd: Path | None = None) -> Plan:
    """Remove what the manifest says was added to this scope's files, and nothing else."""
    record = _load_manifest(paths, client)
    path = clients.hooks_file(client, scope, cwd)
    targets = [path, path.with_name("config.toml")] if client == "codex" else [path]
    tracked = _dict(record, "files")
    if not any(str(target) in tracked for target in targets):
        msg = f"nothing to uninstall: waitbus added no {client} hooks to {path}"
        raise UsageError(msg)
    changes = []
    for target in targets:
        kept = tracked.pop(str(target), None)
        if not isinstance(kept, dict):
            continue
        before = files.read_text(target)
        if before is None:
            continue
        after = (_without_lines(before, kept) if target.suffix == ".toml"
                 else _without_groups(target, before, kept))
        changes.append(Change(target, before, after))
    real = tuple(change for change in changes if change.before != change.after)
    return Plan(client, real, record)


def apply(paths: StatePaths, plan: Plan) -> None:
    """Write each changed file, then the manifest (removed once it records nothing)."""
    for change in plan.changes:
        files.write(change)
    manifest = manifest_path(paths, f"hooks-{plan.client}")
    if _dict(plan.record, "files"):
        files.write(Change(manifest, None, files.dump_json(plan.record)))
        manifest.chmod(0o600)
    else:
        manifest.unlink(missing_ok=True)


def status(client: str, cwd: Path | None = None) -> list[ScopeStatus]:
    """For each scope: which of waitbus's hooks are in the client's file, and whether they run."""
    found = []
    for scope in Scope:
        path = clients.hooks_file(client, scope, cwd)
        doc = files.load_json(path, files.read_text(path))
        table = doc.get("hooks")
        hooks = table if isinstance(table, dict) else {}
        marker = f"hook-event {client}"
        present: list[str] = []
        missing: list[str] = []
        runnable = True
        for hook in clients.HOOKS[client]:
            commands = _commands(hooks.get(hook.event), marker)
            (present if commands else missing).append(hook.event)
            runnable = runnable and all(_runnable(command) for command in commands)
        notes = (CODEX_TRUST_NOTE,) if client == "codex" and present else ()
        found.append(ScopeStatus(scope, path, tuple(present), tuple(missing), runnable, notes))
    return found


def _codex_notify(config: Path, argv: list[str], record: JSONObject,
                  notes: list[str]) -> Change:
    before = files.read_text(config)
    current = files.load_toml(config, before).get("notify")
    if current == argv:
        return Change(config, before, before)
    if current is not None:
        notes.append(f"{config} already sets notify = {current!r}: left as it is (a program "
                     "may be given once); the hooks report finished turns too")
        return Change(config, before, before)
    line = f"notify = {files.toml_array(argv)}"
    after = f"{line}\n{before or ''}"
    files.load_toml(config, after)  # a top-level key before every table is always valid TOML
    kept = _file_record(record, config, created=before is None)
    _list(kept, "lines").append(line)
    return Change(config, before, after)


def _without_groups(path: Path, before: str, kept: JSONObject) -> str | None:
    doc = files.load_json(path, before)
    hooks = _hooks_table(path, doc)
    for pair in _list(kept, "hooks"):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            continue
        groups = hooks.get(pair[0])
        if isinstance(groups, list) and pair[1] in groups:
            groups.remove(pair[1])
            if not groups:
                del hooks[pair[0]]
    if not hooks:
        doc.pop("hooks", None)
    return None if not doc and kept.get("created") is True else files.dump_json(doc)


def _without_lines(before: str, kept: JSONObject) -> str | None:
    lines = before.splitlines(keepends=True)
    for line in _list(kept, "lines"):
        for index, current in enumerate(lines):
            if current.rstrip("\r\n") == line:
                del lines[index]
                break
    after = "".join(lines)
    return None if not after.strip() and kept.get("created") is True else after


def _hooks_table(path: Path, doc: JSONObject) -> JSONObject:
    hooks = doc.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        msg = f"{path}: \"hooks\" is not an object; fix it, then run this again"
        raise UsageError(msg)
    return hooks


def _commands(groups: JSON, marker: str) -> list[str]:
    found = []
    for group in groups if isinstance(groups, list) else []:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        for handler in handlers if isinstance(handlers, list) else []:
            command = handler.get("command") if isinstance(handler, dict) else None
            if isinstance(command, str) and marker in command:
                found.append(command)
    return found


def _runnable(command: str) -> bool:
    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        return False
    return os.access(program, os.X_OK) or shutil.which(program) is not None


def _load_manifest(paths: StatePaths, client: str) -> JSONObject:
    path = manifest_path(paths, f"hooks-{client}")
    text = files.read_text(path)
    if text is None:
        return {"kind": f"hooks-{client}", "files": {}}
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        msg = f"hook manifest {path} is unreadable; remove it and the waitbus hooks by hand"
        raise UsageError(msg)
    return doc


def _file_record(record: JSONObject, path: Path, *, created: bool) -> JSONObject:
    tracked = _dict(record, "files")
    kept = tracked.setdefault(str(path), {"created": created, "hooks": [], "lines": []})
    if not isinstance(kept, dict):
        kept = tracked[str(path)] = {"created": created, "hooks": [], "lines": []}
    return kept


def _dict(doc: JSONObject, key: str) -> JSONObject:
    value = doc.setdefault(key, {})
    if not isinstance(value, dict):
        value = doc[key] = {}
    return value


def _list(doc: JSONObject, key: str) -> list[JSON]:
    value = doc.setdefault(key, [])
    if not isinstance(value, list):
        value = doc[key] = []
    return value
