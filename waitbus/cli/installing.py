"""Shared flags and flow of the install and uninstall commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from waitbus.cli import verifying
from waitbus.cli.state import paths_from
from waitbus.install.units import Planned
from waitbus.paths import StatePaths


def add_install_flags(p: argparse.ArgumentParser, *, dir_help: str) -> None:
    p.add_argument("--unit-dir", type=Path, metavar="DIR", help=dir_help)
    p.add_argument("--dry-run", action="store_true",
                   help="print what would be written; write nothing")
    p.add_argument("--files-only", action="store_true",
                   help="write the files but do not call the service manager")
    p.add_argument("--skip-verify", action="store_true",
                   help="DANGER: install without verifying the installed waitbus")
    verifying.add_flags(p)


def add_uninstall_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--files-only", action="store_true",
                   help="remove the files but do not call the service manager")


def install(args: argparse.Namespace, plan: Callable[[StatePaths], list[Planned]],
            kind: str, activate: Callable[[list[Planned]], None]) -> int:
    """Verify (or warn), then print or write the planned files and record them."""
    from waitbus.install import gate, manifest

    if args.skip_verify:
        print("waitbus: WARNING: --skip-verify: installing a daemon whose files were NOT "
              "verified against a signed release", file=sys.stderr)
    else:
        print(verifying.describe(gate.verify(verifying.request_from(args), verifying.progress)))
    paths = paths_from(args)
    planned = plan(paths)
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
    return 1 if removal.kept else 0
