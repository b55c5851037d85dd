#!/usr/bin/env bash
# Install the pinned agent clients (Claude Code, Codex CLI, Gemini CLI, MCP Inspector) and a
# Node.js 22 they need into .agent-clients/ (git-ignored). Re-running with the same lock is
# quick: npm keeps what matches and reads the rest from its cache.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
prefix="$root/.agent-clients"
mkdir -p "$prefix"
cp "$root/.ci/agent-clients/package.json" "$root/.ci/agent-clients/package-lock.json" "$prefix/"
started=$SECONDS
npm install --prefix "$prefix" --no-audit --no-fund --no-update-notifier \
    --omit-lockfile-registry-resolved --loglevel=error
echo "agent clients installed in $prefix in $((SECONDS - started))s:"
PATH="$prefix/node_modules/.bin:$PATH"
echo "  node $(node --version), claude $(claude --version), $(codex --version)," \
    "gemini $(gemini --version)"
