#!/usr/bin/env bash
# Build one commit two independent ways and require byte-identical wheel and sdist:
#   1. the release builder: build.sh (uv's build frontend, uv's installer, the Python uv runs);
#   2. pypa/build (`python -m build`, pinned by hash in build-tool.txt) with pip as installer,
#      in a fresh venv of another base interpreter ($INDEPENDENT_PYTHON, default Debian's
#      /usr/bin/python3), the build backend installed from the same hash-pinned constraints.
# A toolchain compromised on one side (frontend, installer or interpreter) shows as a
# difference. The backend (hatchling) is the same pinned release on both sides by design.
#
#   check_independent_build.sh [--against DIST_DIR] [--keep DIR]
#     --against: compare builder two with the files already built (the release's artifacts)
#                instead of running builder one here
#     --keep:    leave both builds in DIR/one and DIR/two
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
python=${INDEPENDENT_PYTHON:-/usr/bin/python3}

keep=
against=
while (($#)); do
    case $1 in
        --against) against=$(cd "${2:?--against needs a directory}" && pwd); shift 2 ;;
        --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
        *) echo "usage: $0 [--against DIST_DIR] [--keep DIR]" >&2; exit 2 ;;
    esac
done

BUILD_REV=$(git -C "$root" rev-parse --verify "${BUILD_REV:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct "$BUILD_REV")}
export BUILD_REV SOURCE_DATE_EPOCH
work=$(mktemp -d "${TMPDIR:-/tmp}/waitbus-independent.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ ! -x "$python" ]; then
    echo "no interpreter at $python for the independent build; install Debian's python3 and" \
        "python3-venv, or set INDEPENDENT_PYTHON" >&2
    exit 1
fi
if [ -z "$against" ] && [ "$(realpath "$python")" = "$(realpath "$(command -v python3)")" ]; then
    echo "the independent build must use another interpreter than $(command -v python3);" \
        "set INDEPENDENT_PYTHON" >&2
    exit 1
fi

echo "commit $BUILD_REV, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
if [ -n "$against" ]; then
    echo "builder one: the artifacts in $against"
    mkdir "$work/one"
    cp "$against"/*.whl "$against"/*.tar.gz "$work/one/"
else
    echo "builder one: $here/build.sh (uv $(uv --version | cut -d' ' -f2))"
    "$here/build.sh" "$work/one"
fi

echo "builder two: pypa/build on $("$python" --version) at $python"
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check --quiet --isolated)
"${pip[@]}" install --require-hashes --no-deps --only-binary :all: \
    -r "$here/build-tool.txt" -r "$here/build-constraints.txt"
mkdir "$work/tree"
git -C "$root" archive --format=tar "$BUILD_REV" | tar -x -C "$work/tree"
# --no-isolation: the backend comes from the hash-pinned install above, not from a resolver.
# build makes the sdist, then the wheel from that sdist, as build.sh does.
(cd "$work/tree" && "$work/venv/bin/python" -m build --no-isolation --outdir "$work/two" .) \
    >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

digests() { (cd "$1" && sha256sum -- *.whl *.tar.gz); }
digests "$work/one"
if ! diff -u <(digests "$work/one") <(digests "$work/two"); then
    echo "NOT REPRODUCIBLE ACROSS BUILDERS: uv build and pypa/build made different files;" \
        "compare them with diffoscope (--keep DIR leaves both)" >&2
    [ -z "$keep" ] || { mkdir -p "$keep"; cp -r "$work/one" "$work/two" "$keep/"; }
    exit 1
fi
[ -z "$keep" ] || { mkdir -p "$keep"; cp -r "$work/one" "$work/two" "$keep/"; }
echo "ok: uv build and pypa/build ($("$python" --version)) made byte-identical wheel and sdist"
