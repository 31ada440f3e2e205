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


def test_the_diagrams_draw_every_transition_of_the_tables() -> None:
    count = 0
    for direction, table in (("sends", _state.SEND), ("receives", _state.RECEIVE)):
        for (role, state), allowed in table.items():
            dot = state_diagram.dot_source(role.value).splitlines()
            for command, after in allowed.items():
                name = "(extension)" if command == _state.EXTENSION else command
                if after is state:  # listed inside the state's box
                    where = [line for line in dot if line.startswith(f'  "{state.value}" [')]
                else:
                    edge = f'  "{state.value}" -> "{after.value}" '
                    where = [line for line in dot if line.startswith(edge)]
                assert any(f"{direction} " in line and name in line for line in where), (
                    role,
                    state,
                    command,
                )
                count += 1
    assert count > 30  # both roles, both directions


def test_the_diagrams_have_one_edge_per_change_of_state() -> None:
    assert state_diagram.roles() == sorted(role.value for role in _state.Role)
    for role in state_diagram.roles():
        changes = {
            (state, after, direction)
            for of_role, state, direction, _command, after in state_diagram.transitions()
            if of_role == role and state != after
        }
        assert changes
        assert state_diagram.dot_source(role).count(" -> ") == len(changes)


def test_write_state_diagrams_writes_one_file_per_role(tmp_path: Path) -> None:
    written = state_diagram.write_state_diagrams(tmp_path / "sub")
    assert [path.name for path in written] == [
        "state_machine_client.dot",
        "state_machine_server.dot",
    ]
    for path, role in zip(written, ["client", "server"], strict=True):
        assert path.read_text() == state_diagram.dot_source(role)


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
