"""Who must have signed a waitbus release: the one place the expected identity is defined."""

from __future__ import annotations

import re
from dataclasses import dataclass

from waitbus.errors import UsageError

# The OIDC issuer of GitHub Actions, as Fulcio records it in every workflow certificate.
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_REPOSITORY = "waitbus/waitbus"
# GitHub's numeric IDs of that repository and of its owner: names can be deleted and registered
# again by someone else, IDs cannot. Empty until the repository's first release pins them (the
# release workflow refuses to build while they differ from the running repository's), and an
# empty ID fails every verification: nothing is trusted by name alone.
DEFAULT_REPOSITORY_ID = ""
DEFAULT_OWNER_ID = ""
DEFAULT_WORKFLOW = ".github/workflows/release.yml"
DEFAULT_PROJECT = "waitbus"
# The release workflow runs for a tag `v` + the version in pyproject.toml, and nothing else.
RELEASE_TAG_PREFIX = "refs/tags/v"
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Identity:
    """The signer a distribution must come from, and the project it must be.

    `ref_prefix` empty means a release: the ref must be exactly `refs/tags/v<version>` for the
    version of the distribution being verified. Otherwise the ref must equal `ref_prefix` or
    start with it.
    """

    repository: str = DEFAULT_REPOSITORY
    repository_id: str = DEFAULT_REPOSITORY_ID
    owner_id: str = DEFAULT_OWNER_ID
    workflow: str = DEFAULT_WORKFLOW
    project: str = DEFAULT_PROJECT
    issuer: str = GITHUB_ACTIONS_ISSUER
    ref_prefix: str = ""

    @property
    def is_default(self) -> bool:
        return self == Identity()

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def repository_uri(self) -> str:
        return f"https://github.com/{self.repository}"

    @property
    def owner_uri(self) -> str:
        return f"https://github.com/{self.owner}"

    @property
    def workflow_uri(self) -> str:
        """The signing workflow's URI without its ref: `https://github.com/O/R/.github/...yml`."""
        return f"{self.repository_uri}/{self.workflow}"

    def allows_ref(self, ref: str, version: str) -> bool:
        """Whether a run on `ref` may sign version `version` of the project."""
        if not self.ref_prefix:
            return ref == f"{RELEASE_TAG_PREFIX}{version}"
        return ref.startswith(self.ref_prefix)

    def describe_refs(self, version: str) -> str:
        if not self.ref_prefix:
            return f"{RELEASE_TAG_PREFIX}{version}"
        return f"{self.ref_prefix} or a ref starting with it"

    def describe(self) -> str:
        refs = self.ref_prefix or f"{RELEASE_TAG_PREFIX}<version>"
        return (f"repository {self.repository} (id {self.repository_id or 'unset'}, owner id "
                f"{self.owner_id or 'unset'}), workflow {self.workflow}, refs {refs}, "
                f"project {self.project}, issuer {self.issuer}")


def check_id(value: str, what: str) -> str:
    """A GitHub numeric ID as the certificate spells it (decimal digits)."""
    if not _DIGITS.fullmatch(value):
        msg = f"{what} must be GitHub's numeric ID (digits only), not {value!r}"
        raise UsageError(msg)
    return value
