"""The trio and asyncio programs of docs/async-clients.md run as written and print what
they should (against the embedded broker they start); the docs tests only check that
they exit 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "async-clients.md"
ORDERS = ["b'order 0'", "b'order 1'", "b'order 2'", "b'\\x00\\x01 binary'"]


def _run(driver: str) -> list[str]:
    """The lines the page's ``driver`` program prints (it must exit 0)."""
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"% {driver}-example[^\n]*\n```python\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, f"docs/async-clients.md lost its {driver} example"
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", match.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_in_depth_trio_example_runs() -> None:
    lines = _run("trio")
    assert lines[0] == "connected with STOMP 1.2"
    assert [line.split(" ", 1)[1] for line in lines[1:]] == ORDERS


def test_in_depth_asyncio_example_runs() -> None:
    lines = _run("asyncio")
    messages = [
        line.split(" ", 1)[1] for line in lines if not line.startswith(("state:", "connected"))
    ]
    assert messages == ORDERS
    assert [line for line in lines if line.startswith("state:")] == [
        "state: connecting",
        "state: connected",
        "state: disconnecting",
        "state: closed",
    ]
