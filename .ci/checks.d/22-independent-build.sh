# Two independent builders agree: build.sh (uv) and pypa/build (pinned by hash) on Debian's
# /usr/bin/python3 in a fresh venv make byte-identical wheel and sdist of HEAD.
set -euo pipefail
bash packaging/release/check_independent_build.sh
