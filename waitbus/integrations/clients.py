"""Where each agent client keeps its settings, and the hooks waitbus adds to them.

Formats read from the clients themselves (`claude doctor`, the Codex and Gemini CLI bundles)
at the versions pinned in .ci/agent-clients/package.json: Claude Code 2.1.332, Codex CLI
0.171.0, Gemini CLI 0.61.0.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from waitbus.event import JSONObject
from waitbus.integrations import repo


class Scope(enum.Enum):
    USER = "user"
    PROJECT = "project"


@dataclass(frozen=True, slots=True)
class Hook:
    """One hook waitbus adds: the client's event name and, where it filters, a matcher."""

    event: str
    matcher: str | None = None


# Seconds for Claude Code and Codex, ms for Gemini: a bound the hook never comes near even on
# a loaded machine; Codex allows a SessionEnd hook 3 s (it clamps a longer one, with a warning).
HOOK_TIMEOUT_S = 10
CODEX_SESSION_END_TIMEOUT_S = 3

HOOKS: dict[str, tuple[Hook, ...]] = {
    "claude": (
        Hook("SessionStart"), Hook("Stop"), Hook("StopFailure"),
        Hook("Notification", "permission_prompt|idle_prompt|elicitation_dialog"),
        Hook("SubagentStop"), Hook("SessionEnd"),
    ),
    "codex": (
        Hook("SessionStart"), Hook("Stop"), Hook("PermissionRequest"), Hook("SubagentStop"),
        Hook("SessionEnd"),
    ),
    "gemini": (
        Hook("SessionStart"), Hook("AfterAgent"), Hook("Notification"), Hook("SessionEnd"),
    ),
}


def project_root(cwd: Path | None = None) -> Path:
    """The repository holding the working directory, else the directory itself."""
    here = (cwd or Path.cwd()).resolve()
    top = repo.top_level(str(here))
    return Path(top) if top is not None else here


def config_dir(client: str, scope: Scope, cwd: Path | None = None) -> Path:
    """The folder holding `client`'s settings for `scope` (its own env overrides respected)."""
    if scope is Scope.PROJECT:
        return project_root(cwd) / f".{client}"
    home = Path.home()
    if client == "claude":
        return Path(os.environ.get("CLAUDE_CONFIG_DIR") or home / ".claude")
    if client == "codex":
        return Path(os.environ.get("CODEX_HOME") or home / ".codex")
    if client == "gemini":
        return Path(os.environ.get("GEMINI_CLI_HOME") or home) / ".gemini"
    msg = f"no settings folder is known for {client}"
    raise ValueError(msg)


def hooks_file(client: str, scope: Scope, cwd: Path | None = None) -> Path:
    name = "hooks.json" if client == "codex" else "settings.json"
    return config_dir(client, scope, cwd) / name


def entry(client: str, hook: Hook, command: str) -> JSONObject:
    """The matcher group waitbus adds under `hook.event`."""
    handler: JSONObject = {"type": "command", "command": command}
    if client == "gemini":
        handler = {"name": "waitbus", **handler, "timeout": HOOK_TIMEOUT_S * 1000}
    elif client == "codex" and hook.event == "SessionEnd":
        handler["timeout"] = CODEX_SESSION_END_TIMEOUT_S
    else:
        handler["timeout"] = HOOK_TIMEOUT_S
    group: JSONObject = {} if hook.matcher is None else {"matcher": hook.matcher}
    group["hooks"] = [handler]
    return group
