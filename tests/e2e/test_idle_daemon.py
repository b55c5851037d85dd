"""An idle daemon with its webhook listener on maps no OpenSSL: HMAC and h11 load with use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sources.webhook_client import SECRET, deliver, fixture, listening_daemon, write_secret
from waitbus.secrets import GITHUB_WEBHOOK

# OpenSSL and the extension modules that load it (ssl through asyncio, hmac/hashlib).
OPENSSL = ("libssl", "libcrypto", "/_ssl.", "/_hashlib.")


def _openssl_mapped(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in OPENSSL if name in maps}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps (Linux)")
def test_an_idle_daemon_maps_no_openssl_until_a_signed_delivery_arrives(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    with listening_daemon(state_dir) as (url, proc):
        assert _openssl_mapped(proc.pid) == set()
        answer = deliver(url, "ping", "idle-1", fixture("ping"))
        assert answer.status == 200, answer
        # The signature check loaded hmac, and with it libcrypto: the probe sees a real load.
        assert "libcrypto" in _openssl_mapped(proc.pid)
        assert "libssl" not in _openssl_mapped(proc.pid)  # TLS itself stays out
