#!/usr/bin/env bash
# Instruction counts of the hot paths against benchmarks/callgrind_baseline.json (fails at +5%).
set -euo pipefail
uv run --locked python -m benchmarks.callgrind_gate
