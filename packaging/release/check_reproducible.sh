#!/usr/bin/env bash
# Check that the release build is reproducible: two builds of HEAD in different directories give
# the same bytes, reprotest's variations change nothing, and (with --against) the artifacts about
# to be published are exactly those bytes.
#
#   check_reproducible.sh [--against DIST_DIR] [--no-reprotest]
#
# reprotest variations: everything but user_group, which needs sudo and a second configured
# account (user_group.available), and that account could not read root's uv cache offline.
# The rest work as root in an ordinary container given faketime (time), disorderfs with fuse3
# and /dev/fuse (fileordering), and util-linux's unshare, setarch and taskset (domain_host,
# kernel, aslr, num_cpus). Missing ones make reprotest fail: it is never weakened silently.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
variations=+all,-user_group

against=
reprotest=1
while (($#)); do
    case $1 in
        --against) against=$(cd "${2:?--against needs a directory}" && pwd); shift 2 ;;
        --no-reprotest) reprotest=; shift ;;
        *) echo "usage: $0 [--against DIST_DIR] [--no-reprotest]" >&2; exit 2 ;;
    esac
done

# One commit for every build below, even if HEAD moves meanwhile.
BUILD_REV=$(git -C "$root" rev-parse --verify "${BUILD_REV:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct "$BUILD_REV")}
export BUILD_REV SOURCE_DATE_EPOCH
work=$(mktemp -d "${TMPDIR:-/tmp}/waitbus-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT

digests() {
    local dir=$1 files
    files=$(cd "$dir" && compgen -G '*.whl'; compgen -G '*.tar.gz') || true
    if [ -z "$files" ]; then
        echo "no wheel or sdist in $dir; build first (packaging/release/build.sh $dir)" >&2
        return 1
    fi
    (cd "$dir" && sha256sum -- $files)
}

same() {
    local what=$1 left=$2 right=$3
    if ! diff -u <(digests "$left") <(digests "$right"); then
        echo "NOT REPRODUCIBLE: $what differ;" \
            "rebuild with packaging/release/build.sh and compare the two with diffoscope" >&2
        exit 1
    fi
    echo "ok: $what are byte-identical"
}

echo "commit $BUILD_REV, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
mkdir -p "$work/one" "$work/two/a/longer/path"
TMPDIR="$work/one" "$here/build.sh" "$work/one/dist"
TMPDIR="$work/two/a/longer/path" "$here/build.sh" "$work/two/dist"
digests "$work/one/dist"
same "two builds in different directories" "$work/one/dist" "$work/two/dist"

if [ -n "$against" ]; then
    same "the artifacts in $against and a rebuild" "$against" "$work/one/dist"
fi

if [ -n "$reprotest" ]; then
    command -v reprotest >/dev/null || {
        echo "reprotest is not installed: apt-get install reprotest faketime disorderfs fuse3" >&2
        exit 1
    }
    mkdir "$work/tree"
    git -C "$root" archive --format=tar "$BUILD_REV" | tar -x -C "$work/tree"
    # The builds above filled uv's cache with the pinned backend, so these need no network
    # (faketime would break TLS anyway); HOME varies, so the cache and Python are named here.
    python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
    build="SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH UV_CACHE_DIR=$(uv cache dir) UV_OFFLINE=1"
    build+=" UV_PYTHON=$python bash packaging/release/build.sh --tree . dist"
    (cd "$work/tree" && reprotest --no-diffoscope --verbosity 0 --variations="$variations" \
        --store-dir "$work/reprotest" -c "$build" . 'dist/*')
    echo "ok: reprotest ($variations) found no differences"
fi
