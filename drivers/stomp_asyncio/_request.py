"""Request/reply for :class:`~stomp_asyncio.Client`: ``request()`` and ``reply()``.

The pure part (reply queue, correlation ids, which reply wakes which request, late
replies) is :class:`stomp_core.client.PendingRequests`; this module waits and logs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

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

log = logging.getLogger("stomp_asyncio")


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
        self._pending: PendingRequests[asyncio.Future[ReceivedMessage]] = PendingRequests(
            uuid.uuid4().hex
        )
        self._subscribe = subscribe
        self._server = server
        self._lock = asyncio.Lock()

    def take(self, event: Event) -> bool:
        """Hand ``event`` to its request if it is a reply (``True``), else ``False``."""
        outcome = self._pending.route(event)
        if outcome is None:
            return False
        if isinstance(outcome, Ignored):
            log.debug("%s", outcome.why)
        elif not outcome.waiter.done():
            outcome.waiter.set_result(ReceivedMessage(outcome.event))
        return True

    async def request(
        self,
        send: SendFn,
        destination: str,
        body: bytes | str,
        *,
        timeout: float,
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> ReceivedMessage:
        """See :meth:`stomp_asyncio.Client.request`."""
        async with self._lock:  # one SUBSCRIBE, written before any request
            subscribe = self._pending.subscription(self._server())
            if subscribe is not None:
                try:
                    await self._subscribe(subscribe)
                except BaseException:
                    self._pending.subscribe_failed()
                    raise
        waiter: asyncio.Future[ReceivedMessage] = asyncio.get_running_loop().create_future()
        request_headers = self._pending.start(waiter, headers)
        try:
            await send(destination, body, content_type=content_type, headers=request_headers)
            try:
                return await asyncio.wait_for(waiter, timeout)
            except asyncio.TimeoutError:
                raise asyncio.TimeoutError(
                    f"no reply to the request sent to {destination!r} within {timeout:g} s"
                ) from None
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
    """See :meth:`stomp_asyncio.Client.reply`."""
    await send(
        reply_destination(message.event),
        body,
        content_type=content_type,
        headers=reply_headers(message.event, headers),
        receipt=receipt,
    )
