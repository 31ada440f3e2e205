"""Received frames: which subscription a MESSAGE goes to, and what counts as unhandled."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from .._events import Event, Message, Receipt

__all__ = ["Leftovers", "UnhandledHook", "route_message"]

#: ``on_unhandled(event)``: the drivers call it with a MESSAGE or RECEIPT the client cannot
#: place (conformance 88, 89), e.g. a MESSAGE for a subscription it does not know.
UnhandledHook = Callable[[Event], None]


class _Subscribed(Protocol):
    @property
    def destination(self) -> str: ...


_S = TypeVar("_S", bound=_Subscribed)


def route_message(event: Message, subscriptions: Mapping[str, _S]) -> _S | None:
    """The subscription a MESSAGE belongs to, or ``None`` (conformance 87, 88).

    By the ``subscription`` header; a STOMP 1.0 broker may leave it out, and then the
    (first) subscription to the MESSAGE's destination takes it.

    Args:
        event: the MESSAGE.
        subscriptions: the client's live subscriptions by id, in subscription order.
    """
    if event.subscription is not None:
        return subscriptions.get(event.subscription)
    return next((s for s in subscriptions.values() if s.destination == event.destination), None)


class Leftovers:
    """Frames one connection may still receive although nobody waits for them.

    Such frames are expected, so the drivers only debug-log them instead of handing them
    to ``on_unhandled`` (conformance 88, 89): the RECEIPT of DISCONNECT (the core acts on
    it), RECEIPTs of waits that timed out or were cancelled, and MESSAGEs the broker sent
    before it saw our UNSUBSCRIBE.  One per connection: ids of an old one mean nothing.
    """

    __slots__ = ("_receipts", "_unsubscribed")

    def __init__(self) -> None:
        self._receipts: set[str] = set()
        self._unsubscribed: set[str] = set()

    def expect_receipt(self, receipt_id: str) -> None:
        """A RECEIPT for ``receipt_id`` may arrive with no waiter: it is not unhandled."""
        self._receipts.add(receipt_id)

    def unsubscribed(self, subscription_id: str) -> None:
        """UNSUBSCRIBE went out (or is about to): MESSAGEs may still be in flight."""
        self._unsubscribed.add(subscription_id)

    def receipt(self, event: Receipt) -> str | None:
        """For a RECEIPT no waiter took: ``None`` if expected (consumed now), else what
        to report as unhandled."""
        if event.receipt_id in self._receipts:
            self._receipts.discard(event.receipt_id)
            return None
        return f"RECEIPT {event.receipt_id!r} that nobody asked for"

    def message(self, event: Message) -> str | None:
        """For a MESSAGE no subscription took: ``None`` if in flight for a subscription
        just left, else what to report as unhandled."""
        if event.subscription is not None and event.subscription in self._unsubscribed:
            return None
        what = event.subscription or event.destination
        return f"MESSAGE {event.message_id!r} for unknown {what!r}"
