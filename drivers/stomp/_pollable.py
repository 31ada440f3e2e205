"""stomp.utils.PollableQueue, in a module of its own so that ``import stomp`` does not
import :mod:`queue` for a class this package does not use itself (issue 13: import time).
"""

from __future__ import annotations

import queue
import socket

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PollableQueue"]


class PollableQueue(queue.Queue):  # type: ignore[type-arg]  # any item, as in stomp.py
    """A :class:`queue.Queue` that ``select``/``selectors`` can watch (it has a ``fileno``).

    Each :meth:`put` also writes one byte to a socket pair and each :meth:`get` reads
    one back, so the read end is readable exactly while items wait.  stomp.py's TLS
    transport used one to hand frames to its I/O thread; this package's transport does
    not need it, but code built on it keeps working.
    """

    def __init__(self) -> None:
        super().__init__()
        self._signal_out, self._signal_in = socket.socketpair()

    def fileno(self) -> int:
        """The descriptor to watch for readability."""
        return self._signal_in.fileno()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Queue ``item`` and make :meth:`fileno` readable."""
        super().put(item, block, timeout)
        self._signal_out.send(b"\x01")

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Take the oldest item (waiting for one, like :meth:`queue.Queue.get`)."""
        item = super().get(block, timeout)
        self._signal_in.recv(1)
        return item

    def shutdown(self, immediate: bool = False) -> None:
        """Close the socket pair (the queue is not used any more)."""
        self._signal_out.close()
        self._signal_in.close()


# Where stomp.py defines it, and where users look it up.
PollableQueue.__module__ = "stomp.utils"
