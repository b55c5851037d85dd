"""The real agent clients the tests drive, from .agent-clients/ (see .ci/agent-clients/)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".agent-clients" / "node_modules" / ".bin"
INSTALL = "bash .ci/agent-clients/install.sh"


def client(name: str) -> Path:
    """The path of client `name` (claude, codex, gemini, mcp-inspector, node); fails if absent."""
    path = BIN / name
    if not os.access(path, os.X_OK):
        msg = f"{name} is not installed at {path}; install the pinned clients with `{INSTALL}`"
        raise AssertionError(msg)
    return path


def env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for a client: HOME in a temporary folder, the pinned Node.js first."""
    client("node")
    return {**os.environ, "HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "NO_COLOR": "1", **extra}
