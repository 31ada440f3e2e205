"""A blocking STOMP client with stomp.py's public API, built on :mod:`stomp_core`.

``import stomp`` and code written for stomp.py 8.x keeps working: the connection classes,
listeners, ``stomp.utils``, ``stomp.logging`` (and 9.0's ``stomp.log``) and the command-line
client have the same names and signatures.  What differs is what stomp.py got wrong: no
frame is lost, heart-beats are never stalled by a slow listener, every wait has a deadline,
TLS verifies certificates by default, and passcodes never reach the log.
"""

from __future__ import annotations

from stomp_core import __version__ as _distribution_version

from . import (
    _installed,  # noqa: F401 - first: refuses a package pip mixed with stomp.py's files
    adapter,
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

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


Connection10 = StompConnection10
Connection11 = StompConnection11
Connection12 = StompConnection12
#: The default connection class speaks STOMP 1.1, as in stomp.py.
Connection = StompConnection11

#: The stomp.py release whose public API this package implements.  Code written for
#: stomp.py branches on this (``stomp.__version__ >= "8"``, ``tuple_version()``), so it
#: names the API level, not this distribution: see :data:`sansio_version`.
__version__: str = "9.0.0"
#: The version of this distribution, stomp-sansio (one version for the core and every
#: driver; ``stomp_core.__version__``).
sansio_version: str = _distribution_version

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
    "sansio_version",
    "transport",
    "tuple_version",
    "utils",
]


def __getattr__(name: str) -> Any:
    # WebSocket needs wsproto, an optional extra: import it only when asked for.
    if name in ("WSConnection", "WSStompConnection"):
        from .adapter.ws import WSStompConnection

        return WSStompConnection
    if name == "colours":
        # The command-line client's colours ask the platform module, which costs more
        # than they are worth to every other program (issue 13: import time).  Not
        # ``from . import``: that asks this function for the attribute again.
        import importlib

        return importlib.import_module(f"{__name__}.colours")
    raise AttributeError(f"module 'stomp' has no attribute {name!r}")


def tuple_version() -> tuple[int, ...]:
    """Turn ``stomp.__version__`` into a tuple of ints, e.g. ``(9, 0, 0)``, and return it.

    stomp.py's version replaces the module's ``__version__`` with the tuple (a second
    call leaves it alone) and returns nothing; this one does the same and also returns
    the tuple.
    """
    global __version__
    current: Any = __version__
    if not isinstance(current, tuple):
        digits = "".join(c for c in str(current) if c.isdigit() or c == ".")
        current = tuple(int(part) for part in digits.split(".") if part)
        __version__ = current
    return tuple(current)
