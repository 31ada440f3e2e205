"""Draw stomp_core's session state machine from its transition tables (Graphviz DOT).

The documentation build calls :func:`write_state_diagram`; the page
``embedding.md`` includes the file it writes.  Kept small on purpose: if the tables in
``stomp_core._state`` are renamed, only :func:`transitions` needs to follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from stomp_core import _state


def transitions() -> Iterator[tuple[str, str, str, str, str]]:
    """Yield ``(role, state, direction, command, next state)`` for every table entry."""
    for direction, table in (("send", _state.SEND), ("receive", _state.RECEIVE)):
        for (role, state), allowed in table.items():
            for command, after in allowed.items():
                yield role.value, state.value, direction, command, after.value


def dot_source() -> str:
    """The DOT text: one cluster per role, one edge per (state, next state, direction)."""
    lines = [
        "digraph stomp_session {",
        '  rankdir=LR; node [shape=box, style=rounded, fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
    ]
    by_role: dict[str, dict[tuple[str, str, str], list[str]]] = {}
    for role, state, direction, command, after in transitions():
        if command == _state.EXTENSION:
            command = "(extension)"
        edges = by_role.setdefault(role, {})
        edges.setdefault((state, after, direction), []).append(command)
    for role, edges in by_role.items():
        lines.append(f'  subgraph cluster_{role} {{ label="{role.upper()} role";')
        states = {s for key in edges for s in key[:2]}
        for state in sorted(states):
            lines.append(f'    "{role}.{state}" [label="{state.upper()}"];')
        for (state, after, direction), commands in sorted(edges.items()):
            style = "solid" if direction == "send" else "dashed"
            label = ("sends " if direction == "send" else "receives ") + ", ".join(sorted(commands))
            lines.append(
                f'    "{role}.{state}" -> "{role}.{after}" [label="{label}", style={style}];'
            )
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_state_diagram(path: Path) -> None:
    """Write :func:`dot_source` to ``path`` (only when it changed, to keep rebuilds quick)."""
    text = dot_source()
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
