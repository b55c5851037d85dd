# The SBOM generates, validates against CycloneDX 1.6 (sbom.py fails otherwise), and is
# reproducible: two runs over the same uv.lock write the same bytes.
set -euo pipefail
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for run in one two; do
    uv run --locked --isolated --only-group release \
        python packaging/release/sbom.py --output "$out/$run.cdx.json"
done
cmp "$out/one.cdx.json" "$out/two.cdx.json"
echo "ok: SBOM valid and reproducible"
