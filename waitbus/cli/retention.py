"""The retention policy from config.toml and flags: `30d`, `256MiB`, a row count, or `off`."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from waitbus.cli.durations import seconds
from waitbus.config import Retention
from waitbus.errors import UsageError
from waitbus.paths import StatePaths
from waitbus.record import replace

_T = TypeVar("_T", int, float)
CONFIG_NAME = "config.toml"
OFF = "off"
_SIZE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([KMGT]i?B|B)?", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def byte_count(text: str) -> int:
    """`256MiB`, `1.5GB`, `500kB` or a bare number of bytes."""
    found = _SIZE.fullmatch(text.strip())
    if not found:
        msg = f"{text!r} is not a size; write 256MiB, 1GiB, 500MB or a number of bytes"
        raise UsageError(msg)
    return int(float(found.group(1)) * _SIZE_UNITS[(found.group(2) or "b").lower()])


def row_count(text: str) -> int:
    if not text.strip().isdigit():
        msg = f"{text!r} is not a number of events; write a whole number such as 100000"
        raise UsageError(msg)
    return int(text)


def config_path(paths: StatePaths, flag: str | None) -> Path:
    """`--config FILE`, else config.toml in the state directory."""
    return Path(flag).expanduser() if flag else paths.root / CONFIG_NAME


def from_config(path: Path) -> Retention:
    """The `[retention]` table of a TOML file; defaults for what it leaves out or when absent.

    ```toml
    [retention]
    max_age = "30d"       # or "off"
    max_bytes = "256MiB"  # or "off"
    max_rows = "off"      # or a number of events
    ```
    """
    if not path.exists():
        return Retention()  # and a daemon without a config file never loads tomllib
    import tomllib

    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        return Retention()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read the config file {path}: {exc}; fix it or move it aside"
        raise UsageError(msg) from exc
    table = document.get("retention", {})
    if not isinstance(table, dict):
        msg = f"{path}: [retention] must be a table"
        raise UsageError(msg)
    unknown = set(table) - {"max_age", "max_bytes", "max_rows"}
    if unknown:
        msg = (f"{path}: unknown [retention] key {sorted(unknown)[0]!r}; "
               "the keys are max_age, max_bytes and max_rows")
        raise UsageError(msg)
    base = Retention()
    try:
        return Retention(
            _bound(table.get("max_age"), seconds, base.max_age_s),
            _bound(table.get("max_bytes"), byte_count, base.max_bytes),
            _bound(table.get("max_rows"), row_count, base.max_rows))
    except UsageError as exc:
        msg = f"{path} [retention]: {exc}"
        raise UsageError(msg) from None


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "retention", "what the daemon keeps as events arrive (default 30d or 256MiB, whichever "
        "is reached first; config.toml in the state directory sets them too)")
    group.add_argument("--config", metavar="FILE",
                       help="a TOML config file (default: STATE_DIR/config.toml)")
    group.add_argument("--retain-age", metavar="DURATION|off",
                       help="prune events older than this (e.g. 30d)")
    group.add_argument("--retain-bytes", metavar="SIZE|off",
                       help="prune the oldest events while the store is larger (e.g. 256MiB)")
    group.add_argument("--retain-rows", metavar="N|off",
                       help="keep at most this many events")


def for_serve(args: argparse.Namespace, paths: StatePaths) -> Retention:
    """The config file's policy, with each `--retain-*` flag given replacing its bound."""
    policy = from_config(config_path(paths, args.config))
    if args.retain_age is not None:
        policy = replace(policy, max_age_s=_bound(args.retain_age, seconds, None))
    if args.retain_bytes is not None:
        policy = replace(policy, max_bytes=_bound(args.retain_bytes, byte_count, None))
    if args.retain_rows is not None:
        policy = replace(policy, max_rows=_bound(args.retain_rows, row_count, None))
    return policy


def _bound(value: object, parse: Callable[[str], _T], default: _T | None) -> _T | None:
    if value is None:
        return default
    if isinstance(value, bool):
        msg = f"{value!r} is not a bound; give a value or \"off\""
        raise UsageError(msg)
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        msg = f"{value!r} is not a bound; give a value or \"off\""
        raise UsageError(msg)
    if value.strip().lower() == OFF:
        return None
    return parse(value)
