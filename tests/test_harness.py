"""The harness itself: test modules share code through tests/helpers.py, e2e/helpers.py and conftest
fixtures, never by importing another test module or a conftest (that runs the module a second time under
another name, with its own copies of module-level state, and hides what depends on what)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITES = ("tests", "e2e")


def _forbidden(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def forbidden_imports(source: str) -> list[str]:
    """The test modules and conftests that `source` imports, however it spells the import."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and _forbidden(node.module):
                found.append(module)
            elif node.level or node.module in SUITES:  # `from tests import test_x`, `from . import conftest`
                prefix = module if module.endswith(".") else module + "."
                found += [prefix + alias.name for alias in node.names if _forbidden(alias.name)]
    return found


def test_the_check_sees_every_spelling_of_such_an_import():
    source = """
import tests.test_accounts
from tests.conftest import _free_port
from e2e.test_owner import sign_up
from tests import test_listing, helpers
from . import conftest
from .test_x import y

def later():
    from tests.test_photos import png
"""
    assert forbidden_imports(source) == [
        "tests.test_accounts",
        "tests.conftest",
        "e2e.test_owner",
        "tests.test_listing",
        ".conftest",
        ".test_x",
        "tests.test_photos",
    ]
    allowed = "from tests.helpers import HTML\nfrom e2e.helpers import run\nimport pytest\nfrom tests import helpers\n"
    assert forbidden_imports(allowed) == []


@pytest.mark.parametrize(
    "path",
    sorted(p for suite in SUITES for p in (ROOT / suite).glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_module_imports_a_test_module_or_a_conftest(path: Path):
    assert forbidden_imports(path.read_text()) == [], f"{path.name}: share it through a helpers module or a fixture"
