"""Frames: deterministic ids, the CONNECT and ACK/NACK built from user arguments, and the
headers of a received MESSAGE or ERROR as users see them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .._convert import event_headers
from .._events import Ack, Connect, Error, Message, Nack, Send
from .._frame import Headers
from ._bodies import encode_body

__all__ = [
    "DEFAULT_VHOST",
    "IdCounter",
    "ack_for",
    "build_ack",
    "build_connect",
    "message_headers",
    "send_builder",
]

#: The CONNECT ``host`` header sent when the user names no virtual host.  Spec 1.2
#: "CONNECT" makes the header required and leaves its meaning to the broker: RabbitMQ maps
#: it to a vhost and a stock install has only ``/`` (any other name is refused with
#: "Virtual host ... access denied"); ActiveMQ, Artemis and the embedded broker ignore it.
#: So ``/`` works everywhere, where the dialled host name works only on brokers that
#: ignore the header.  The blocking driver sends the same for 1.1 (``stomp/protocol.py``),
#: so producers and consumers of every driver meet on the same vhost.
DEFAULT_VHOST = "/"

# CONNECT headers the drivers set from their own parameters; extra headers may not repeat
# them (a second ``login`` would be ignored by the broker, spec 1.2 "Repeated Header
# Entries", which would hide a mistake).
_RESERVED_CONNECT_HEADERS = frozenset(
    {"accept-version", "host", "login", "passcode", "heart-beat", "receipt"}
)


class IdCounter:
    """Deterministic ids: ``prefix`` followed by 1, 2, 3, ...

    Receipt ids must be unique per connection (conformance 40); a counter that lives as
    long as the client keeps them unique across reconnects too, so a late RECEIPT from an
    old connection can never match a new waiter.

    Args:
        prefix: e.g. ``"receipt-"``, ``"sub-"``, ``"tx-"``.
    """

    __slots__ = ("_count", "_prefix")

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._count = 0

    def next(self) -> str:
        """A new id."""
        self._count += 1
        return f"{self._prefix}{self._count}"


def build_connect(
    *,
    vhost: str | None = None,
    login: str | None = None,
    passcode: str | None = None,
    versions: Sequence[str] = ("1.0", "1.1", "1.2"),
    heartbeats: tuple[int, int] = (0, 0),
    headers: Mapping[str, str] | None = None,
) -> Connect:
    """The CONNECT event for one connection attempt.

    Args:
        vhost: the ``host`` header, the virtual host to ask for (RabbitMQ: the vhost name);
            :data:`DEFAULT_VHOST` (``"/"``) when ``None``.
        login: user name.
        passcode: password (never shown by ``repr``).
        versions: versions to offer, lowest first as the spec lists them.
        heartbeats: ``(cx, cy)`` in ms (spec 1.2 "Heart-beating").
        headers: extra CONNECT headers (e.g. ``client-id`` for ActiveMQ durable topics).

    Raises:
        ValueError: ``headers`` repeats a header set from the other arguments.
    """
    extra: Headers = ()
    if headers:
        clash = sorted(name for name in headers if name in _RESERVED_CONNECT_HEADERS)
        if clash:
            raise ValueError(
                f"set {', '.join(clash)} with the open_connection arguments, not in headers="
            )
        extra = tuple(headers.items())
    return Connect(
        accept_version=tuple(versions),
        host=vhost if vhost is not None else DEFAULT_VHOST,
        login=login,
        passcode=passcode,
        heart_beat=heartbeats,
        headers=extra,
    )


def build_ack(
    message: Message,
    version: str,
    *,
    nack: bool = False,
    transaction: str | None = None,
    receipt: str | None = None,
) -> Ack:
    """The ACK (or NACK) for ``message`` with the headers ``version`` requires.

    1.2 acknowledges by the MESSAGE's ``ack`` header, 1.0 and 1.1 by ``message-id``; 1.1
    also needs ``subscription`` (spec 1.1/1.2 "ACK").  1.0 has no NACK: the core refuses it.
    """
    cls = Nack if nack else Ack
    return cls(
        id=message.ack_id(version),
        subscription=message.subscription,
        transaction=transaction,
        receipt=receipt,
    )


def ack_for(
    message: Message,
    version: str,
    subscription: str,
    *,
    nack: bool = False,
    transaction: str | None = None,
    receipt: str | None = None,
) -> Ack:
    """:func:`build_ack`, naming ``subscription`` when the MESSAGE did not.

    STOMP 1.0 brokers may leave the ``subscription`` header out of MESSAGE, yet a 1.1 ACK
    needs it (spec 1.1 "ACK"): the driver knows which subscription it routed the message
    to, so that id is used.

    Args:
        message: the MESSAGE being acknowledged.
        version: the negotiated version.
        subscription: the id of the subscription the driver delivered it to.
        nack: build a NACK (1.1+).
        transaction: the transaction id, if any.
        receipt: the receipt id, if any.
    """
    ack = build_ack(message, version, nack=nack, transaction=transaction, receipt=receipt)
    if ack.subscription is not None:
        return ack
    return type(ack)(id=ack.id, subscription=subscription, transaction=transaction, receipt=receipt)


def message_headers(event: Message | Error) -> dict[str, str]:
    """Every header of a received MESSAGE or ERROR as a dict, the first occurrence winning.

    The typed fields come first (they hold the first occurrence on the wire), then the
    other headers in wire order; a repeated header keeps its first value (spec 1.2
    "Repeated Header Entries").
    """
    return event_headers(event)


def send_builder(
    destination: str,
    body: bytes | bytearray | memoryview | str,
    *,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    transaction: str | None = None,
) -> Callable[[str | None], Send]:
    """The SEND of a user's ``send()``, as a builder taking the receipt id.

    The body is encoded now (:func:`encode_body`, conformance 37), so a bad body fails
    before anything is sent or awaited.

    Raises:
        TypeError, ValueError: as :func:`encode_body`.
    """
    data, content_type = encode_body(body, content_type)
    extra = tuple(headers.items()) if headers else ()

    def build(receipt: str | None) -> Send:
        return Send(
            destination=destination,
            body=data,
            content_type=content_type,
            transaction=transaction,
            receipt=receipt,
            headers=extra,
        )

    return build
