"""The pytest source: a plugin that records a run's verdict and failures, off unless enabled."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pytest loads this module for every run: keep the import cheap
    import pytest

ENV_FLAG = "WAITBUS_PYTEST"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("waitbus", "waitbus event bus")
    group.addoption("--waitbus", action="store_true", default=False,
                    help=f"record this run on the waitbus event bus (or set {ENV_FLAG}=1)")


def pytest_configure(config: pytest.Config) -> None:
    if not enabled(config) or hasattr(config, "workerinput"):
        # An xdist worker forwards its reports to the controller, which records the run once.
        return
    from waitbus.sources.pytest_report import Recorder

    config.pluginmanager.register(Recorder(config, started=time.monotonic()), "waitbus-recorder")


def enabled(config: pytest.Config) -> bool:
    """True when `--waitbus` is given or WAITBUS_PYTEST is set to a true value."""
    if config.getoption("waitbus", default=False):
        return True
    return os.environ.get(ENV_FLAG, "").strip().lower() in {"1", "true", "yes", "on"}
