"""Shared flags and flow of the install and uninstall commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from waitbus.cli import verifying
from waitbus.cli.state import paths_from
from waitbus.errors import UsageError
from waitbus.install.units import Planned
from waitbus.paths import StatePaths

ACCEPT_OVERRIDES = "--dangerously-accept-signer-overrides"


def add_install_flags(p: argparse.ArgumentParser, *, dir_help: str) -> None:
    p.add_argument("--unit-dir", type=Path, metavar="DIR", help=dir_help)
    p.add_argument("--dry-run", action="store_true",
                   help="print what would be written; write nothing")
    p.add_argument("--files-only", action="store_true",
                   help="write the files but do not call the service manager")
    p.add_argument("--skip-verify", action="store_true",
                   help="DANGER: install without verifying the installed waitbus")
    p.add_argument(ACCEPT_OVERRIDES, action="store_true",
                   help="DANGER: let --expect-repository/-id, --expect-owner-id, "
                   "--expect-workflow, --expect-ref-prefix and --expect-issuer change whom the "
                   "install trusts (a fork's release workflow); refused without this flag. "
                   "--expect-project and --installed-root are always refused here: only a "
                   "verification of this waitbus installation authorises installing it")
    verifying.add_flags(p)


def check_overrides(args: argparse.Namespace) -> None:
    """Refuse what would let a verification of something else authorise this install."""
    if args.skip_verify:
        return
    if args.expect_project or args.installed_root is not None:
        flag = "--expect-project" if args.expect_project else "--installed-root"
        msg = (f"{flag} is refused by the install commands: the unit runs this waitbus "
               "installation, so only its own verification can authorise it (use "
               f"`waitbus verify {flag} ...` to check something else)")
        raise UsageError(msg)
    given = verifying.overrides_of(args)
    if given and not getattr(args, ACCEPT_OVERRIDES[2:].replace("-", "_")):
        msg = (f"{', '.join(given)} would change whom this install trusts; refused. To install "
               f"from a fork's own release workflow, add {ACCEPT_OVERRIDES} as well")
        raise UsageError(msg)


def add_uninstall_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--files-only", action="store_true",
                   help="remove the files but do not call the service manager")


def install(args: argparse.Namespace, plan: Callable[[StatePaths, list[str]], list[Planned]],
            kind: str, activate: Callable[[list[Planned]], None]) -> int:
    """Verify (or warn), then print or write the planned files and record them."""
    from waitbus.install import gate, manifest, units

    check_overrides(args)
    command = units.waitbus_command()
    if args.skip_verify:
        print("waitbus: WARNING: --skip-verify: installing a daemon whose files were NOT "
              "verified against a signed release", file=sys.stderr)
    elif args.dry_run and not _has_provenance(args):
        # A preview writes nothing, so it needs no release; the install itself still does.
        print("waitbus: --dry-run without --dist/--attestation or an index: nothing was "
              "verified; the install verifies this waitbus first (from a checkout, see "
              "--skip-verify in the README)", file=sys.stderr)
    else:
        request = verifying.request_from(args, scripts=units.command_scripts(command))
        outcome = gate.verify(request, verifying.progress)
        gate.check_running(outcome)
        print(verifying.describe(outcome))
    paths = paths_from(args)
    planned = plan(paths, command)
    if args.dry_run:
        for item in planned:
            print(f"--- would write {item.path}")
            print(item.content.decode(), end="" if item.content.endswith(b"\n") else "\n")
        print(f"--- would record them in {manifest.manifest_path(paths, kind)}")
        return 0
    paths.ensure()
    record = manifest.write(paths, kind, planned)
    for item in planned:
        print(f"wrote {item.path}")
    print(f"recorded in {record}")
    if not args.files_only:
        activate(planned)
    return 0


def _has_provenance(args: argparse.Namespace) -> bool:
    import os

    from waitbus.install.gate import INDEX_URL_ENV

    return bool(args.dist or args.attestation or args.index_url or os.environ.get(INDEX_URL_ENV))


def uninstall(args: argparse.Namespace, kind: str,
              deactivate: Callable[[list[Path]], None]) -> int:
    """Stop the service (unless --files-only), then remove the files the manifest lists."""
    from waitbus.install import manifest

    paths = paths_from(args)
    if not args.files_only:
        deactivate(manifest.recorded(paths, kind))
    removal = manifest.remove(paths, kind)
    for path in removal.removed:
        print(f"removed {path}")
    for path in removal.missing:
        print(f"already gone: {path}")
    for path in removal.kept:
        print(f"waitbus: kept {path}: it changed since install; remove it by hand",
              file=sys.stderr)
    from waitbus.cli.exits import Exit

    return Exit.REFUSED if removal.kept else Exit.MATCHED
