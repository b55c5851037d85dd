"""Shared flags and output for the commands that verify a distribution before acting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from waitbus.errors import UsageError
from waitbus.install.gate import INDEX_URL_ENV, Outcome, Request
from waitbus.install.identity import (
    DEFAULT_OWNER_ID,
    DEFAULT_PROJECT,
    DEFAULT_REPOSITORY,
    DEFAULT_REPOSITORY_ID,
    DEFAULT_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    RELEASE_TAG_PREFIX,
    Identity,
    check_id,
)

# The flags that change whom verification trusts; install commands refuse them by default.
OVERRIDES = ("expect_repository", "expect_repository_id", "expect_owner_id", "expect_workflow",
             "expect_ref_prefix", "expect_project", "expect_issuer")


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
                   help=f"DANGER: trust another signing repository (default {DEFAULT_REPOSITORY}); "
                   "needs --expect-repository-id and --expect-owner-id")
    g.add_argument("--expect-repository-id", metavar="ID",
                   help="DANGER: the signing repository's numeric GitHub ID "
                   f"(default {DEFAULT_REPOSITORY_ID or 'none pinned yet'})")
    g.add_argument("--expect-owner-id", metavar="ID",
                   help="DANGER: the numeric GitHub ID of the repository's owner "
                   f"(default {DEFAULT_OWNER_ID or 'none pinned yet'})")
    g.add_argument("--expect-workflow", metavar="PATH",
                   help=f"DANGER: trust another signing workflow (default {DEFAULT_WORKFLOW})")
    g.add_argument("--expect-ref-prefix", metavar="PREFIX",
                   help="DANGER: trust runs on this ref, or on refs starting with it "
                   f"(default: exactly {RELEASE_TAG_PREFIX}<the distribution's version>)")
    g.add_argument("--expect-project", metavar="NAME",
                   help=f"DANGER: verify another project (default {DEFAULT_PROJECT})")
    g.add_argument("--expect-issuer", metavar="URL",
                   help=f"DANGER: trust another OIDC issuer (default {GITHUB_ACTIONS_ISSUER})")


def identity_from(args: argparse.Namespace) -> Identity:
    """The expected signer: the defaults, changed only by explicit --expect-* flags."""
    if args.expect_repository and not (args.expect_repository_id and args.expect_owner_id):
        msg = ("--expect-repository needs --expect-repository-id and --expect-owner-id: a "
               "repository name alone can be deleted and registered again by someone else (the "
               "IDs are in the signing certificate and on the repository's API page)")
        raise UsageError(msg)
    return Identity(
        repository=args.expect_repository or DEFAULT_REPOSITORY,
        repository_id=(check_id(args.expect_repository_id, "--expect-repository-id")
                       if args.expect_repository_id else DEFAULT_REPOSITORY_ID),
        owner_id=(check_id(args.expect_owner_id, "--expect-owner-id")
                  if args.expect_owner_id else DEFAULT_OWNER_ID),
        workflow=args.expect_workflow or DEFAULT_WORKFLOW,
        project=args.expect_project or DEFAULT_PROJECT,
        issuer=args.expect_issuer or GITHUB_ACTIONS_ISSUER,
        ref_prefix=args.expect_ref_prefix or "",
    )


def overrides_of(args: argparse.Namespace) -> list[str]:
    """The --expect-* flags given on this command line."""
    return [f"--{name.replace('_', '-')}" for name in OVERRIDES if getattr(args, name)]


def request_from(args: argparse.Namespace, *, check_installed: bool = True,
                 scripts: tuple[Path, ...] | None = None) -> Request:
    """Build the request, warning loudly on stderr when the expected identity was changed."""
    require_extra()
    identity = identity_from(args)
    if overrides_of(args):
        print("waitbus: WARNING: the expected signer was changed on the command line; "
              f"trusting {identity.describe()} instead of the waitbus release workflow",
              file=sys.stderr)
    if args.installed_root is not None:
        print(f"waitbus: WARNING: checking the installed files under {args.installed_root}, "
              "not necessarily the installation this command runs from", file=sys.stderr)
    return Request(identity=identity, dist=args.dist, attestation=args.attestation,
                   index_url=args.index_url, installed_root=args.installed_root,
                   check_installed=check_installed, scripts=scripts)


def require_extra() -> None:
    """Verification needs the `verify` extra; say how to install it instead of failing later."""
    import importlib

    for name in ("sigstore", "pypi_attestations"):
        try:
            importlib.import_module(name)
        except ImportError:
            from waitbus.errors import UsageError

            msg = (f"verifying needs the verify extra ({name} is missing); install it with "
                   "`pip install 'waitbus[verify]'` (or `uv sync --extra verify` in a checkout)")
            raise UsageError(msg) from None


def describe(outcome: Outcome) -> str:
    """What was verified and checked, and exactly what was not, one item per line."""
    v = outcome.verified
    signer = (f"{v.identity.repository} (repository id {v.identity.repository_id}, owner id "
              f"{v.identity.owner_id}), workflow {v.identity.workflow}")
    lines = [f"verified {v.dist.name} (sha256 {v.sha256}) via {v.kind}, signed by {signer}"]
    i = outcome.installed
    if i is None:
        lines.append("not checked: the installed files (--file-only)")
        return "\n".join(lines)
    lines.append(f"checked: {i.checked} installed files of {i.project} {i.version} under "
                 f"{i.root} match the verified RECORD, and no other file is in its packages")
    lines.append(f"checked: {i.bytecode_checked} bytecode files in __pycache__ compile from the "
                 "verified sources")
    lines += [f"checked: console script {script} runs the verified entry point"
              for script in i.scripts]
    lines += [f"not checked: {item}" for item in i.not_checked]
    return "\n".join(lines)


def progress(step: str) -> None:
    """Verification takes a second or two: say each step on stderr as it starts."""
    print(f"waitbus: {step}...", file=sys.stderr, flush=True)
