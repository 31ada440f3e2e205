"""Mapping between typed events and raw frames, per version.

``event_to_frame`` decides which headers a frame carries (standard ones from the typed
fields, then the extra ``headers`` in order); ``frame_to_event`` does the reverse and
checks the headers the spec requires.  Escaping is not done here: the writer and the
reader do it.

Decision (conformance 94): a received frame that lacks a header its version requires
(MESSAGE without ``destination``/``message-id``, or ``subscription`` in 1.2; RECEIPT
without ``receipt-id``; ...) is a :class:`RemoteProtocolError`.  Such a frame cannot be
dispatched or acknowledged reliably, and both RabbitMQ and ActiveMQ always send them.
"""

from __future__ import annotations

from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    FRAME_EVENTS,
    Ack,
    Connect,
    Connected,
    FrameEvent,
    Message,
    Subscribe,
    Unsubscribe,
)
from ._frame import Frame, Headers
from ._heartbeat import parse_heart_beat
from ._reader import _new_frame
from ._versions import IMPLICIT_VERSION, RULES, VersionRules, rules_for

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs more
# than the rest of this module (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "event_headers",
    "event_to_frame",
    "frame_to_event",
    "message_from_frame",
    "missing_headers",
]


# Before negotiation frames follow the rules of the version a peer that names none
# speaks (1.0): e.g. an ACK names the message by ``message-id``.
_IMPLICIT_RULES = RULES[IMPLICIT_VERSION]


def _add(out: list[tuple[str, str]], name: str, value: str | None) -> None:
    if value is not None:
        out.append((name, value))


def event_to_frame(event: FrameEvent, rules: VersionRules | None) -> Frame:
    """Build the frame that carries ``event`` under ``rules`` (``None``: not negotiated)."""
    out: list[tuple[str, str]] = []
    body = b""
    command = event.command
    if isinstance(event, Connect):
        # STOMP 1.2 "CONNECT or STOMP Frame": the same frame under either command.
        command = "STOMP" if event.stomp_command else "CONNECT"
        versions = event.accept_version or ()
        # A 1.0-only CONNECT carries no accept-version (conformance 50).
        if versions and versions != (IMPLICIT_VERSION,):
            out.append(("accept-version", ",".join(versions)))
        _add(out, "host", event.host)
        _add(out, "login", event.login)
        _add(out, "passcode", event.passcode)
        # STOMP 1.2 "Heart-beating": a missing header means 0,0, so 0,0 is left out.
        if event.heart_beat != (0, 0):
            out.append(("heart-beat", f"{event.heart_beat[0]},{event.heart_beat[1]}"))
    elif isinstance(event, Connected):
        # A 1.0 server names no version (conformance 54).
        if event.version != IMPLICIT_VERSION:
            out.append(("version", event.version))
        _add(out, "session", event.session)
        _add(out, "server", event.server)
        if event.heart_beat != (0, 0):
            out.append(("heart-beat", f"{event.heart_beat[0]},{event.heart_beat[1]}"))
    elif isinstance(event, Ack):  # Nack too
        # STOMP 1.2 "ACK" names the message in ``id``; 1.0 and 1.1 in ``message-id``.
        out.append(((rules or _IMPLICIT_RULES).ack_id_header, event.id))
        for field_name, header in event.header_fields:
            _add(out, header, getattr(event, field_name))
    else:
        for field_name, header in event.header_fields:
            value = getattr(event, field_name)
            if value is not None:
                out.append((header, value))
    if event.has_body:
        body = getattr(event, "body")  # noqa: B009 - present on body-carrying events
        # conformance 34: content-length is the length of the encoded octets.  STOMP 1.2
        # "Header content-length": it SHOULD come with a body; a body-less ERROR has
        # none, a body-less SEND or MESSAGE says 0.
        if getattr(event, "content_length", True) and (body or command != "ERROR"):
            out.append(("content-length", str(len(body))))
    out.extend(event.headers)
    return _new_frame(command, tuple(out), body)


def event_headers(event: FrameEvent, version: str | None = None) -> dict[str, str]:
    """Every header ``event`` carries on the wire, as a dict; the first occurrence wins.

    The view applications expect of a received frame (stomp.py's ``frame.headers``): the
    standard headers from the typed fields (``content-length`` included when the frame
    had one), then the others in wire order.  ``version`` picks the ACK/NACK id header.
    """
    frame = event_to_frame(event, rules_for(version) if version is not None else None)
    result: dict[str, str] = {}
    for name, value in frame.headers:
        result.setdefault(name, value)  # spec 1.2 "Repeated Header Entries"
    return result


def _take(headers: Headers, names: set[str]) -> tuple[dict[str, str], Headers]:
    """Split ``headers`` into the first occurrence of each of ``names`` and the rest."""
    taken: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for name, value in headers:
        if name in names and name not in taken:
            taken[name] = value
        else:
            rest.append((name, value))
    return taken, tuple(rest)


def missing_headers(event: FrameEvent, rules: VersionRules | None) -> str | None:
    """Name the first header that ``rules`` requires and ``event`` lacks, or ``None``.

    Version-dependent requirements (spec 1.1/1.2 "Client Frames"): SUBSCRIBE and
    UNSUBSCRIBE need ``id`` in 1.1+; ACK and NACK need ``subscription`` in 1.1; MESSAGE
    needs ``subscription`` in 1.2.
    """
    if rules is None:
        return None
    if (
        isinstance(event, (Subscribe, Unsubscribe))
        and rules.subscribe_needs_id
        and event.id is None
    ):
        return "id"
    if isinstance(event, Ack) and rules.ack_needs_subscription and event.subscription is None:
        return "subscription"
    if (
        isinstance(event, Message)
        and rules.message_needs_subscription
        and event.subscription is None
    ):
        return "subscription"
    return None


def frame_to_event(frame: Frame, rules: VersionRules | None) -> FrameEvent:
    """Build the event for a received ``frame``; :class:`RemoteProtocolError` if malformed."""
    cls = FRAME_EVENTS[frame.command]
    names = {header for _field, header in cls.header_fields}
    if cls.has_body:
        names.add("content-length")
    values: dict[str, Any] = {}
    if cls is Connect:
        names |= {"accept-version", "heart-beat"}
        taken, rest = _take(frame.headers, names)
        accept = taken.get("accept-version")
        # STOMP 1.2 "Protocol Negotiation": no accept-version means a 1.0 client.
        values["accept_version"] = (
            tuple(v.strip() for v in accept.split(","))
            if accept is not None
            else (IMPLICIT_VERSION,)
        )
        values["heart_beat"] = parse_heart_beat(taken.get("heart-beat"))
        values["stomp_command"] = frame.command == "STOMP"
    elif cls is Connected:
        names |= {"version", "heart-beat"}
        taken, rest = _take(frame.headers, names)
        values["version"] = taken.get("version", IMPLICIT_VERSION)  # a 1.0 server
        values["heart_beat"] = parse_heart_beat(taken.get("heart-beat"))
        values["received_headers"] = frame.headers
    elif issubclass(cls, Ack):
        ack_header = (rules or _IMPLICIT_RULES).ack_id_header
        names.add(ack_header)
        taken, rest = _take(frame.headers, names)
        if ack_header not in taken:
            # STOMP 1.2 "ACK": the id is REQUIRED (1.0/1.1: message-id); without it the
            # server cannot tell which message is meant.
            raise RemoteProtocolError(f"{frame.command} frame without the {ack_header!r} header")
        values["id"] = taken[ack_header]
    else:
        taken, rest = _take(frame.headers, names)
    for field_name, header in cls.header_fields:
        value = taken.get(header)
        if value is None and field_name in cls.required:
            if cls is Subscribe and field_name == "ack":
                # STOMP 1.2 "SUBSCRIBE ack Header": "If the header is not set, it
                # defaults to auto".
                value = "auto"
            else:
                # STOMP 1.2 "Frames and Headers": a REQUIRED header (conformance 94).
                raise RemoteProtocolError(f"{frame.command} frame without the {header!r} header")
        values[field_name] = value
    if cls.has_body:
        values["body"] = frame.body
        values["content_length"] = "content-length" in taken
    values["headers"] = rest
    # STOMP 1.2 "UNSUBSCRIBE" requires id; 1.0 accepts destination instead (conformance 77).
    if cls is Unsubscribe and values["id"] is None and values["destination"] is None:
        raise RemoteProtocolError("UNSUBSCRIBE frame without an 'id' (or 'destination') header")
    event = cls._parsed(**values)
    # The headers only the negotiated version requires (1.1+ SUBSCRIBE id, ...).
    missing = missing_headers(event, rules)
    if missing is not None:
        raise RemoteProtocolError(f"{frame.command} frame without the {missing!r} header")
    return event


# message_from_frame's table: a MESSAGE header name -> its index in the typed values
# (Message.header_fields order), content-length last.
_MESSAGE_INDEX = {header: index for index, (_field, header) in enumerate(Message.header_fields)}
_CONTENT_LENGTH_INDEX = len(_MESSAGE_INDEX)
_MESSAGE_INDEX["content-length"] = _CONTENT_LENGTH_INDEX
# message_from_parts unpacks the typed values in this order.
assert tuple(header for _field, header in Message.header_fields) == (
    "destination",
    "message-id",
    "subscription",
    "ack",
    "content-type",
)
_new_message = object.__new__
_set_destination = Message.__dict__["destination"].__set__
_set_message_id = Message.__dict__["message_id"].__set__
_set_subscription = Message.__dict__["subscription"].__set__
_set_ack = Message.__dict__["ack"].__set__
_set_content_type = Message.__dict__["content_type"].__set__
_set_body = Message.__dict__["body"].__set__
_set_content_length = Message.__dict__["content_length"].__set__
_set_message_headers = FrameEvent.__dict__["headers"].__set__


def message_from_frame(frame: Frame, rules: VersionRules) -> Message | None:
    """The :class:`Message` for a received MESSAGE ``frame``, in one pass, or ``None``.

    The client's receive hot path (``Connection.next_event``): the same event that
    :func:`frame_to_event` builds, without its generic lookups.  ``None`` when a header
    the version requires is missing (conformance 94), so that the general path decides
    and words the error.  Like :func:`_take`, the first occurrence of each typed header
    fills its field and any repeat stays in ``headers``; a ``content-length`` is not
    kept as a header (``content_length`` records that it was there).
    """
    return message_from_parts(frame.headers, frame.body, rules)


def message_from_parts(headers: Headers, body: bytes, rules: VersionRules) -> Message | None:
    """:func:`message_from_frame` for a MESSAGE frame's parts (a parsed-ahead frame is
    handed out as its parts, without a :class:`Frame`; ``Connection.offer_messages``)."""
    index_of = _MESSAGE_INDEX.get
    values: list[Any] = [None] * _CONTENT_LENGTH_INDEX
    counted = False
    rest: list[tuple[str, str]] = []
    for pair in headers:
        index = index_of(pair[0])
        if index is None:
            rest.append(pair)
        elif index == _CONTENT_LENGTH_INDEX:
            if counted:
                rest.append(pair)
            counted = True
        elif values[index] is None:
            values[index] = pair[1]
        else:
            rest.append(pair)
    # Message.header_fields order: destination, message-id, subscription, ack,
    # content-type.
    destination, message_id, subscription, ack, content_type = values
    if destination is None or message_id is None:
        return None
    if subscription is None and rules.message_needs_subscription:
        return None
    # Filled slot by slot (the frozen record's __init__ validates what the parser
    # already checked: about half of this function's cost).
    event: Message = _new_message(Message)
    _set_destination(event, destination)
    _set_message_id(event, message_id)
    _set_subscription(event, subscription)
    _set_ack(event, ack)
    _set_content_type(event, content_type)
    _set_body(event, body)
    _set_content_length(event, counted)
    _set_message_headers(event, tuple(rest))
    return event


def event_from_user_frame(frame: Frame, rules: VersionRules | None) -> FrameEvent:
    """Like :func:`frame_to_event` for a frame the *user* wants to send: errors are local."""
    if frame.body and not FRAME_EVENTS[frame.command].has_body:
        # Conformance 19 (STOMP 1.2 "Body": "All other frames MUST NOT have a body"):
        # the event has no body to carry it, so refuse rather than drop it silently.
        raise LocalProtocolError(f"a {frame.command} frame cannot carry a body")
    try:
        return frame_to_event(frame, rules)
    except ProtocolError as exc:
        raise LocalProtocolError(exc.message) from None
