"""`waitbus verify`: check a distribution's attestation and the installed files against it."""

from __future__ import annotations

import argparse
import json

from waitbus.cli import verifying
from waitbus.cli.commands import command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "verify", description="Verify a waitbus distribution against its Sigstore "
                       "attestation (pinned production trust root, GitHub Actions release "
                       "workflow of the waitbus repository), then hash the installed files "
                       "against the verified wheel's RECORD.")
    verifying.add_flags(p)
    p.add_argument("--file-only", action="store_true",
                   help="verify --dist only; do not check installed files (before installing)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.install import gate

    outcome = gate.verify(verifying.request_from(args, check_installed=not args.file_only),
                          verifying.progress)
    if args.json:
        v, i = outcome.verified, outcome.installed
        print(json.dumps({
            "dist": v.dist.name, "sha256": v.sha256, "kind": v.kind,
            "repository": v.identity.repository, "workflow": v.identity.workflow,
            "predicate_types": list(v.predicate_types),
            "installed_files_checked": i.checked if i else None,
            "bytecode_checked": i.bytecode_checked if i else None,
            "scripts_checked": [str(script) for script in i.scripts] if i else [],
            "not_checked": list(i.not_checked) if i else ["the installed files (--file-only)"],
        }))
    else:
        print(verifying.describe(outcome))
    return 0
