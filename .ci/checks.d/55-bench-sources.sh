# The fs and pytest benchmarks still run end to end (tiny counts: wiring, not speed).
set -euo pipefail
uv run --locked python -m benchmarks.bench_fs --quick
uv run --locked python -m benchmarks.bench_pytest --quick
