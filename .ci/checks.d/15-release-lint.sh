# The release tooling is linted and typed like the package (.ci/run covers waitbus, tests, benchmarks).
set -euo pipefail
uv run --locked ruff check packaging/release
uv run --locked mypy --strict packaging/release/osv_gate.py packaging/release/smoke_test.py \
    packaging/release/check_trusted_root.py
