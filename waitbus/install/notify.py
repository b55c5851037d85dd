"""Tell systemd the daemon is ready (Type=notify), without libsystemd."""

from __future__ import annotations

import os
import socket


def notify_ready() -> bool:
    """Send READY=1 to $NOTIFY_SOCKET when systemd started us; False when it did not."""
    target = os.environ.get("NOTIFY_SOCKET")
    if not target:
        return False
    address = "\0" + target[1:] if target.startswith("@") else target
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"READY=1", address)
    return True
