"""Shared flags and output for the commands that verify a distribution before acting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from waitbus.install.gate import INDEX_URL_ENV, Outcome, Request
from waitbus.install.identity import (
    DEFAULT_PROJECT,
    DEFAULT_REF_PREFIX,
    DEFAULT_REPOSITORY,
    DEFAULT_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    Identity,
)


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("verification")
    g.add_argument("--dist", type=Path, metavar="FILE",
                   help="the wheel or sdist to verify (air-gapped; with --attestation)")
    g.add_argument("--attestation", type=Path, metavar="FILE",
                   help="its Sigstore bundle (.sigstore.json), PEP 740 attestation or "
                   "provenance file")
    g.add_argument("--index-url", metavar="URL",
                   help=f"PEP 691 simple index to fetch the installed version's provenance "
                   f"from (default: ${INDEX_URL_ENV})")
    g.add_argument("--installed-root", type=Path, metavar="DIR",
                   help="DANGER: check the installed files in this site-packages directory "
                   "instead of where the project is installed")
    g.add_argument("--expect-repository", metavar="OWNER/NAME",
                   help=f"DANGER: trust another signing repository (default {DEFAULT_REPOSITORY})")
    g.add_argument("--expect-workflow", metavar="PATH",
                   help=f"DANGER: trust another signing workflow (default {DEFAULT_WORKFLOW})")
    g.add_argument("--expect-ref-prefix", metavar="PREFIX",
                   help=f"DANGER: trust runs on other refs (default {DEFAULT_REF_PREFIX})")
    g.add_argument("--expect-project", metavar="NAME",
                   help=f"DANGER: verify another project (default {DEFAULT_PROJECT})")
    g.add_argument("--expect-issuer", metavar="URL",
                   help=f"DANGER: trust another OIDC issuer (default {GITHUB_ACTIONS_ISSUER})")


def request_from(args: argparse.Namespace, *, check_installed: bool = True) -> Request:
    """Build the request, warning loudly on stderr when the expected identity was changed."""
    identity = Identity(
        repository=args.expect_repository or DEFAULT_REPOSITORY,
        workflow=args.expect_workflow or DEFAULT_WORKFLOW,
        project=args.expect_project or DEFAULT_PROJECT,
        issuer=args.expect_issuer or GITHUB_ACTIONS_ISSUER,
        ref_prefix=args.expect_ref_prefix or DEFAULT_REF_PREFIX,
    )
    if not identity.is_default:
        print("waitbus: WARNING: the expected signer was changed on the command line; "
              f"trusting {identity.describe()} instead of the waitbus release workflow",
              file=sys.stderr)
    if args.installed_root is not None:
        print(f"waitbus: WARNING: checking the installed files under {args.installed_root}, "
              "not necessarily the installation this command runs from", file=sys.stderr)
    return Request(identity=identity, dist=args.dist, attestation=args.attestation,
                   index_url=args.index_url, installed_root=args.installed_root,
                   check_installed=check_installed)


def describe(outcome: Outcome) -> str:
    v = outcome.verified
    signer = f"{v.identity.repository} ({v.identity.workflow})"
    text = f"verified {v.dist.name} (sha256 {v.sha256}) via {v.kind}, signed by {signer}"
    if outcome.installed is not None:
        i = outcome.installed
        text += (f"; {i.checked} installed files of {i.project} {i.version} under {i.root} "
                 "match its RECORD")
        if i.skipped:
            text += f" ({i.skipped} scripts/data entries outside site-packages not checked)"
    return text


def progress(step: str) -> None:
    """Verification takes a second or two: say each step on stderr as it starts."""
    print(f"waitbus: {step}...", file=sys.stderr, flush=True)
