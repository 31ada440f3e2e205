"""The README's examples (and the embedded broker's, in docs/broker.md) run as written and
print what they should, against the embedded broker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stomp_broker import run_broker_in_thread

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
BROKER_PAGE = (REPO / "docs" / "broker.md").read_text(encoding="utf-8")


def _python_block(heading: str, text: str = README) -> str:
    """The first python block under the section ``heading`` (a ``##`` heading or a page title)."""
    marker = f"\n## {heading}" if f"\n## {heading}" in text else f"# {heading}"
    section = text.split(marker, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, f"no python block under {heading!r}"
    return match.group(1)


def test_trio_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The block runs as a script, as written: it starts its own broker."""
    exec(_python_block("trio and asyncio"), {"__name__": "__main__"})
    assert capsys.readouterr().out == "received hello\n"


def test_embedded_broker_example(capsys: pytest.CaptureFixture[str]) -> None:
    exec(_python_block("The embedded broker", BROKER_PAGE), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "a broker thread listens on 127.0.0.1" in out
    assert "an asyncio broker listens on 127.0.0.1" in out


def test_blocking_driver_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = _python_block("The blocking driver: a drop-in replacement for stomp.py")
    namespace: dict[str, object] = {}
    with run_broker_in_thread() as (host, port):
        exec(code.replace('("127.0.0.1", 61613)', f"({host!r}, {port})"), namespace)
    assert namespace["received"].is_set()  # type: ignore[attr-defined]
    assert "received hello" in capsys.readouterr().out
