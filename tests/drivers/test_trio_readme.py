"""The README's trio example runs as written (against the embedded broker it starts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- trio-example -->\n```python\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, "the README lost its trio example"
    return match.group(1)


def test_readme_trio_example_runs() -> None:
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
