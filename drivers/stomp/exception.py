"""Exceptions raised by the stomp.py-compatible driver.

The names and the hierarchy are stomp.py's, so ``except stomp.exception.ConnectFailedException``
keeps working.  Each class also carries a docstring saying when *this* implementation raises it.
"""

from __future__ import annotations

__all__ = [
    "ConnectFailedException",
    "ConnectionClosedException",
    "InterruptedException",
    "NotConnectedException",
    "StompException",
]


class StompException(Exception):
    """Base class of every exception this package raises on purpose."""


class ConnectionClosedException(StompException):
    """The transport reached end of file (used inside the reader loop)."""


class NotConnectedException(StompException):
    """A frame was to be sent, but there is no open transport connection."""


class ConnectFailedException(StompException):
    """Connecting failed.

    Raised when every host and retry failed, when ``connect(wait=True)`` did not see
    CONNECTED before its deadline, or when the broker answered CONNECT with an ERROR frame.
    """


class InterruptedException(StompException):
    """A read was interrupted (kept for compatibility; this driver retries internally)."""
