"""The package root: every public name resolves, lazily, to the object in its home module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import waitbus


def test_every_public_name_resolves_to_its_home_modules_object() -> None:
    assert waitbus.__all__, "no public names"
    for name in waitbus.__all__:
        home = waitbus._HOMES[name]
        assert getattr(waitbus, name) is getattr(importlib.import_module(home), name), name


def test_the_type_checkers_imports_are_the_public_names() -> None:
    """What mypy sees (the TYPE_CHECKING imports) and what runs (_HOMES) name the same things."""
    tree = ast.parse(Path(waitbus.__file__).read_text())
    imported = {
        (node.module, alias.name)
        for stmt in tree.body if isinstance(stmt, ast.If)
        for node in stmt.body if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {(home, name) for name, home in waitbus._HOMES.items()}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(waitbus, "no_such_name")  # noqa: B009
