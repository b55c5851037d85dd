"""The pinned trust root: a poisoned sigstore cache or trust root under $HOME changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from tests.install.attestations import RFC, RFC_WHEEL, fixture_path, override_args
from waitbus.demo import processes
from waitbus.install.trust import TRUSTED_ROOT_SHA256, pinned_verifier

PRODUCTION = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
STAGING = "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
# sigstore-python's TUF directories (platformdirs names) and the shorter names people expect.
CACHE_DIRS = (".local/share/sigstore-python/tuf", ".cache/sigstore-python/tuf",
              ".local/share/sigstore", ".cache/sigstore")
# Accepting the staging-signed fixture proves an unpinned verifier really reads the poison.
UNPINNED_CHECK = """
import sys
from pathlib import Path
from pypi_attestations import Attestation
from sigstore.verify import Verifier, policy
attestation = Attestation.model_validate_json(Path(sys.argv[1]).read_bytes())
Verifier.production(offline=True).verify_dsse(attestation.to_bundle(), policy.UnsafeNoOp())
print("accepted")
"""


def _poisoned_home(tmp_path: Path, kind: str) -> dict[str, str]:
    """An environment whose $HOME holds an attacker's trust root (staging as production)."""
    home = tmp_path / "home"
    staging = resources.files("sigstore").joinpath("_store", STAGING)
    for base in CACHE_DIRS:
        target = home / base / PRODUCTION
        target.mkdir(parents=True)
        for name in ("trusted_root.json", "root.json", "signing_config.v0.2.json"):
            content = (staging / name).read_bytes() if kind == "attacker" else b"\x00garbage{"
            (target / name).write_bytes(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    return {**env, "HOME": str(home), "PYTHONUNBUFFERED": "1"}


def _verify(state_dir: Path, env: dict[str, str],
            attestation: str) -> subprocess.CompletedProcess[str]:
    argv = processes.waitbus_argv(state_dir, "verify", "--file-only",
                                  "--dist", str(fixture_path(RFC_WHEEL)),
                                  "--attestation", str(fixture_path(attestation)),
                                  *override_args(RFC))
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_attacker_root_really_fools_an_unpinned_verifier(tmp_path: Path) -> None:
    env = _poisoned_home(tmp_path, "attacker")
    done = subprocess.run([sys.executable, "-c", UNPINNED_CHECK,
                           str(fixture_path(RFC_WHEEL + ".publish.attestation"))],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "accepted", done.stderr


@pytest.mark.parametrize("kind", ["attacker", "garbage"])
def test_poisoned_home_neither_admits_staging_nor_breaks_a_genuine_release(
        tmp_path: Path, state_dir: Path, kind: str) -> None:
    env = _poisoned_home(tmp_path, kind)
    staged = _verify(state_dir, env, RFC_WHEEL + ".publish.attestation")
    assert staged.returncode == 77  # refused as unsafe
    assert "not signed under the pinned Sigstore production root" in staged.stderr
    genuine = _verify(state_dir, env, RFC_WHEEL + ".sigstore.json")
    assert genuine.returncode == 0, genuine.stderr
    assert "verified rfc8785-0.1.2-py3-none-any.whl" in genuine.stdout


def test_the_pinned_root_is_the_one_inside_the_sigstore_wheel() -> None:
    import hashlib

    shipped = resources.files("sigstore").joinpath("_store", PRODUCTION, "trusted_root.json")
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == TRUSTED_ROOT_SHA256
    assert pinned_verifier() is not None
