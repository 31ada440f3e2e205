"""The callables a driver's client passes down to its subscriptions, messages and
transactions (:class:`ClientHooks`), so that those objects never call up into it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .._events import FrameEvent

__all__ = ["ClientHooks", "SendFrame"]

S = TypeVar("S")  # the driver's Subscription
M = TypeVar("M")  # the driver's Message
X = TypeVar("X")  # the driver's Transaction

#: ``await send(build, receipt, generation)``: the client's send path.  ``build`` makes
#: the frame from a receipt id (``None`` without ``receipt``); ``generation`` pins the
#: connection the frame must go out on (``None``: the live one).  Returns the generation
#: of the connection it went out on.
SendFrame = Callable[[Callable[[str | None], FrameEvent], bool, "int | None"], Awaitable[int]]


async def _no_checkpoint() -> None:
    """No cancellation point: asyncio cancels only where a task really waits."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientHooks(Generic[S, M, X]):
    """What a client's objects ask of it.

    Attributes:
        send: the send path (:data:`SendFrame`).
        subscribe: ``await subscribe(subscription, receipt)``: SUBSCRIBE on entering.
        unsubscribe: ``await unsubscribe(subscription, receipt)``: UNSUBSCRIBE now.
        acknowledge: ``await acknowledge(message, nack, transaction, receipt)``.
        room: ``room(subscription)``: a full buffer has room again (reading may resume).
        generation: ``generation()``: the number of the live connection.
        unsubscribe_soon: ``unsubscribe_soon(subscription)``: forget it and queue its
            UNSUBSCRIBE without waiting (a SUBSCRIBE that failed or was cancelled, an
            exit that must not block).
        queue: ``queue(event, generation)``: hand ``event`` to that connection, to be
            written in the background; ``False`` if it is gone or the core refuses it.
        checkpoint: ``await checkpoint()``: the driver's cancellation point, taken where
            a call would otherwise return without awaiting anything (trio's rule that
            every async call may be cancelled); by default none.
    """

    send: SendFrame
    subscribe: Callable[[S, bool], Awaitable[None]]
    unsubscribe: Callable[[S, bool], Awaitable[None]]
    acknowledge: Callable[[M, bool, X | str | None, bool], Awaitable[None]]
    room: Callable[[S], None]
    generation: Callable[[], int]
    unsubscribe_soon: Callable[[S], None]
    queue: Callable[[FrameEvent, int], bool]
    checkpoint: Callable[[], Awaitable[None]] = _no_checkpoint
