"""`waitbus mcp install CLIENT`: register `waitbus mcp` with a client, with the timeout it needs.

Through the client's own CLI where it has one (Claude Code, Codex CLI, Gemini CLI), else the
file its documentation names (Cursor, VS Code). Formats as of the versions in
.ci/agent-clients/package.json; Cursor and VS Code from their MCP documentation.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.event import JSONObject
from waitbus.integrations import clients, files
from waitbus.integrations.clients import Scope
from waitbus.integrations.files import Change

NAME = "waitbus"
CLIENTS = ("claude", "codex", "gemini", "cursor", "vscode")
# Above the longest `wait` the server allows (270 s), so the client never cancels one itself.
TOOL_TIMEOUT_S = 300
CLI_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Setup:
    """What installing makes happen: client commands to run, then files to write."""

    client: str
    commands: tuple[tuple[str, ...], ...]
    changes: tuple[Change, ...]
    after: Callable[[], Change | None] | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        lines = [f"run: {shlex.join(command)}" for command in self.commands]
        lines += [change.diff() for change in self.changes]
        return "\n".join(lines)


def plan(client: str, scope: Scope, server: list[str], env: dict[str, str],
         cwd: Path | None = None) -> Setup:
    """The steps that register `server` (argv of `waitbus mcp`) with `client` at `scope`."""
    if client == "claude":
        return _claude(scope, server, env)
    if client == "codex":
        return _codex(scope, server, env, cwd)
    if client == "gemini":
        return _gemini(scope, server, env)
    if client == "cursor":
        folder = clients.project_root(cwd) if scope is Scope.PROJECT else Path.home()
        entry: JSONObject = {"command": server[0], "args": list(server[1:]), "env": dict(env)}
        return Setup(client, (), (_json_entry(folder / ".cursor" / "mcp.json", "mcpServers",
                                              entry),),
                     notes=("Cursor has no per-server tool timeout: keep `wait` calls at the "
                            "default timeout and call again with the cursor",))
    if client == "vscode":
        path = (clients.project_root(cwd) / ".vscode" / "mcp.json" if scope is Scope.PROJECT
                else vscode_user_dir() / "mcp.json")
        entry = {"type": "stdio", "command": server[0], "args": list(server[1:]),
                 "env": dict(env)}
        return Setup(client, (), (_json_entry(path, "servers", entry),))
    msg = f"unknown client {client!r}; choose one of {', '.join(CLIENTS)}"
    raise UsageError(msg)


def apply(setup: Setup, run: Callable[[list[str]], subprocess.CompletedProcess[str]]) -> None:
    """Run each client command (stopping at the first failure), then write the files."""
    for command in setup.commands:
        result = run(list(command))
        if result.returncode != 0 and command[1:3] != ("mcp", "remove"):
            detail = (result.stderr or result.stdout).strip().splitlines()
            msg = (f"`{shlex.join(command)}` failed (exit {result.returncode}): "
                   f"{detail[-1] if detail else 'no output'}")
            raise UsageError(msg)
    for change in setup.changes:
        files.write(change)
    last = None if setup.after is None else setup.after()
    if last is not None and last.before != last.after:
        files.write(last)


def run_client(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        msg = (f"{argv[0]} is not on PATH; install the client first, or add the server by hand "
               "as docs/AGENTS-INTEGRATION.md shows")
        raise UsageError(msg) from None
    except subprocess.TimeoutExpired:
        msg = f"`{shlex.join(argv)}` did not finish in {CLI_TIMEOUT_S:.0f} s"
        raise UsageError(msg) from None


def _claude(scope: Scope, server: list[str], env: dict[str, str]) -> Setup:
    flags = [f"--env={key}={value}" for key, value in env.items()]
    return Setup("claude", (
        ("claude", "mcp", "remove", "--scope", scope.value, NAME),
        ("claude", "mcp", "add", "--scope", scope.value, *flags, NAME, "--", *server),
    ), (), notes=("Claude Code has no per-server timeout; its MCP_TOOL_TIMEOUT (ms) applies to "
                  "every server and its default is far above a `wait`",))


def _gemini(scope: Scope, server: list[str], env: dict[str, str]) -> Setup:
    flags = [f"--env={key}={value}" for key, value in env.items()]
    return Setup("gemini", (
        ("gemini", "mcp", "remove", "--scope", scope.value, NAME),
        ("gemini", "mcp", "add", "--scope", scope.value, f"--timeout={TOOL_TIMEOUT_S * 1000}",
         *flags, NAME, *server),
    ), ())


def _codex(scope: Scope, server: list[str], env: dict[str, str], cwd: Path | None) -> Setup:
    config = clients.config_dir("codex", scope, cwd) / "config.toml"
    if scope is Scope.PROJECT:
        # `codex mcp add` writes only the user's config; a project's is written here.
        before = files.read_text(config)
        doc = files.load_toml(config, before)
        servers = doc.get("mcp_servers")
        if isinstance(servers, dict) and NAME in servers:
            return Setup("codex", (), (), after=lambda: _codex_timeout(config))
        table = _codex_table(server, env)
        after = f"{before.rstrip()}\n\n{table}" if before and before.strip() else table
        files.load_toml(config, after)
        return Setup("codex", (), (Change(config, before, after),))
    flags = [f"--env={key}={value}" for key, value in env.items()]
    return Setup("codex", (
        ("codex", "mcp", "remove", NAME),
        ("codex", "mcp", "add", *flags, NAME, "--", *server),
    ), (), after=lambda: _codex_timeout(config),
        notes=(f"then tool_timeout_sec = {TOOL_TIMEOUT_S} in [mcp_servers.{NAME}] of {config}",))


def _codex_table(server: list[str], env: dict[str, str]) -> str:
    lines = [f"[mcp_servers.{NAME}]", f"command = {files.toml_array([server[0]])[1:-1]}",
             f"args = {files.toml_array(server[1:])}", f"tool_timeout_sec = {TOOL_TIMEOUT_S}"]
    if env:
        pairs = ", ".join(f"{key} = {files.toml_array([value])[1:-1]}"
                          for key, value in env.items())
        lines.append(f"env = {{ {pairs} }}")
    return "\n".join(lines) + "\n"


def _codex_timeout(config: Path) -> Change | None:
    """Set tool_timeout_sec in the table `codex mcp add` wrote (unless one is set already)."""
    before = files.read_text(config)
    if before is None:
        return None
    servers = files.load_toml(config, before).get("mcp_servers")
    table = servers.get(NAME) if isinstance(servers, dict) else None
    if not isinstance(table, dict) or "tool_timeout_sec" in table:
        return None
    header = re.compile(rf"^\[mcp_servers\.{NAME}\]\s*$", re.MULTILINE)
    found = header.search(before)
    if found is None:
        return None
    after = (f"{before[:found.end()]}\ntool_timeout_sec = {TOOL_TIMEOUT_S}"
             f"{before[found.end():]}")
    files.load_toml(config, after)
    return Change(config, before, after)


def _json_entry(path: Path, key: str, entry: JSONObject) -> Change:
    before = files.read_text(path)
    doc = files.load_json(path, before)
    servers = doc.setdefault(key, {})
    if not isinstance(servers, dict):
        msg = f"{path}: {key!r} is not an object; fix it, then run this again"
        raise UsageError(msg)
    servers[NAME] = entry
    return Change(path, before, files.dump_json(doc))


def vscode_user_dir() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Code" / "User"
    return Path.home() / ".config" / "Code" / "User"
