# The fs, pytest, watch, NATS bridge and webhook-pressure benchmarks still run end to end (tiny
# counts: wiring, not speed).
set -euo pipefail
uv run --locked python -m benchmarks.bench_fs --quick
uv run --locked python -m benchmarks.bench_pytest --quick
uv run --locked python -m benchmarks.bench_watch --n 15 --rounds 3
uv run --locked python -m benchmarks.bench_bridge --quick
uv run --locked python -m benchmarks.bench_webhook_pressure --n 5 --rate 20 --idle 100
