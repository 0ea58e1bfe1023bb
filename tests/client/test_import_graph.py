"""``showfloor.client`` (and the customer CLI commands) import nothing from ``showfloor.server``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "showfloor"
CUSTOMER_MODULES = [
    *sorted((SRC / "client").rglob("*.py")),
    *sorted((SRC / "cli" / "commands").rglob("*.py")),
    SRC / "cli" / "output.py",
]


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_modules_are_found() -> None:
    assert len(CUSTOMER_MODULES) > 15


@pytest.mark.parametrize("path", CUSTOMER_MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_server_import_in_source(path: Path) -> None:
    bad = sorted(
        n for n in imported_names(path) if n.startswith("showfloor.server") or n == "showfloor.cli.admin"
    )
    assert bad == [], f"{path} imports {bad}"


def test_importing_the_client_loads_no_server_module() -> None:
    code = (
        "import sys, showfloor.client, showfloor.cli.output;"
        "import showfloor.cli.commands.unlock, showfloor.cli.commands.search;"
        "print(sorted(m for m in sys.modules if m.startswith('showfloor.server')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
