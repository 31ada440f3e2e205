"""Types a user feels: ``mypy --strict`` against the packages as a user's program sees them.

The blocking driver's README example type-checks as written, and a typo in an ack mode
is a type error in both async drivers (``AckMode`` is a ``Literal``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_readme import _python_block

REPO = Path(__file__).resolve().parent.parent


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(code, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file=",
            "program.py",
        ],
        cwd=tmp_path,
        env={"MYPYPATH": f"{REPO}{':'}{REPO / 'drivers'}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_blocking_readme_example_passes_mypy_strict(tmp_path: Path) -> None:
    result = _mypy(
        tmp_path, _python_block("The blocking driver: a drop-in replacement for stomp.py")
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("driver", ["stomp_trio", "stomp_asyncio"])
def test_an_ack_mode_typo_is_a_type_error(tmp_path: Path, driver: str) -> None:
    code = f"""import {driver}


async def consume(client: {driver}.Client) -> None:
    async with client.subscribe("/queue/a", ack="client-individual"):
        pass
    async with client.subscribe("/queue/a", ack="client-individul"):
        pass
"""
    result = _mypy(tmp_path, code)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert "program.py:7:" in errors[0]
    assert "'client-individul'" in errors[0]
