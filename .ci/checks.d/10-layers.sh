#!/usr/bin/env bash
# The import layers in pyproject.toml ([tool.importlinter]): no module imports a layer above its own.
set -euo pipefail
uv run --locked lint-imports --no-cache
