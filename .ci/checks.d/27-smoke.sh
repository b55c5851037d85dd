# What ships installs and runs: the wheel and the sdist of HEAD, each in a fresh venv from the
# locked hash-checked requirements, pass `waitbus --version`, `demo --repeats 1`, `verify --help`
# and the daemon's import closure (stdlib, waitbus, h11). The release workflow runs the same.
set -euo pipefail
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash packaging/release/build.sh "$out/dist"
python3 packaging/release/smoke_test.py --dist "$out/dist" --python "$(command -v python3)"
