"""The test suite reads nothing outside the checkout: a plain clone has nothing beside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A path that climbs out of the repository: `/ ".."`, `"..", "<name>"`, or a dot-dot-slash string.
OUTSIDE = re.compile(r"""/\s*["']\.\.["']|["']\.\.["']\s*,|\.\./shared""")


def test_no_test_or_benchmark_reaches_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("tests", "benchmarks", ".ci")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".sh"} and path.is_file() and path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == [], "read test data from tests/fixtures instead:\n" + "\n".join(offenders)


def test_every_fixture_folder_the_tests_use_is_in_the_repository() -> None:
    for folder in ("github-webhooks", "attestations"):
        files = list((ROOT / "tests" / "fixtures" / folder).glob("*"))
        assert len(files) >= 5, f"tests/fixtures/{folder} is missing or empty"
