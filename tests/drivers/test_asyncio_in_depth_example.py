"""The asyncio program of docs/async-clients.md runs as written and prints what it should
(against the embedded broker it starts); the docs tests only check that it exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "async-clients.md"


def _example() -> str:
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(r"% asyncio-example[^\n]*\n```python\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, "docs/async-clients.md lost its asyncio example"
    return match.group(1)


def test_in_depth_asyncio_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", _example()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    messages = [
        line.split(" ", 1)[1] for line in lines if not line.startswith(("state:", "connected"))
    ]
    assert messages == ["b'order 0'", "b'order 1'", "b'order 2'", "b'\\x00\\x01 binary'"]
    states = [line for line in lines if line.startswith("state:")]
    assert states == [
        "state: connecting",
        "state: connected",
        "state: disconnecting",
        "state: closed",
    ]
    assert "connected with STOMP 1.2" in lines
