"""Secrets the sources need: from $CREDENTIALS_DIRECTORY under systemd, else the state dir."""

from __future__ import annotations

import os
from pathlib import Path

from waitbus.paths import StatePaths

GITHUB_WEBHOOK_SECRET = "github-webhook"
ALERTMANAGER_TOKEN = "alertmanager-token"


def read_secret(name: str, paths: StatePaths) -> bytes | None:
    """The secret `name` without a trailing newline, or None when none is configured."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    candidates = [Path(credentials) / name] if credentials else []
    candidates.append(paths.secrets / name)
    for path in candidates:
        try:
            value = path.read_bytes().rstrip(b"\r\n")
        except FileNotFoundError:
            continue
        if value:
            return value
    return None
