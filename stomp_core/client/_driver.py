"""What :class:`~stomp_core.client.ClientBase` needs of its driver, and the waits it makes.

The protocols say what the base reads of a driver's link, core and loggers; the waiters
are the two waits a client makes over the driver's :class:`Signal` (a receipted send, a
request's reply).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from .._events import Message
from .._state import State
from ._addresses import Endpoint
from ._errors import StompError
from ._objects import Signal
from ._received import ReceivedMessage

__all__ = [
    "DEBUG",
    "CoreView",
    "FrameLog",
    "LinkView",
    "Logger",
    "ReceiptWaiter",
    "ReplyWaiter",
]


class CoreView(Protocol):
    @property
    def heartbeat(self) -> tuple[int, int]: ...

    @property
    def state(self) -> State: ...

    @property
    def subscriptions(self) -> Mapping[str, object]: ...

    def offer_messages(self, offer: Callable[[Message], bool]) -> int: ...


class LinkView(Protocol):
    @property
    def endpoint(self) -> Endpoint: ...

    @property
    def generation(self) -> int: ...

    @property
    def ended(self) -> bool: ...

    def end(self, reason: StompError | None, *, abort: bool) -> None: ...

    @property
    def core(self) -> CoreView: ...


class Logger(Protocol):
    """The driver's logger (the core never imports ``logging``), named after it."""

    name: str

    def debug(self, msg: str, /, *args: object) -> None: ...

    def info(self, msg: str, /, *args: object) -> None: ...

    def warning(self, msg: str, /, *args: object) -> None: ...

    def exception(self, msg: str, /, *args: object) -> None: ...


class FrameLog(Protocol):
    """The driver's frame log (``<driver>.frames``): one DEBUG line per frame."""

    def isEnabledFor(self, level: int, /) -> bool: ...

    def debug(self, msg: str, /, *args: object) -> None: ...


#: ``logging.DEBUG`` (the core imports no ``logging``).
DEBUG = 10


class ReplyWaiter:
    """One request's wait: its signal fires once, with the reply or the error."""

    __slots__ = ("outcome", "signal")

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self.outcome: ReceivedMessage | StompError | None = None

    async def wait(self) -> None:
        """Until there is an outcome.  Checked first: it may have come before this
        started (while the request was being sent, or before the driver's timeout
        wrapper ran this), and a signal only wakes those already waiting."""
        while self.outcome is None:
            await self.signal.wait()


class ReceiptWaiter:
    """One receipted send's wait: resolved once, with ``None`` (its RECEIPT came) or the
    error that ended the wait; its signal fires then."""

    __slots__ = ("error", "resolved", "signal")

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self.resolved = False
        self.error: StompError | None = None

    def resolve(self, error: StompError | None) -> None:
        """Resolve it (once: the session hands each waiter out once)."""
        self.resolved = True
        self.error = error
        self.signal.fire()

    async def wait(self) -> None:
        """Until resolved (checked first: it may be resolved before this started)."""
        while not self.resolved:
            await self.signal.wait()
