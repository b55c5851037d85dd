"""Who must have signed a waitbus release: the one place the expected identity is defined."""

from __future__ import annotations

from dataclasses import dataclass

# The OIDC issuer of GitHub Actions, as Fulcio records it in every workflow certificate.
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_REPOSITORY = "waitbus/waitbus"
DEFAULT_WORKFLOW = ".github/workflows/release.yml"
DEFAULT_PROJECT = "waitbus"
# Releases are built from tags; a run of the same workflow on a branch is not a release.
DEFAULT_REF_PREFIX = "refs/tags/"


@dataclass(frozen=True, slots=True)
class Identity:
    """The signer a distribution must come from, and the project it must be."""

    repository: str = DEFAULT_REPOSITORY
    workflow: str = DEFAULT_WORKFLOW
    project: str = DEFAULT_PROJECT
    issuer: str = GITHUB_ACTIONS_ISSUER
    ref_prefix: str = DEFAULT_REF_PREFIX

    @property
    def is_default(self) -> bool:
        return self == Identity()

    @property
    def repository_uri(self) -> str:
        return f"https://github.com/{self.repository}"

    @property
    def build_config_prefix(self) -> str:
        """The signing workflow's URI up to the ref's name: `...release.yml@refs/tags/`."""
        return f"{self.repository_uri}/{self.workflow}@{self.ref_prefix}"

    def describe(self) -> str:
        return (f"repository {self.repository}, workflow {self.workflow}, "
                f"refs {self.ref_prefix}*, project {self.project}, issuer {self.issuer}")
