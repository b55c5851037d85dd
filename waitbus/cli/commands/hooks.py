"""`waitbus hooks install|uninstall|status CLIENT`: agent lifecycle events from a client's hooks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    from waitbus.integrations.hooks import ScopeStatus

CLIENTS = ("claude", "codex", "gemini")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "hooks",
        description="Add `waitbus hook-event CLIENT` to the client's own hooks (Claude Code and "
        "Gemini CLI settings.json, Codex CLI hooks.json and notify), so that each session "
        "emits agent/started, stopped, needs_input, failed, subagent_stopped and ended events "
        "with fields.session, fields.cwd and fields.repo (owner/name). A peer then waits with "
        "`waitbus wait --source agent --match 'type=\"stopped\"' --match "
        "'fields.repo=\"owner/name\"'`. Your own settings and hooks are kept; uninstall removes "
        "exactly what install added.")
    p.add_argument("action", choices=("install", "uninstall", "status"))
    p.add_argument("client", choices=CLIENTS)
    p.add_argument("--scope", choices=("user", "project"), default="user",
                   help="user settings (default) or the current repository's")
    p.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
    p.add_argument("--json", action="store_true", help="status as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.integrations import hooks
    from waitbus.integrations.clients import Scope

    paths = paths_from(args)
    if args.action == "status":
        return _status(hooks.status(args.client), as_json=args.json)
    scope = Scope(args.scope)
    if args.action == "install":
        state_dir = None if args.state_dir is None else Path(args.state_dir).resolve()
        plan = hooks.plan_install(paths, args.client, scope, hooks.hook_argv(args.client,
                                                                           state_dir))
    else:
        plan = hooks.plan_uninstall(paths, args.client, scope)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.dry_run:
        for change in plan.changes:
            print(change.diff(), end="")
        if not plan.changes:
            print(f"{args.client} hooks: nothing to change")
        return 0
    paths.ensure()
    hooks.apply(paths, plan)
    verb = "installed in" if args.action == "install" else "removed from"
    for change in plan.changes:
        print(f"{args.client} hooks {verb} {change.path}")
    if not plan.changes:
        print(f"{args.client} hooks: already {'in place' if args.action == 'install' else 'gone'}")
    return 0


def _status(found: list[ScopeStatus], *, as_json: bool) -> int:
    if as_json:
        print(json.dumps([{"scope": item.scope.value, "path": str(item.path),
                           "installed": item.installed, "present": list(item.present),
                           "missing": list(item.missing), "command_ok": item.command_ok,
                           "notes": list(item.notes)} for item in found]))
        return 0
    for item in found:
        if not item.present:
            state = "not installed"
        elif not item.command_ok:
            state = "installed, but its waitbus command is missing: run `hooks install` again"
        elif item.missing:
            state = f"partly installed (missing {', '.join(item.missing)}): run `hooks install`"
        else:
            state = f"installed ({', '.join(item.present)})"
        print(f"{item.scope.value:<8} {item.path}: {state}")
        for note in item.notes:
            print(f"         note: {note}")
    return 0
