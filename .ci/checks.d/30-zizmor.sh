# The GitHub workflows and Dependabot config pass zizmor (pinned in uv.lock) with zero findings.
# Offline: no network to GitHub here; zizmor.yml runs the online audits on GitHub itself.
set -euo pipefail
uv run --locked --isolated --only-group release zizmor --offline --persona=pedantic .github/
