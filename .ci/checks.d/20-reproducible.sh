# The release build is reproducible: two builds of HEAD are byte-identical and reprotest passes.
set -euo pipefail
bash packaging/release/check_reproducible.sh
