"""stomp_core is pure: no I/O, clocks, randomness or logging (DESIGN.md §3)."""

from __future__ import annotations

import ast
from pathlib import Path

import stomp_core

FORBIDDEN = {
    "socket",
    "ssl",
    "select",
    "selectors",
    "threading",
    "asyncio",
    "trio",
    "time",
    "random",
    "logging",
    "os",
    "subprocess",
    "multiprocessing",
}

CORE = Path(stomp_core.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_nothing_impure() -> None:
    # Sub-packages too (stomp_core/client/).
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 5
    assert CORE / "client" / "_errors.py" in files
    offenders = {
        str(path.relative_to(CORE)): sorted(_imported_modules(path) & FORBIDDEN)
        for path in files
        if _imported_modules(path) & FORBIDDEN
    }
    assert offenders == {}


def test_purity_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import time\nfrom socket import socket\nfrom . import _x\n")
    assert _imported_modules(sample) & FORBIDDEN == {"time", "socket"}
