"""Draw stomp_core's session state machine from its transition tables (Graphviz DOT).

The documentation build calls :func:`write_state_diagrams`; the page ``embedding.md``
includes the files it writes, one per role.  Kept small on purpose: if the tables in
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


def roles() -> list[str]:
    """The roles the tables know, in a stable order."""
    return sorted({role for role, *_ in transitions()})


def dot_source(role: str) -> str:
    """The DOT text of one role: one edge per (state, next state, direction)."""
    edges: dict[tuple[str, str, str], list[str]] = {}
    for of_role, state, direction, command, after in transitions():
        if of_role == role:
            name = "(extension)" if command == _state.EXTENSION else command
            edges.setdefault((state, after, direction), []).append(name)
    lines = [
        f"digraph stomp_{role} {{",
        '  rankdir=TB; node [shape=box, style=rounded, fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
    ]

    def describe(direction: str, commands: list[str]) -> str:
        # Three commands a line, so that long labels stay readable.
        names = sorted(commands)
        rows = [", ".join(names[i : i + 3]) for i in range(0, len(names), 3)]
        return ("sends " if direction == "send" else "receives ") + "\\n".join(rows)

    # Frames that keep the state are listed inside its box (Graphviz draws the labels of
    # several self-loops on top of each other); the others are edges, dashed if received.
    for state in sorted({s for key in edges for s in key[:2]}):
        kept = [describe(d, c) for (s, a, d), c in sorted(edges.items()) if s == a == state]
        label = "\\n".join([state.upper(), *kept])
        lines.append(f'  "{state}" [label="{label}"];')
    for (state, after, direction), commands in sorted(edges.items()):
        if state != after:
            style = "solid" if direction == "send" else "dashed"
            label = describe(direction, commands)
            lines.append(f'  "{state}" -> "{after}" [label="{label}", style={style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_state_diagrams(directory: Path) -> list[Path]:
    """Write ``state_machine_<role>.dot`` for each role (only the files that changed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for role in roles():
        path = directory / f"state_machine_{role}.dot"
        text = dot_source(role)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
