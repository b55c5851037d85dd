"""Shared argv-to-library glue for the commands."""

from __future__ import annotations

import argparse
import os

from waitbus.consumers.feed import DEFAULT_RECONNECT_S
from waitbus.paths import StatePaths, resolve


def paths_from(args: argparse.Namespace) -> StatePaths:
    return resolve(args.state_dir)


def reconnect_s() -> float:
    raw = os.environ.get("WAITBUS_RECONNECT_S")
    return float(raw) if raw else DEFAULT_RECONNECT_S
