"""The trio program of docs/async-clients.md runs as written and prints what it should
(against the embedded broker it starts); the docs tests only check that it exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "async-clients.md"


def _example() -> str:
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(r"% trio-example[^\n]*\n```python\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, "docs/async-clients.md lost its trio example"
    return match.group(1)


def test_in_depth_trio_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _example()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "connected with STOMP 1.2"
    assert [line.split(" ", 1)[1] for line in lines[1:]] == [
        "b'order 0'",
        "b'order 1'",
        "b'order 2'",
        "b'\\x00\\x01 binary'",
    ]
