# The SBOM describes what installing the built wheel (all extras, locked, hash-checked) puts in a
# fresh venv: every installed distribution is a component with its purl, licence (where its
# metadata has one) and the sha256 of the file it came from. sbom.py fails unless it validates
# against CycloneDX 1.6 and lists exactly the installed distributions; two runs over two fresh
# venvs must write the same bytes.
set -euo pipefail
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash packaging/release/build.sh "$out/dist"
python=$(command -v python3)
for run in one two; do
    uv run --locked --isolated --only-group release python packaging/release/sbom.py \
        --python "$python" --dist "$out/dist" --output "$out/$run.cdx.json"
done
cmp "$out/one.cdx.json" "$out/two.cdx.json"
echo "ok: SBOM of the installed environment valid, complete and reproducible"
