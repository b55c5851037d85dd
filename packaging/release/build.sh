#!/usr/bin/env bash
# Build waitbus's sdist and wheel the one way a release does: from a clean export of HEAD,
# SOURCE_DATE_EPOCH at the commit time, the build backend and its dependencies pinned by hash.
#
#   build.sh OUT_DIR              export HEAD (or $BUILD_REV) and build it into OUT_DIR
#   build.sh --tree DIR OUT_DIR   build DIR, an export made earlier (reprotest uses this)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

tree=
if [ "${1:-}" = --tree ]; then
    tree=$(cd "${2:?--tree needs a directory}" && pwd)
    shift 2
fi
out=${1:?usage: build.sh [--tree DIR] OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -z "$tree" ]; then
    root=$(git -C "$here" rev-parse --show-toplevel)
    rev=$(git -C "$root" rev-parse --verify "${BUILD_REV:-HEAD}^{commit}")
    export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct "$rev")}
    tree=$(mktemp -d "${TMPDIR:-/tmp}/waitbus-src.XXXXXX")
    trap 'rm -rf "$tree"' EXIT
    # Only committed files: a stray file in the work tree must not reach a release.
    git -C "$root" archive --format=tar "$rev" | tar -x -C "$tree"
fi
: "${SOURCE_DATE_EPOCH:?set SOURCE_DATE_EPOCH when building with --tree}"
export SOURCE_DATE_EPOCH

# uv builds the sdist, then the wheel from that sdist, as installers would.
uv build --quiet --no-sources --require-hashes --no-create-gitignore \
    --build-constraints "$tree/packaging/release/build-constraints.txt" \
    --out-dir "$out" "$tree"
