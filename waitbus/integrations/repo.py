"""Which git repository a folder is in, read from .git without running git."""

from __future__ import annotations

import os

_MAX_DEPTH = 64


def git_dir(start: str) -> str | None:
    """The .git directory (a worktree's common one) of the repository holding `start`."""
    folder = os.path.abspath(start)
    for _ in range(_MAX_DEPTH):
        candidate = os.path.join(folder, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):
            return _common(_linked(candidate, folder))
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


def top_level(start: str) -> str | None:
    """The working tree root holding `start`, or None outside a repository."""
    folder = os.path.abspath(start)
    for _ in range(_MAX_DEPTH):
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


def slug(start: str) -> str | None:
    """"owner/name" from the repository's origin remote (else its first remote), if any."""
    found = git_dir(start)
    if found is None:
        return None
    try:
        with open(os.path.join(found, "config"), encoding="utf-8", errors="replace") as handle:
            urls = _remote_urls(handle.read())
    except OSError:
        return None
    url = urls.get("origin") or next(iter(urls.values()), None)
    return None if url is None else slug_of(url)


def branch(start: str) -> str | None:
    """The checked-out branch of the working tree holding `start`, if one is."""
    root = top_level(start)
    if root is None:
        return None
    head_dir = os.path.join(root, ".git")
    if os.path.isfile(head_dir):
        head_dir = _linked(head_dir, root)
    try:
        with open(os.path.join(head_dir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head[len(prefix):] if head.startswith(prefix) else None


def slug_of(url: str) -> str | None:
    """The last two path parts of a remote URL without ".git": scp-like, URL or local path."""
    text = url.strip().rstrip("/")
    if "://" in text:
        text = text.split("://", 1)[1].split("/", 1)[-1]
    elif ":" in text.split("/", 1)[0]:
        text = text.split(":", 1)[1]
    text = text.removesuffix(".git")
    parts = [part for part in text.split("/") if part]
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def _remote_urls(config: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    remote: str | None = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            head = line.strip("[]").strip()
            remote = head[len("remote"):].strip().strip('"') if head.startswith("remote ") \
                else None
        elif remote is not None and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key.lower() == "url":
                urls.setdefault(remote, value)
    return urls


def _linked(dot_git_file: str, folder: str) -> str:
    """The gitdir a worktree's or submodule's .git file names."""
    with open(dot_git_file, encoding="utf-8") as handle:
        text = handle.read().strip()
    target = text.removeprefix("gitdir:").strip()
    return target if os.path.isabs(target) else os.path.normpath(os.path.join(folder, target))


def _common(gitdir: str) -> str:
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as handle:
            common = handle.read().strip()
    except OSError:
        return gitdir
    return common if os.path.isabs(common) else os.path.normpath(os.path.join(gitdir, common))
