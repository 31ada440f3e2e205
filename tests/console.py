"""Find the project's console scripts the way the test's own interpreter installed them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def console_script(name: str) -> str:
    """The path of console script *name*: beside ``sys.executable`` first (a venv run
    as ``.venv/bin/python -m pytest`` without being activated), then on ``PATH``."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    assert found is not None, f"the {name} console script is not installed"
    return found
