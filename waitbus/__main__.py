"""`python -m waitbus` runs the CLI."""

from waitbus.cli.main import entry

entry()
