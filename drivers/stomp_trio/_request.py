"""Request/reply for :class:`~stomp_trio.Client`: ``request()`` and ``reply()``.

The pure part (reply queue, correlation ids, which reply wakes which request, late
replies) is :class:`stomp_core.client.PendingRequests`; this module waits and logs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import trio

from stomp_core import Event, Subscribe
from stomp_core.client import (
    CORRELATION_ID,
    Ignored,
    PendingRequests,
    ReceivedMessage,
    reply_destination,
    reply_headers,
)

__all__ = ["Replies", "reply"]

log = logging.getLogger("stomp_trio")


class SendFn(Protocol):
    """``Client.send``."""

    def __call__(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> Awaitable[None]: ...


class ReplyWaiter:
    """One request's wait: set once, with the reply."""

    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.reply: ReceivedMessage | None = None


class Replies:
    """A client's pending requests and the subscription their replies come on.

    Args:
        subscribe: sends a SUBSCRIBE (without waiting for a receipt).
        server: the ``server`` header of the last CONNECTED.
    """

    def __init__(
        self, subscribe: Callable[[Subscribe], Awaitable[object]], server: Callable[[], str | None]
    ) -> None:
        # The token names a queue private to this connection: unique, and not guessable.
        self._pending: PendingRequests[ReplyWaiter] = PendingRequests(uuid.uuid4().hex)
        self._subscribe = subscribe
        self._server = server
        self._lock = trio.Lock()

    def take(self, event: Event) -> bool:
        """Hand ``event`` to its request if it is a reply (``True``), else ``False``."""
        outcome = self._pending.route(event)
        if outcome is None:
            return False
        if isinstance(outcome, Ignored):
            log.debug("%s", outcome.why)
        else:
            outcome.waiter.reply = ReceivedMessage(outcome.event)
            outcome.waiter.event.set()
        return True

    async def request(
        self,
        send: SendFn,
        destination: str,
        body: bytes | str,
        *,
        timeout: float,  # noqa: ASYNC109 - the API of both drivers (issue 17)
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> ReceivedMessage:
        """See :meth:`stomp_trio.Client.request`."""
        async with self._lock:  # one SUBSCRIBE, written before any request
            subscribe = self._pending.subscription(self._server())
            if subscribe is not None:
                try:
                    await self._subscribe(subscribe)
                except BaseException:
                    self._pending.subscribe_failed()
                    raise
        waiter = ReplyWaiter()
        request_headers = self._pending.start(waiter, headers)
        try:
            await send(destination, body, content_type=content_type, headers=request_headers)
            with trio.move_on_after(timeout):
                await waiter.event.wait()
            if waiter.reply is None:
                raise trio.TooSlowError(
                    f"no reply to the request sent to {destination!r} within {timeout:g} s"
                )
            return waiter.reply
        finally:
            # From now on a reply to it is dropped (debug log).
            self._pending.give_up(request_headers[CORRELATION_ID])


async def reply(
    send: SendFn,
    message: ReceivedMessage,
    body: bytes | str,
    *,
    content_type: str | None,
    headers: Mapping[str, str] | None,
    receipt: bool,
) -> None:
    """See :meth:`stomp_trio.Client.reply`."""
    await send(
        reply_destination(message.event),
        body,
        content_type=content_type,
        headers=reply_headers(message.event, headers),
        receipt=receipt,
    )
