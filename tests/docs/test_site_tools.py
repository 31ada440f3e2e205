"""The documentation build's own tools: the state diagram and the internal link check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stomp_core import _state

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

import check_links  # noqa: E402
import state_diagram  # noqa: E402


def test_the_diagram_draws_every_transition_of_the_tables() -> None:
    dot = state_diagram.dot_source()
    count = 0
    for direction, table in (("sends", _state.SEND), ("receives", _state.RECEIVE)):
        for (role, state), allowed in table.items():
            for command, after in allowed.items():
                name = "(extension)" if command == _state.EXTENSION else command
                edge = f'"{role.value}.{state.value}" -> "{role.value}.{after.value}"'
                lines = [line for line in dot.splitlines() if edge in line and direction in line]
                assert any(name in line for line in lines), (role, state, command)
                count += 1
    assert count > 30  # both roles, both directions


def test_the_diagram_has_no_transition_the_tables_lack() -> None:
    edges = {
        (role, state, after)
        for role, state, _direction, _command, after in state_diagram.transitions()
    }
    drawn = sum(" -> " in line for line in state_diagram.dot_source().splitlines())
    # One edge per (role, state, next state, direction), at most one per table entry.
    assert len(edges) <= drawn <= len(list(state_diagram.transitions()))


def test_write_state_diagram_writes_the_source(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.dot"
    state_diagram.write_state_diagram(target)
    assert target.read_text() == state_diagram.dot_source()


def _site(tmp_path: Path, link: str) -> Path:
    (tmp_path / "index.html").write_text(
        f'<html><body><h1 id="top">t</h1><a href="{link}">x</a>'
        '<a href="https://example.invalid/never-fetched">ext</a></body></html>'
    )
    (tmp_path / "page.html").write_text('<html><body><p id="here">p</p></body></html>')
    return tmp_path


@pytest.mark.parametrize("link", ["page.html", "page.html#here", "#top", "./"])
def test_check_links_accepts_existing_targets(tmp_path: Path, link: str) -> None:
    assert check_links.broken_links(_site(tmp_path, link)) == []


@pytest.mark.parametrize(
    ("link", "why"),
    [("missing.html", "no such file"), ("page.html#gone", "no such anchor"), ("#gone", "anchor")],
)
def test_check_links_reports_broken_targets(tmp_path: Path, link: str, why: str) -> None:
    broken = check_links.broken_links(_site(tmp_path, link))
    assert len(broken) == 1
    assert link in broken[0]
    assert why in broken[0]
