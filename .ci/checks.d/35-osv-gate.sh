# The OSV gate's logic over every pinned release input (uv.lock, the build backend's constraints,
# uv, pypa/build), against the advisory snapshot committed in tests/fixtures/osv (no network here;
# the release workflow runs the same gate and osv-scanner over the live database).
set -euo pipefail
python3 packaging/release/osv_gate.py --db tests/fixtures/osv --lock uv.lock \
    --requirements packaging/release/build-constraints.txt \
    --requirements packaging/release/uv.txt \
    --requirements packaging/release/build-tool.txt
