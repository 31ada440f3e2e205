"""A blocking STOMP client with stomp.py's public API, built on :mod:`stomp_core`.

``import stomp`` and code written for stomp.py 8.x keeps working: the connection classes,
listeners, ``stomp.utils``, ``stomp.logging`` (and 9.0's ``stomp.log``) and the command-line
client have the same names and signatures.  What differs is what stomp.py got wrong: no
frame is lost, heart-beats are never stalled by a slow listener, every wait has a deadline,
TLS verifies certificates by default, and passcodes never reach the log.
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import Any

from . import (
    _installed,  # noqa: F401 - first: refuses a package pip mixed with stomp.py's files
    adapter,
    colours,
    connect,
    constants,
    exception,
    listener,
    log,
    logging,
    protocol,
    transport,
    utils,
)
from .connect import StompConnection10, StompConnection11, StompConnection12
from .listener import ConnectionListener, PrintingListener, StatsListener, WaitingListener

Connection10 = StompConnection10
Connection11 = StompConnection11
Connection12 = StompConnection12
#: The default connection class speaks STOMP 1.1, as in stomp.py.
Connection = StompConnection11

try:
    #: The version of this distribution (one version for the core and every driver).
    __version__: str = _metadata.version("stomp-sansio")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Connection",
    "Connection10",
    "Connection11",
    "Connection12",
    "ConnectionListener",
    "PrintingListener",
    "StatsListener",
    "StompConnection10",
    "StompConnection11",
    "StompConnection12",
    "WSConnection",
    "WSStompConnection",
    "WaitingListener",
    "__version__",
    "adapter",
    "colours",
    "connect",
    "constants",
    "exception",
    "listener",
    "log",
    "logging",
    "protocol",
    "transport",
    "tuple_version",
    "utils",
]


def __getattr__(name: str) -> Any:
    # WebSocket needs wsproto, an optional extra: import it only when asked for.
    if name in ("WSConnection", "WSStompConnection"):
        from .adapter.ws import WSStompConnection

        return WSStompConnection
    raise AttributeError(f"module 'stomp' has no attribute {name!r}")


def tuple_version() -> tuple[int, ...]:
    """The version as a tuple of ints, e.g. ``(0, 1, 0)``.

    stomp.py's version replaces the module's ``__version__`` with the tuple and returns
    nothing; this one does the same replacement (for compatibility) and also returns it.
    """
    global __version__
    value = tuple(int(part) for part in str(__version__).split(".") if part.isdigit())
    __version__ = value  # type: ignore[assignment]
    return value
