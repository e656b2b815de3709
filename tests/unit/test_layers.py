"""The layering rule, read off the source: ``ui → assistant → index``; nothing imports a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIGHER = {"index": {"assistant", "ui"}, "assistant": {"ui"}}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(HIGHER))
def test_no_module_imports_a_higher_layer(package):
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_packages(p) & HIGHER[package])
                 for p in sorted((ROOT / package).rglob("*.py"))}
    assert not {k: v for k, v in offenders.items() if v}


def test_ui_uses_only_the_assistants_api():
    """The interfaces reach the index through :mod:`assistant` (e.g. :mod:`assistant.library`), never directly."""
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "ui").rglob("*.py")) if "index" in _imported_packages(p)]
    assert not offenders
