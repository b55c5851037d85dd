"""Is the Sigstore trusted root that waitbus pins still the one Sigstore publishes?

Compares the production trusted_root.json inside the locked sigstore wheel (pinned by sha256 in
waitbus/install/trust.py) with the one Sigstore's TUF repository serves now, fetched through
sigstore-python's TUF client (its metadata checked from the root.json shipped in the wheel) into
an empty temporary home, or with `--current FILE`. Exit 0: still current; 1: stale (what changed
is printed, for the issue the scheduled workflow opens); 2: the check itself failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from waitbus.install.trust import TRUSTED_ROOT_PARTS, TRUSTED_ROOT_SHA256

PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
# The parts of a trusted root, and what names one entry of each.
PARTS = {"tlogs": "logId", "certificateAuthorities": "subject", "ctlogs": "logId",
         "timestampAuthorities": "subject"}


def pinned() -> bytes:
    raw = resources.files("sigstore").joinpath(*TRUSTED_ROOT_PARTS).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TRUSTED_ROOT_SHA256:
        msg = (f"the installed sigstore's trusted root has sha256 {digest}, not the pinned "
               f"{TRUSTED_ROOT_SHA256}: sync the locked environment (uv sync --locked)")
        raise SystemExit(msg)
    return raw


def fetch_current() -> bytes:
    """The trusted root Sigstore's TUF repository serves now, with no cache to start from."""
    with tempfile.TemporaryDirectory(prefix="waitbus-tuf-") as home:
        os.environ.update(HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CACHE_HOME=f"{home}/cache")
        from sigstore._internal.tuf import TrustUpdater

        return Path(TrustUpdater(PRODUCTION_TUF_URL).get_trusted_root_path()).read_bytes()


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per entry added, removed or changed (e.g. a key's validity ended)."""
    lines = []
    for part, key in PARTS.items():
        before = {json.dumps(e.get(key), sort_keys=True): e for e in old.get(part, [])}
        after = {json.dumps(e.get(key), sort_keys=True): e for e in new.get(part, [])}
        lines += [f"{part}: added {name}" for name in sorted(after.keys() - before.keys())]
        lines += [f"{part}: removed {name}" for name in sorted(before.keys() - after.keys())]
        lines += [f"{part}: changed {name}" for name in sorted(before.keys() & after.keys())
                  if before[name] != after[name]]
    rest = sorted(k for k in (old.keys() | new.keys()) - PARTS.keys() if old.get(k) != new.get(k))
    lines += [f"{key}: changed" for key in rest]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--current", type=Path,
                        help="compare with this trusted_root.json instead of fetching it")
    args = parser.parse_args(argv)
    try:
        current = args.current.read_bytes() if args.current else fetch_current()
        changed = differences(json.loads(pinned()), json.loads(current))
    except (OSError, ValueError, ImportError) as exc:
        print(f"cannot compare the trusted roots: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"cannot fetch the current trusted root: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 2
    if not changed:
        print(f"the pinned Sigstore trusted root (sha256 {TRUSTED_ROOT_SHA256}) is current")
        return 0
    print(f"The Sigstore trusted root pinned in waitbus (sha256 {TRUSTED_ROOT_SHA256}, inside the "
          "locked sigstore) differs from the one Sigstore's TUF repository serves now:\n")
    print("\n".join(f"- {line}" for line in changed))
    print("\nUpgrade sigstore to a release that ships the new root (uv lock --upgrade-package "
          "sigstore), update TRUSTED_ROOT_SHA256 in waitbus/install/trust.py, and release: "
          "until then `waitbus verify` rejects releases signed under the new keys.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
