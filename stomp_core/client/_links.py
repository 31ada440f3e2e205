"""Decisions the async drivers' links make alike, without the I/O they decide about.

A driver's link owns a socket and a timer; what to write next, when to read although
paused and what a failed write means are decided here, once, for both drivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._errors import ConnectionLost

__all__ = [
    "READ_AHEAD",
    "exception_to_raise",
    "reads_ahead",
    "rearms",
    "starts_deadline",
    "unsent_buffers",
    "write_timed_out",
]

#: While reading is paused (a subscription buffer is full), a link still reads while a
#: writer waits for the broker, until the core holds this many unparsed bytes: a broker
#: blocked writing to us may stop reading our frames (a consumer's ACK) until we read
#: (issue 14.4).  The write deadline bounds the rest.
READ_AHEAD = 1024 * 1024


def reads_ahead(*, paused: bool, writing: bool, eof: bool, buffered: int) -> bool:
    """Whether a link reads into the core (delivering nothing) although ``paused``.

    Args:
        paused: reading is paused for back-pressure.
        writing: a writer waits for the broker to take our bytes.
        eof: the broker closed its side (nothing more to read).
        buffered: the core's unparsed bytes (``Connection.receive_buffered``).
    """
    return paused and writing and not eof and buffered < READ_AHEAD


def rearms(deadline: float | None, armed: float | None) -> bool:
    """Whether a link re-arms its timer, armed for ``armed`` (``None``: not armed), for
    the core's new ``deadline`` (``get_timer()``): only for an earlier one.

    Most inputs only move deadlines later (a frame written or read restarts a heart-beat
    interval); the armed timer then fires first, finds nothing due and re-arms from the
    core, instead of being re-armed for every frame.
    """
    return deadline is not None and (armed is None or deadline < armed)


def unsent_buffers(buffers: Sequence[bytes | memoryview], sent: int) -> list[bytes | memoryview]:
    """What remains of ``buffers`` once their first ``sent`` bytes are written (a partial
    ``writev``): the buffers not reached, the one cut through as a view (never a copy)."""
    for index, buffer in enumerate(buffers):
        size = len(buffer)
        if sent < size:
            rest: list[bytes | memoryview] = [memoryview(buffer)[sent:]] if sent else [buffer]
            rest += buffers[index + 1 :]
            return rest
        sent -= size
    return []


def write_timed_out(timeout: float) -> ConnectionLost:
    """The reason a link ends when a write took longer than ``write_timeout``."""
    return ConnectionLost(
        f"writing to the broker took longer than {timeout:g} s "
        "(write_timeout): it reads too slowly or not at all"
    )


def _leaves(error: BaseException) -> list[BaseException] | None:
    inner: Any = getattr(error, "exceptions", None)
    if not isinstance(inner, tuple):
        return None
    found: list[BaseException] = []
    for exc in inner:
        for leaf in _leaves(exc) or [exc]:
            if not any(leaf is seen for seen in found):
                found.append(leaf)
    return found


def exception_to_raise(group: BaseException, fatal: BaseException | None) -> BaseException | None:
    """The one exception an ``async with`` block raises for an exception group.

    The body's own exception wins; the client's ``fatal`` error (raised by its
    supervisor, which cancelled the body) comes out when the body had none of its own.
    Nested groups are flattened, each exception counted once.

    Returns:
        that exception, or ``None``: ``group`` is no group, or holds several exceptions
        of the body's (then the group is raised as it is).
    """
    leaves = _leaves(group)
    if leaves is None:
        return None
    others = [exc for exc in leaves if exc is not fatal]
    if len(others) == 1:
        return others[0]
    if not others and leaves:
        return leaves[0]
    return None


def starts_deadline(command: str) -> bool:
    """Whether sending a frame of ``command`` can bring the core's next deadline earlier.

    CONNECT (or STOMP) starts the wait for CONNECTED (conformance 58) and DISCONNECT the
    wait for its RECEIPT (conformance 84); any other frame only moves our heart-beat
    deadline later.  So a link asks the core for its timer after those three alone.
    """
    return command in _DEADLINE_COMMANDS


_DEADLINE_COMMANDS = frozenset({"CONNECT", "STOMP", "DISCONNECT"})
