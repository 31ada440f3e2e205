"""Exceptions raised by the core.

The split follows h11: a :class:`LocalProtocolError` means *you* asked for something
illegal (nothing was queued, the connection state is unchanged, you may carry on); a
:class:`RemoteProtocolError` means the *peer* broke the protocol (the connection is now
in the sticky ``ERROR`` state).  No other exception type may escape the core: anything
else is a bug.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs more
# than the rest of this module (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class _ErrorFrame(Protocol):
        # What an ERROR frame offers (a :class:`~stomp_core.Frame`): described here
        # rather than imported, because ``_frame.py`` raises these errors (no import
        # cycle).
        @property
        def command(self) -> str: ...

        @property
        def headers(self) -> tuple[tuple[str, str], ...]: ...

        @property
        def body(self) -> bytes: ...


class ProtocolError(Exception):
    """Base class of every error the core raises.

    Attributes:
        error_frame: for a :class:`RemoteProtocolError` seen in the SERVER role, the
            ERROR frame that was queued for the peer (already in ``data_to_send``);
            ``None`` otherwise.
    """

    def __init__(self, message: str, *, error_frame: _ErrorFrame | None = None) -> None:
        super().__init__(message)
        self.error_frame: _ErrorFrame | None = error_frame

    @property
    def message(self) -> str:
        """The human-readable reason."""
        return str(self.args[0]) if self.args else ""


class LocalProtocolError(ProtocolError):
    """The caller asked for something the protocol forbids; nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids; the connection is broken."""
