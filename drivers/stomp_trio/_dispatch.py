"""The receiving side of a client: the core's events, routed to where they belong.

:class:`Dispatcher.drain` is the event pump of ``stomp_core/_connection.py``'s call order
(step 1: drain ``next_event()`` after every input).  It runs synchronously in whichever
task fed the core -- the link's reader or timer, or a consumer that made room in a full
buffer -- and routes each event:

* MESSAGE to its subscription's bounded buffer; a full buffer *holds* the message on the
  link, which pauses reading (back-pressure, see ``_link.py``) until there is room;
* RECEIPT and ERROR to the waiter of their receipt id (conformance 89, 91);
* terminal events (ERROR, heart-beat and DISCONNECT timeouts, EOF) end the link.

Frames the client has no use for are never dropped silently (conformance 88, 89): a
MESSAGE for a subscription the client does not know, and a RECEIPT nobody asked for, go
to the ``on_unhandled`` hook of :func:`~stomp_trio.open_connection` (default: a warning
on the ``stomp_trio`` logger).  Frames that are expected and harmless are only logged at
debug level: MESSAGEs still in flight for a subscription we just unsubscribed, and late
RECEIPTs for waits that were cancelled or timed out.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import stomp_core
from stomp_core import NEED_DATA, RemoteProtocolError
from stomp_core.client import (
    BrokerError,
    ProtocolViolation,
    UnhandledHook,
    close_reason,
    route_message,
)

from ._subscription import Message, Subscription

if TYPE_CHECKING:
    from ._connection import Client
    from ._link import Link

__all__ = ["Dispatcher", "UnhandledHook"]

log = logging.getLogger("stomp_trio")

#: Core events after which the link is over (ERROR is handled on its own).
_LINK_ENDING = (
    stomp_core.HeartbeatTimeout,
    stomp_core.DisconnectTimeout,
    stomp_core.ConnectionClosed,
)


class Dispatcher:
    """Routes one client's received events.

    Args:
        client: the client (messages refer to it, for acks).
        subscriptions: the client's live subscriptions by id; the client adds and
            removes entries, the dispatcher only reads them.
        on_unhandled: the user's hook, or ``None`` to log a warning.

    Attributes:
        heartbeats_received: heart-beats from the broker, over all links.
    """

    def __init__(
        self,
        client: Client,
        subscriptions: dict[str, Subscription],
        on_unhandled: UnhandledHook | None,
    ) -> None:
        self._client = client
        self._subscriptions = subscriptions
        self._on_unhandled = on_unhandled
        self.heartbeats_received = 0

    def drain(self, link: Link) -> None:
        """Dispatch every event the core has, stopping while a message is held back."""
        core = link.core
        while not link.ended:
            if link.held is not None:
                sub, message = link.held
                if sub._offer(message):
                    link.release()
                elif core.state is stomp_core.State.CONNECTED or (
                    core.state is stomp_core.State.DISCONNECTING
                ):
                    return  # paused until the consumer makes room
            try:
                event = core.next_event()
            except RemoteProtocolError as exc:
                link.end(ProtocolViolation(exc))
                return
            if event is NEED_DATA or not isinstance(event, stomp_core.Event):
                if core.state is stomp_core.State.CLOSED and link.closing:
                    link.end(None)  # the RECEIPT of our DISCONNECT arrived
                return
            self._dispatch(link, event)

    def _dispatch(self, link: Link, event: stomp_core.Event) -> None:
        if isinstance(event, stomp_core.Message):
            self._route(link, event)
        elif isinstance(event, stomp_core.Receipt):
            waiter = link.waiters.pop(event.receipt_id, None)
            if waiter is not None:
                waiter.resolve(None)
            elif (what := link.leftovers.receipt(event)) is not None:
                self._unhandled(event, what)
            else:
                # The DISCONNECT's (the core acts on it), or a wait given up.
                log.debug("RECEIPT %r arrived after its wait ended", event.receipt_id)
        elif isinstance(event, stomp_core.HeartbeatReceived):
            self.heartbeats_received += 1
        elif isinstance(event, stomp_core.Error):
            error = BrokerError.from_event(event)
            log.warning("the broker sent ERROR: %s", error.message or "(no message)")
            if event.receipt_id is not None:
                waiter = link.waiters.pop(event.receipt_id, None)
                if waiter is not None:
                    waiter.resolve(error)
            link.end(error)
        elif isinstance(event, _LINK_ENDING):
            if isinstance(event, stomp_core.ConnectionClosed) and event.clean and link.closing:
                link.end(None)
            else:
                link.end(close_reason(event))

    def _route(self, link: Link, event: stomp_core.Message) -> None:
        # By id, or by destination from a 1.0 broker that left the id out (conformance 87).
        sub = route_message(event, self._subscriptions)
        if sub is None:
            if (what := link.leftovers.message(event)) is not None:
                self._unhandled(event, what)
            else:
                # Sent before the broker saw our UNSUBSCRIBE: expected, and the broker
                # redelivers it if it needed an ack.
                log.debug("dropped MESSAGE %s: unsubscribed", event.message_id)
            return
        if sub.closed:
            # Closed while the client shuts down: nobody reads it any more, and the
            # broker redelivers what was not acknowledged.
            log.debug("dropped MESSAGE %s: subscription %r is closed", event.message_id, sub.id)
            return
        message = Message(self._client, link, sub, event)
        if not sub._offer(message):
            link.hold(sub, message)

    def _unhandled(self, event: stomp_core.Event, what: str) -> None:
        """Hand ``event`` to the user's hook (conformance 88, 89), or log a warning."""
        hook = self._on_unhandled
        if hook is None:
            log.warning("unhandled %s", what)
            return
        try:
            hook(event)
        except Exception:
            # The hook runs inside the connection's own tasks: its failure must not
            # tear the connection down.
            log.exception("on_unhandled raised for %s", what)
