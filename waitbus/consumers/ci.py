"""Waiting for a commit's CI to settle, from GitHub workflow_run and check_suite events.

The rule (also in docs): a failure ends the wait as soon as the latest attempt of any workflow
run for the sha completes failure, cancelled or timed_out (action_required counts as failure,
stale as cancelled), or a check suite for the sha completes with such a conclusion. Success needs
a completed check suite for the sha (GitHub completes a suite only once every run in it has
completed) while no run seen for the sha is still queued, waiting or in progress and none has
failed. A re-run (a higher run attempt, a rerequested suite) replaces what the earlier attempt
said. Suites that are only requested never block success: GitHub creates one for every app
with checks permission, and many never run. Events stored before the wait began count (the
store is replayed from `cursor`), so a run that started or even ended earlier is not missed.
A workflow whose first event has not arrived when the last known suite completes cannot be
seen; in practice GitHub requests every workflow of a push before any of them completes.
"""

from __future__ import annotations

import re

from waitbus.errors import UsageError
from waitbus.event import Event
from waitbus.match import AnyOf, Clause, Match, Op
from waitbus.record import record

SOURCE = "github"
_SHA = re.compile(r"[0-9a-f]{7,40}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_REMOTE = re.compile(r"github\.com[:/]+([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_PENDING = ("requested", "queued", "waiting", "pending", "in_progress")


@record
class Commit:
    """A commit whose GitHub CI a wait waits to settle."""

    repo: str
    sha: str

    def subscription(self) -> AnyOf:
        """Every GitHub event about this commit (an abbreviated sha matches as a prefix)."""
        short = len(self.sha) < 40
        clause = Clause(("fields", "head_sha"), Op.GLOB if short else Op.EQ,
                        f"{self.sha}*" if short else self.sha)
        return AnyOf((Match(SOURCE, (clause,)),))


class _Unit:
    """The newest attempt of one workflow run or check suite, and its newest event."""

    __slots__ = ("attempt", "event")

    def __init__(self, attempt: int, event: Event) -> None:
        self.attempt = attempt
        self.event = event

    @property
    def completed(self) -> bool:
        return self.event.fields.get("status") == "completed"


class Tally:
    """What the events seen so far say about one commit's CI (sans-IO: feed it events)."""

    __slots__ = ("repo", "runs", "sha", "suites")

    def __init__(self, repo: str, sha: str) -> None:
        self.repo = repo
        self.sha = sha
        self.runs: dict[int, _Unit] = {}
        self.suites: dict[int, _Unit] = {}

    def __repr__(self) -> str:
        return (f"<Tally {self.repo}@{self.sha[:12]} runs={len(self.runs)} "
                f"suites={len(self.suites)}>")

    def observe(self, event: Event) -> None:
        """Fold one event in; events for other commits, repos or kinds are ignored."""
        if not self._concerns(event):
            return
        kind = self.runs if event.type == "workflow_run" else self.suites
        key = event.fields.get("run_id" if event.type == "workflow_run" else "suite_id")
        if not isinstance(key, int):
            return
        attempt = event.fields.get("attempt")
        unit = _Unit(attempt if isinstance(attempt, int) else 1, event)
        known = kind.get(key)
        if known is not None and (unit.attempt < known.attempt or (
                unit.attempt == known.attempt and known.completed and not unit.completed
                and event.type == "workflow_run")):
            return  # an older attempt, or a run's late "in progress" after it completed
        kind[key] = unit

    def verdict(self) -> Event | None:
        """The event that settles the commit's CI, or None while it is not settled."""
        for unit in (*self.runs.values(), *self.suites.values()):
            verdict = unit.event.conclusion
            if unit.completed and verdict is not None and verdict.failed:
                return unit.event
        if any(not unit.completed for unit in self.runs.values()):
            return None
        done = [u.event for u in self.suites.values() if u.completed and u.event.conclusion]
        return max(done, key=lambda e: e.cursor) if done else None

    def _concerns(self, event: Event) -> bool:
        sha = event.fields.get("head_sha")
        return (event.source == SOURCE and event.type in ("workflow_run", "check_suite")
                and isinstance(sha, str) and sha.startswith(self.sha)
                and (event.subject or "").lower() == self.repo.lower())


def check_sha(sha: str) -> str:
    lowered = sha.strip().lower()
    if not _SHA.fullmatch(lowered):
        msg = f"--sha {sha!r} is not a commit id; give 7 to 40 hex digits (git rev-parse HEAD)"
        raise UsageError(msg)
    return lowered


def check_repo(repo: str) -> str:
    if not _REPO.fullmatch(repo):
        msg = f"--repo {repo!r} is not owner/name, e.g. octo-org/octo-repo"
        raise UsageError(msg)
    return repo


def repo_of_checkout(cwd: str | None = None) -> str:
    """owner/name of the current checkout's `origin` remote on GitHub."""
    import subprocess  # only a commit wait without --repo runs git

    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=cwd, check=True,  # noqa: S607
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        msg = "cannot read this checkout's origin remote; pass --repo owner/name"
        raise UsageError(msg) from exc
    return repo_of_remote(url)


def repo_of_remote(url: str) -> str:
    """owner/name from a GitHub remote URL (https, ssh or scp-like)."""
    found = _REMOTE.search(url.strip())
    if found is None:
        msg = f"origin remote {url!r} is not on GitHub; pass --repo owner/name"
        raise UsageError(msg)
    return f"{found.group(1)}/{found.group(2)}"
