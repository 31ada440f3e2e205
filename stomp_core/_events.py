"""Events: the typed, immutable view of STOMP frames.

The same classes serve both directions (as in h11): a client *sends* :class:`Send` and a
server *receives* it.  Each event names the protocol's standard headers as typed fields;
``headers`` holds every other header (extension headers, and repeats of a standard
header after its first occurrence) in wire order.

Events are frozen, slotted, keyword-only records validated once at construction
(:class:`~stomp_core.LocalProtocolError` on bad input).  They behave as frozen
dataclasses (``dataclasses.replace`` and ``fields`` work on them, assignment raises
``FrozenInstanceError``) but are written out by hand: the decorator over 22 classes was
most of ``import stomp_core`` (issue 13; see ``_record.py``).  The parser builds them
through a private fast path that skips validation, since the wire already fixed the types.

Pseudo-events that are not frames: :class:`HeartbeatReceived`, :class:`HeartbeatTimeout`,
:class:`ConnectionClosed`.
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._frame import Frame, Headers, get_header, normalize_headers
from ._heartbeat import MAX_HEART_BEAT
from ._record import Record
from ._versions import IMPLICIT_VERSION, RULES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    _E = TypeVar("_E", bound="Event")

__all__ = [
    "Abort",
    "Ack",
    "Begin",
    "Commit",
    "Connect",
    "ConnectTimeout",
    "Connected",
    "ConnectionClosed",
    "Disconnect",
    "DisconnectTimeout",
    "Error",
    "Event",
    "FrameEvent",
    "HeartbeatReceived",
    "HeartbeatTimeout",
    "IncompleteMessage",
    "Message",
    "Nack",
    "Receipt",
    "Send",
    "Subscribe",
    "Unsubscribe",
]


class Event(Record):
    """Base class of every event."""

    # Fields, equality, hashing, repr and immutability come from Record, written once
    # for every class instead of generated per class by the dataclass decorator.
    __slots__ = ()

    def __init__(self) -> None:
        pass

    @classmethod
    def _parsed(cls: type[_E], **values: Any) -> _E:
        # Fast path for the parser: the wire already gave us str/bytes, so skip
        # __post_init__ validation (h11's ``_parsed=True``).
        self = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        return self


def _check_str(owner: str, name: str, value: object) -> None:
    if not isinstance(value, str):
        raise LocalProtocolError(f"{owner}.{name} must be a str, got {value!r}")


def _check_id(owner: str, name: str, value: object) -> None:
    # A REQUIRED header (STOMP 1.2 "Frames and Headers") must name something: an empty
    # destination, receipt id or transaction id names nothing.
    _check_str(owner, name, value)
    if value == "":
        raise LocalProtocolError(f"{owner}.{name} must not be empty")


def _refuse_derived_headers(event: FrameEvent, names: tuple[str, ...]) -> None:
    # These headers are written from typed fields; an extra copy could contradict them or,
    # with the field at its default, go out malformed (fuzz finding 3: an empty heart-beat).
    for name, _value in event.headers:
        if name in names:
            field_name = name.replace("-", "_")
            raise LocalProtocolError(
                f"{type(event).__name__}: set the {field_name} field, not a {name!r} header"
            )


def _check_heart_beat(owner: str, value: object) -> None:
    # STOMP 1.2 "Heart-beating": two integers in ms, 0 meaning "cannot send" or "do not
    # want to receive" (conformance 60: non-negative, whatever the text says).
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_HEART_BEAT
            for v in value
        )
    ):
        raise LocalProtocolError(
            f"{owner}.heart_beat must be a pair of ints from 0 to {MAX_HEART_BEAT} (ms), "
            f"got {value!r}"
        )


class FrameEvent(Event):
    """Base class of events that are frames.

    Class attributes:
        command: the STOMP command, e.g. ``"SEND"``.
        header_fields: ``(field name, header name)`` pairs: the typed fields that map
            one-to-one to a header.
        has_body: whether the frame may carry a body (spec 1.1+: only SEND, MESSAGE and
            ERROR).
    """

    command: ClassVar[str] = ""
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    required: ClassVar[tuple[str, ...]] = ()
    has_body: ClassVar[bool] = False

    __slots__ = ("headers",)

    headers: Headers

    def __init__(
        self,
        *,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "headers", headers)
        self.__post_init__()

    def __post_init__(self) -> None:
        # Written for speed: every SEND a driver makes passes through here.
        headers = self.headers
        if type(headers) is not tuple or not all(
            type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str
            for pair in headers
        ):
            object.__setattr__(self, "headers", normalize_headers(headers))
        required = self.required
        for name, _header in self.header_fields:
            value = getattr(self, name)
            if type(value) is str and (value or name not in required):
                continue
            if value is None and name not in required:
                continue
            # A required field that is None or empty, or a value that is not a str.
            _check_id(type(self).__name__, name, value)
        if self.has_body:
            owner = type(self).__name__
            body = getattr(self, "body")  # noqa: B009 - slot defined by subclasses
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise LocalProtocolError(
                    f"{owner}.body must be bytes (encode text yourself), got {type(body).__name__}"
                )
            if not isinstance(body, bytes):
                object.__setattr__(self, "body", bytes(body))
            # content-length is written from the content_length field and the body's size;
            # an extra copy could contradict it and would not come back as an extra header
            # (fuzz finding 5).
            _refuse_derived_headers(self, ("content-length",))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name``: a typed field if it is one, else from ``headers``."""
        for field_name, header in self.header_fields:
            if header == name:
                value = getattr(self, field_name)
                if value is not None:
                    return str(value)
        return get_header(self.headers, name, default)


# --- client frames ---------------------------------------------------------------


class Connect(FrameEvent):
    """CONNECT (or STOMP): open a session (spec 1.2 "Connecting").

    Args:
        accept_version: versions offered, e.g. ``("1.1", "1.2")``; ``None`` offers the
            connection's configured versions.  A 1.0-only CONNECT carries no
            ``accept-version`` header (conformance item 50).
        host: the virtual host (required by 1.1 and 1.2 brokers).
        login: user name, if any.
        passcode: password, if any; never shown in ``repr``.
        heart_beat: ``(cx, cy)`` in milliseconds: the shortest interval at which we can
            send, and the interval at which we want to receive; ``0`` means never.
        stomp_command: send the ``STOMP`` command instead of ``CONNECT`` (1.1+).
        headers: extra headers.
    """

    command: ClassVar[str] = "CONNECT"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("host", "host"),
        ("login", "login"),
        ("passcode", "passcode"),
    )

    __slots__ = ("accept_version", "heart_beat", "host", "login", "passcode", "stomp_command")
    _not_shown: ClassVar[tuple[str, ...]] = ("passcode",)

    accept_version: tuple[str, ...] | None
    host: str | None
    login: str | None
    passcode: str | None
    heart_beat: tuple[int, int]
    stomp_command: bool

    def __init__(
        self,
        *,
        accept_version: tuple[str, ...] | None = None,
        host: str | None = None,
        login: str | None = None,
        passcode: str | None = None,
        heart_beat: tuple[int, int] = (0, 0),
        stomp_command: bool = False,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "accept_version", accept_version)
        set_field(self, "host", host)
        set_field(self, "login", login)
        set_field(self, "passcode", passcode)
        set_field(self, "heart_beat", heart_beat)
        set_field(self, "stomp_command", stomp_command)
        set_field(self, "headers", headers)
        self.__post_init__()

    def __post_init__(self) -> None:
        FrameEvent.__post_init__(self)
        if self.accept_version is not None:
            # STOMP 1.2 "Protocol Negotiation": a list of versions; a str would be read
            # character by character, an empty list offers nothing.
            if (
                isinstance(self.accept_version, str)
                or not self.accept_version
                or not all(isinstance(v, str) for v in self.accept_version)
            ):
                raise LocalProtocolError("Connect.accept_version must be a non-empty tuple of str")
            object.__setattr__(self, "accept_version", tuple(self.accept_version))
        _check_heart_beat("Connect", self.heart_beat)
        _refuse_derived_headers(self, ("accept-version", "heart-beat"))


class Send(FrameEvent):
    """SEND a message to a destination (spec 1.2 "SEND").

    Args:
        destination: where to send it.
        body: the body octets (encode text yourself; drivers do it for you).
        content_type: the MIME type of the body, e.g. ``"text/plain;charset=utf-8"``.
        transaction: the transaction this send belongs to.
        receipt: ask the server to confirm with a RECEIPT carrying this id.
        content_length: add a ``content-length`` header (default).  Set to ``False`` for
            brokers that map its presence to a message type (ActiveMQ); a body holding
            NUL gets one regardless (spec 1.2 "Header content-length").
        headers: extra headers.
    """

    command: ClassVar[str] = "SEND"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("destination", "destination"),
        ("content_type", "content-type"),
        ("transaction", "transaction"),
        ("receipt", "receipt"),
    )
    required: ClassVar[tuple[str, ...]] = ("destination",)
    has_body: ClassVar[bool] = True

    __slots__ = ("body", "content_length", "content_type", "destination", "receipt", "transaction")

    destination: str
    body: bytes
    content_type: str | None
    transaction: str | None
    receipt: str | None
    content_length: bool

    def __init__(
        self,
        *,
        destination: str,
        body: bytes = b"",
        content_type: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        content_length: bool = True,
        headers: Headers = (),
    ) -> None:
        # Every SEND a driver makes passes through here, so this is the generated
        # __init__ written out: the slots are filled through their descriptors, bound
        # once (_SEND_SLOT_SETTERS), instead of an object.__setattr__ per field, and the
        # common shape is accepted in one test; anything else gets the general checks
        # (and their messages).
        set_d, set_b, set_ct, set_tx, set_r, set_cl, set_h = _SEND_SLOT_SETTERS
        set_d(self, destination)
        set_b(self, body)
        set_ct(self, content_type)
        set_tx(self, transaction)
        set_r(self, receipt)
        set_cl(self, content_length)
        set_h(self, headers)
        if not (
            type(destination) is str
            and destination
            and type(body) is bytes
            and (content_type is None or type(content_type) is str)
            and (transaction is None or type(transaction) is str)
            and (receipt is None or type(receipt) is str)
            and type(headers) is tuple
        ):
            FrameEvent.__post_init__(self)
            return
        for pair in headers:
            if type(pair) is not tuple or len(pair) != 2:
                break
            name, value = pair
            if type(name) is not str or type(value) is not str or name == "content-length":
                break
        else:
            return
        FrameEvent.__post_init__(self)


_SEND_SLOT_SETTERS: tuple[Any, ...] = tuple(
    getattr(Send, name).__set__
    for name in (
        "destination",
        "body",
        "content_type",
        "transaction",
        "receipt",
        "content_length",
        "headers",
    )
)


class Subscribe(FrameEvent):
    """SUBSCRIBE to a destination (spec 1.2 "SUBSCRIBE").

    Args:
        destination: what to subscribe to.
        id: the subscription id, unique on this connection (required by 1.1 and 1.2).
        ack: ``"auto"``, ``"client"`` or ``"client-individual"`` (1.1+).
        receipt: ask for a RECEIPT.
        headers: extra headers (e.g. ``prefetch-count``, ``activemq.prefetchSize``).
    """

    command: ClassVar[str] = "SUBSCRIBE"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("destination", "destination"),
        ("id", "id"),
        ("ack", "ack"),
        ("receipt", "receipt"),
    )
    required: ClassVar[tuple[str, ...]] = ("destination", "ack")

    __slots__ = ("ack", "destination", "id", "receipt")

    destination: str
    id: str | None
    ack: str
    receipt: str | None

    def __init__(
        self,
        *,
        destination: str,
        id: str | None = None,
        ack: str = "auto",
        receipt: str | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "destination", destination)
        set_field(self, "id", id)
        set_field(self, "ack", ack)
        set_field(self, "receipt", receipt)
        set_field(self, "headers", headers)
        self.__post_init__()


class Unsubscribe(FrameEvent):
    """UNSUBSCRIBE (spec 1.2 "UNSUBSCRIBE"); 1.0 allows ``destination`` instead of ``id``."""

    command: ClassVar[str] = "UNSUBSCRIBE"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("id", "id"),
        ("destination", "destination"),
        ("receipt", "receipt"),
    )

    __slots__ = ("destination", "id", "receipt")

    id: str | None
    destination: str | None
    receipt: str | None

    def __init__(
        self,
        *,
        id: str | None = None,
        destination: str | None = None,
        receipt: str | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "id", id)
        set_field(self, "destination", destination)
        set_field(self, "receipt", receipt)
        set_field(self, "headers", headers)
        self.__post_init__()

    def __post_init__(self) -> None:
        FrameEvent.__post_init__(self)
        if self.id is None and self.destination is None:
            # STOMP 1.2 "UNSUBSCRIBE": id is REQUIRED; 1.0 also names by destination.
            raise LocalProtocolError("Unsubscribe needs an id (or, in STOMP 1.0, a destination)")


class Ack(FrameEvent):
    """ACK a message (spec 1.2 "ACK").

    Args:
        id: the message to acknowledge: the MESSAGE's ``ack`` header in 1.2, its
            ``message-id`` in 1.0 and 1.1.  Serialized as ``id`` (1.2) or ``message-id``.
            :attr:`Message.ack_id` gives the right value for the negotiated version.
        subscription: the subscription id (required by 1.1).
        transaction: the transaction this acknowledgement belongs to.
        receipt: ask for a RECEIPT.
    """

    command: ClassVar[str] = "ACK"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("subscription", "subscription"),
        ("transaction", "transaction"),
        ("receipt", "receipt"),
    )

    __slots__ = ("id", "receipt", "subscription", "transaction")

    id: str
    subscription: str | None
    transaction: str | None
    receipt: str | None

    def __init__(
        self,
        *,
        id: str,
        subscription: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "id", id)
        set_field(self, "subscription", subscription)
        set_field(self, "transaction", transaction)
        set_field(self, "receipt", receipt)
        set_field(self, "headers", headers)
        self.__post_init__()

    def __post_init__(self) -> None:
        FrameEvent.__post_init__(self)
        # STOMP 1.2 "ACK": the id names the message (1.0/1.1: message-id); REQUIRED.
        _check_id(type(self).__name__, "id", self.id)


class Nack(Ack):
    """NACK a message (spec 1.2 "NACK"; not in 1.0).  Same fields as :class:`Ack`."""

    __slots__ = ()

    command: ClassVar[str] = "NACK"


class Begin(FrameEvent):
    """BEGIN a transaction (spec 1.2 "BEGIN")."""

    command: ClassVar[str] = "BEGIN"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("transaction", "transaction"),
        ("receipt", "receipt"),
    )
    required: ClassVar[tuple[str, ...]] = ("transaction",)

    __slots__ = ("receipt", "transaction")

    transaction: str
    receipt: str | None

    def __init__(
        self,
        *,
        transaction: str,
        receipt: str | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "transaction", transaction)
        set_field(self, "receipt", receipt)
        set_field(self, "headers", headers)
        self.__post_init__()


class Commit(Begin):
    """COMMIT a transaction (spec 1.2 "COMMIT")."""

    __slots__ = ()

    command: ClassVar[str] = "COMMIT"


class Abort(Begin):
    """ABORT a transaction (spec 1.2 "ABORT")."""

    __slots__ = ()

    command: ClassVar[str] = "ABORT"


class Disconnect(FrameEvent):
    """DISCONNECT (spec 1.2 "DISCONNECT"); with a receipt for a graceful shutdown."""

    command: ClassVar[str] = "DISCONNECT"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (("receipt", "receipt"),)

    __slots__ = ("receipt",)

    receipt: str | None

    def __init__(
        self,
        *,
        receipt: str | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "receipt", receipt)
        set_field(self, "headers", headers)
        self.__post_init__()


# --- server frames ---------------------------------------------------------------


class Connected(FrameEvent):
    """CONNECTED: the server accepted the session (spec 1.2 "CONNECTED").

    Args:
        version: the negotiated version; a 1.0 server sends none (then ``"1.0"``).
        session: the session id, if the server gives one.
        server: the server's ``name/version comments``, if given.
        heart_beat: ``(sx, sy)`` in milliseconds.
        received_headers: every header line of a *received* CONNECTED frame, in wire
            order, as the server wrote it (``None`` for an event built in code).  The
            typed fields cannot tell ``heart-beat:0,0`` from no header, nor a missing
            ``version`` from ``version:1.0``; a compatibility layer that shows the
            frame as received (stomp.py's listeners) needs the difference.  Not part of
            equality.
    """

    command: ClassVar[str] = "CONNECTED"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("session", "session"),
        ("server", "server"),
    )

    __slots__ = ("heart_beat", "received_headers", "server", "session", "version")
    _not_shown: ClassVar[tuple[str, ...]] = ("received_headers",)
    _not_compared: ClassVar[tuple[str, ...]] = ("received_headers",)

    version: str
    session: str | None
    server: str | None
    heart_beat: tuple[int, int]
    received_headers: Headers | None

    def __init__(
        self,
        *,
        version: str = IMPLICIT_VERSION,
        session: str | None = None,
        server: str | None = None,
        heart_beat: tuple[int, int] = (0, 0),
        received_headers: Headers | None = None,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "version", version)
        set_field(self, "session", session)
        set_field(self, "server", server)
        set_field(self, "heart_beat", heart_beat)
        set_field(self, "received_headers", received_headers)
        set_field(self, "headers", headers)
        self.__post_init__()

    def __post_init__(self) -> None:
        FrameEvent.__post_init__(self)
        _check_str("Connected", "version", self.version)
        _check_heart_beat("Connected", self.heart_beat)
        _refuse_derived_headers(self, ("version", "heart-beat"))


class Message(FrameEvent):
    """MESSAGE delivered to a subscription (spec 1.2 "MESSAGE").

    Args:
        destination: where the message was sent.
        message_id: the server's id of the message.
        subscription: the subscription it was delivered to.
        ack: the 1.2 ``ack`` header, present for ``client`` and ``client-individual``
            subscriptions.
        body: the body octets.
        content_type: the MIME type, if given.
    """

    command: ClassVar[str] = "MESSAGE"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("destination", "destination"),
        ("message_id", "message-id"),
        ("subscription", "subscription"),
        ("ack", "ack"),
        ("content_type", "content-type"),
    )
    required: ClassVar[tuple[str, ...]] = ("destination", "message_id")
    has_body: ClassVar[bool] = True

    __slots__ = (
        "ack",
        "body",
        "content_length",
        "content_type",
        "destination",
        "message_id",
        "subscription",
    )

    destination: str
    message_id: str
    subscription: str | None
    ack: str | None
    body: bytes
    content_type: str | None
    content_length: bool

    def __init__(
        self,
        *,
        destination: str,
        message_id: str,
        subscription: str | None = None,
        ack: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        content_length: bool = True,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "destination", destination)
        set_field(self, "message_id", message_id)
        set_field(self, "subscription", subscription)
        set_field(self, "ack", ack)
        set_field(self, "body", body)
        set_field(self, "content_type", content_type)
        set_field(self, "content_length", content_length)
        set_field(self, "headers", headers)
        self.__post_init__()

    def ack_id(self, version: str) -> str:
        """The value to put in :attr:`Ack.id` for this message under ``version``."""
        # STOMP 1.2 "ACK": the id matches the MESSAGE's ack header; before 1.2 an ACK
        # names the message-id.  An unknown version gets the message-id, as before 1.2.
        rules = RULES.get(version)
        if rules is not None and rules.ack_names_message_ack and self.ack is not None:
            return self.ack
        return self.message_id


class Receipt(FrameEvent):
    """RECEIPT: the server processed the frame that asked for ``receipt_id``."""

    command: ClassVar[str] = "RECEIPT"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (("receipt_id", "receipt-id"),)
    required: ClassVar[tuple[str, ...]] = ("receipt_id",)

    __slots__ = ("receipt_id",)

    receipt_id: str

    def __init__(
        self,
        *,
        receipt_id: str,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "receipt_id", receipt_id)
        set_field(self, "headers", headers)
        self.__post_init__()


class Error(FrameEvent):
    """ERROR from the server (spec 1.2 "ERROR"); the server closes the connection after it.

    Args:
        message: the short description (``message`` header).
        body: the details, if any.
        content_type: the body's MIME type.
        receipt_id: set when the ERROR answers a frame that asked for a receipt.
    """

    command: ClassVar[str] = "ERROR"
    header_fields: ClassVar[tuple[tuple[str, str], ...]] = (
        ("message", "message"),
        ("content_type", "content-type"),
        ("receipt_id", "receipt-id"),
    )
    has_body: ClassVar[bool] = True

    __slots__ = ("body", "content_length", "content_type", "message", "receipt_id")

    message: str | None
    body: bytes
    content_type: str | None
    receipt_id: str | None
    content_length: bool

    def __init__(
        self,
        *,
        message: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        receipt_id: str | None = None,
        content_length: bool = True,
        headers: Headers = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "message", message)
        set_field(self, "body", body)
        set_field(self, "content_type", content_type)
        set_field(self, "receipt_id", receipt_id)
        set_field(self, "content_length", content_length)
        set_field(self, "headers", headers)
        self.__post_init__()


# --- pseudo-events ------------------------------------------------------------------


class HeartbeatReceived(Event):
    """The peer sent a heart-beat: one or more EOLs between frames.

    The one EOL right after a frame's NUL is padding (spec 1.2 "Frames"), not a
    heart-beat; it counts as peer activity all the same.
    """

    __slots__ = ()


class IncompleteMessage(Event):
    """A well-framed MESSAGE that lacks a header the spec requires (client role only).

    Reported instead of a :class:`RemoteProtocolError` when
    :attr:`Config.accept_incomplete_messages` is set: spec 1.2 "MESSAGE" says the
    server MUST include ``destination`` and ``message-id`` (and ``subscription``), but
    stomp.py delivers such frames and compatibility layers need them.  The framing was
    sound, so the connection carries on.

    Args:
        frame: the frame as received (headers unescaped, body complete).
        reason: which header is missing.
    """

    __slots__ = ("frame", "reason")

    frame: Frame
    reason: str

    def __init__(
        self,
        *,
        frame: Frame,
        reason: str,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "frame", frame)
        set_field(self, "reason", reason)


class HeartbeatTimeout(Event):
    """The peer stayed silent longer than the negotiated interval times ``1 + tolerance``.

    The connection is now closed; the driver should close the transport.

    Args:
        pending_receipts: receipts that will never arrive now.
    """

    __slots__ = ("pending_receipts",)

    pending_receipts: tuple[str, ...]

    def __init__(
        self,
        *,
        pending_receipts: tuple[str, ...] = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "pending_receipts", pending_receipts)


class ConnectTimeout(Event):
    """No CONNECTED (client) or no CONNECT (server) arrived within ``connect_timeout``.

    The connection is now closed; the driver should close the transport.
    """

    __slots__ = ()


class DisconnectTimeout(Event):
    """The RECEIPT of our DISCONNECT did not arrive within ``disconnect_timeout``.

    The session is over all the same (conformance 84: done, with a warning); the driver
    should close the transport.

    Args:
        pending_receipts: receipts that will never arrive now (the DISCONNECT's included).
    """

    __slots__ = ("pending_receipts",)

    pending_receipts: tuple[str, ...]

    def __init__(
        self,
        *,
        pending_receipts: tuple[str, ...] = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "pending_receipts", pending_receipts)


class ConnectionClosed(Event):
    """The transport reached EOF (:meth:`Connection.receive_eof`).

    Args:
        clean: the close was expected (after DISCONNECT's receipt, or after ERROR).
        pending_receipts: receipts that will never arrive now.
    """

    __slots__ = ("clean", "pending_receipts")

    clean: bool
    pending_receipts: tuple[str, ...]

    def __init__(
        self,
        *,
        clean: bool = False,
        pending_receipts: tuple[str, ...] = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "clean", clean)
        set_field(self, "pending_receipts", pending_receipts)


#: Each frame event class by command, for both roles (STOMP is CONNECT's 1.1 alias).
FRAME_EVENTS: dict[str, type[FrameEvent]] = {
    cls.command: cls
    for cls in (
        Connect,
        Send,
        Subscribe,
        Unsubscribe,
        Ack,
        Nack,
        Begin,
        Commit,
        Abort,
        Disconnect,
        Connected,
        Message,
        Receipt,
        Error,
    )
}
FRAME_EVENTS["STOMP"] = Connect
