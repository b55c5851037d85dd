"""`waitbus doctor`: check the set-up an agent relies on, each failure with what to do."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import select
import socket
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from waitbus.errors import WaitbusError
from waitbus.event import JSONObject
from waitbus.integrations import clients, hooks
from waitbus.integrations.clients import Scope
from waitbus.integrations.mcp_setup import vscode_user_dir
from waitbus.paths import StatePaths

INITIALIZE_BUDGET_S = 1.0
PROBE_TIMEOUT_S = 30.0
WEBHOOK_PORT = 9000
PROTOCOL_VERSION = "2025-11-25"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked, whether it is fine, and the fix if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(paths: StatePaths, cwd: Path | None = None) -> list[Check]:
    daemon = _daemon(paths)
    sources = daemon[1]
    found = [daemon[0], _state_dir(paths), *_extras(), *_servers(cwd), *_hooks(cwd),
             _webhook(sources), *_bridges(paths)]
    if "docker" in sources:
        found.append(_docker())
    return found


def _daemon(paths: StatePaths) -> tuple[Check, dict[str, object]]:
    from waitbus.consumers.status import status

    try:
        info = asyncio.run(status(paths, reconnect_s=0.0))
    except WaitbusError as exc:
        return Check("daemon", ok=False, detail=str(exc),
                     fix="start it: `waitbus serve`, or `waitbus install-systemd` once"), {}
    running: dict[str, object] = dict(info.sources)
    return (Check("daemon", ok=True, detail=f"pid {info.pid} answers at {paths.socket}"),
            running)


def _state_dir(paths: StatePaths) -> Check:
    problems = []
    for path, mode in ((paths.root, 0o700), (paths.socket, 0o600), (paths.store, 0o600)):
        try:
            info = path.stat()
        except FileNotFoundError:
            if path == paths.root:
                problems.append(f"{path} does not exist")
            continue
        if info.st_uid != os.getuid():
            problems.append(f"{path} belongs to uid {info.st_uid}")
        elif stat.S_IMODE(info.st_mode) & ~mode:
            problems.append(f"{path} is mode {stat.S_IMODE(info.st_mode):o}, not {mode:o}")
    if problems:
        return Check("state directory", ok=False, detail="; ".join(problems),
                     fix=f"run `waitbus init` as yourself, or `chmod go= {paths.root}`")
    return Check("state directory", ok=True, detail=f"{paths.root} is yours and private")


def _extras() -> list[Check]:
    found = []
    for extra, module in (("mcp", "mcp"), ("verify", "sigstore")):
        ok = importlib.util.find_spec(module) is not None
        found.append(Check(f"extra {extra}", ok=ok,
                           detail="installed" if ok else f"{module} is not importable",
                           fix="" if ok else f"pip install 'waitbus[{extra}]'"))
    return found


def configured_servers(cwd: Path | None = None) -> Iterator[tuple[str, Path, JSONObject]]:
    """Each client configuration that names a waitbus MCP server: (client, file, entry)."""
    root = clients.project_root(cwd)
    home = Path.home()
    json_places = [
        ("claude", home / ".claude.json", "mcpServers"),
        ("claude", root / ".mcp.json", "mcpServers"),
        ("gemini", clients.config_dir("gemini", Scope.USER) / "settings.json", "mcpServers"),
        ("gemini", root / ".gemini" / "settings.json", "mcpServers"),
        ("cursor", home / ".cursor" / "mcp.json", "mcpServers"),
        ("cursor", root / ".cursor" / "mcp.json", "mcpServers"),
        ("vscode", vscode_user_dir() / "mcp.json", "servers"),
        ("vscode", root / ".vscode" / "mcp.json", "servers"),
    ]
    for client, path, key in json_places:
        entry = _json_entry(path, key)
        if entry is not None:
            yield client, path, entry
    for scope in Scope:
        path = clients.config_dir("codex", scope, cwd) / "config.toml"
        with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("mcp_servers", {})
            entry = table.get("waitbus") if isinstance(table, dict) else None
            if isinstance(entry, dict):
                yield "codex", path, entry


def _servers(cwd: Path | None) -> list[Check]:
    found = []
    for client, path, entry in configured_servers(cwd):
        name = f"{client} MCP server ({path})"
        command, args = entry.get("command"), entry.get("args", [])
        env = entry.get("env", {})
        if not isinstance(command, str) or not isinstance(args, list) \
                or not isinstance(env, dict):
            found.append(Check(name, ok=False, detail="its entry has no command",
                               fix=f"`waitbus mcp install {client}` writes a good one"))
            continue
        argv = [command, *(str(arg) for arg in args)]
        found.append(_probe(name, client, argv, {k: str(v) for k, v in env.items()}))
    return found


def _probe(name: str, client: str, argv: list[str], env: dict[str, str]) -> Check:
    fix = f"run `waitbus mcp install {client}` again (it writes this waitbus's path)"
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "waitbus-doctor", "version": "1"}}}
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env={**os.environ, **env})
    except OSError as exc:
        return Check(name, ok=False, detail=f"{argv[0]} does not start ({exc})", fix=fix)
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], PROBE_TIMEOUT_S)
        line = proc.stdout.readline() if ready else b""
    finally:
        proc.kill()
        proc.wait()
    elapsed_ms = (time.monotonic() - started) * 1000
    try:
        answer = json.loads(line)
        server = answer["result"]["serverInfo"]["name"]
    except (ValueError, KeyError, TypeError):
        return Check(name, ok=False, detail=f"{argv[0]} gave no initialize result", fix=fix)
    if elapsed_ms > INITIALIZE_BUDGET_S * 1000:
        return Check(name, ok=False, detail=f"{server} answered initialize in "
                     f"{elapsed_ms:.0f} ms, over {INITIALIZE_BUDGET_S:.0f} s",
                     fix="a loaded machine or a slow disk; clients time out a slow start")
    return Check(name, ok=True, detail=f"{server} answers initialize in {elapsed_ms:.0f} ms")


def _hooks(cwd: Path | None) -> list[Check]:
    found = []
    for client in ("claude", "codex", "gemini"):
        for item in hooks.status(client, cwd):
            if not item.present:
                continue
            ok = item.installed
            detail = (f"{', '.join(item.present)} in {item.path}" if ok else
                      f"missing {', '.join(item.missing) or 'nothing'}, command runs: "
                      f"{item.command_ok}")
            found.append(Check(f"{client} hooks ({item.scope.value})", ok=ok, detail=detail,
                               fix="" if ok else f"waitbus hooks install {client} --scope "
                               f"{item.scope.value}"))
    return found


def _webhook(sources: dict[str, object]) -> Check:
    if "webhook" in sources:
        return Check("webhook port", ok=True, detail="the daemon's webhook listener has it")
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", WEBHOOK_PORT))
        except OSError:
            return Check("webhook port", ok=False,
                         detail=f"127.0.0.1:{WEBHOOK_PORT} is taken by another program",
                         fix="start the daemon with `waitbus serve --listen-port PORT` "
                         "(or off)")
    return Check("webhook port", ok=True, detail=f"127.0.0.1:{WEBHOOK_PORT} is free")


def _bridges(paths: StatePaths) -> list[Check]:
    from waitbus.consumers import bridges

    try:
        found = bridges.read(paths)
    except WaitbusError as exc:
        return [Check("bridges", ok=False, detail=str(exc), fix="see `waitbus status`")]
    checks = []
    for bridge in found:
        if not bridge.running:
            fix = (f"start it again: `waitbus bridge nats --url {bridge.url}` (or its unit); "
                   "local events wait in the store until it exports them")
        elif not bridge.connected:
            fix = f"check that the NATS server at {bridge.url} runs and accepts this host"
        else:
            fix = ""
        checks.append(Check(f"bridge {bridge.name}", ok=not fix, detail=str(bridge), fix=fix))
    return checks


def _docker() -> Check:
    path = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(2.0)
            conn.connect(path)
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = conn.recv(64)
    except OSError as exc:
        return Check("docker", ok=False, detail=f"{path} does not answer ({exc})",
                     fix="start the Docker engine, or serve without --docker")
    ok = answer.startswith(b"HTTP/1.") and b" 200 " in answer
    return Check("docker", ok=ok, detail=f"{path} answers _ping" if ok else
                 f"{path} answered {answer[:20]!r}", fix="" if ok else "check the engine")


def _json_entry(path: Path, key: str) -> JSONObject | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    servers = doc.get(key) if isinstance(doc, dict) else None
    entry = servers.get("waitbus") if isinstance(servers, dict) else None
    return entry if isinstance(entry, dict) else None
