"""argparse with the terminal width read directly: shutil (and bz2, lzma) stay out of start-up."""

from __future__ import annotations

import argparse
import os
import sys


def columns() -> int:
    """The terminal's width as `shutil.get_terminal_size()` finds it: $COLUMNS, stdout, or 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told its width: it would import shutil to ask, for every argument."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         columns() - 2 if width is None else width)


class RawDescriptionHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The same, keeping the description's and epilog's line breaks."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (and, through add_subparsers, its commands') using HelpFormatter."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
