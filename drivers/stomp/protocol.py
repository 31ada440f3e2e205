"""Frame builders: stomp.py's per-version methods (``send``, ``subscribe``, ``ack``...).

Each method merges ``headers`` with ``**keyword_headers`` (keywords win), sets its own
headers, and hands a :class:`~stomp.utils.Frame` to the transport, which shows it to the
listeners' ``on_send`` and gives it to :mod:`stomp_core` to validate, escape for the
version (spec 1.1/1.2 "Value Encoding") and serialise.  Unlike stomp.py, arguments are
checked with real exceptions (``ValueError``/``TypeError``, not ``assert``), the caller's
header dict is never modified, and ``content-length`` counts encoded bytes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping

from stomp_core import LocalProtocolError, Subscribe, Unsubscribe

from . import logging
from .constants import (
    CMD_ABORT,
    CMD_ACK,
    CMD_BEGIN,
    CMD_COMMIT,
    CMD_CONNECT,
    CMD_DISCONNECT,
    CMD_NACK,
    CMD_SEND,
    CMD_STOMP,
    CMD_SUBSCRIBE,
    CMD_UNSUBSCRIBE,
    HDR_ACCEPT_VERSION,
    HDR_ACK,
    HDR_CONTENT_LENGTH,
    HDR_CONTENT_TYPE,
    HDR_DESTINATION,
    HDR_HEARTBEAT,
    HDR_HOST,
    HDR_ID,
    HDR_LOGIN,
    HDR_MESSAGE_ID,
    HDR_PASSCODE,
    HDR_RECEIPT,
    HDR_SUBSCRIPTION,
    HDR_TRANSACTION,
)
from .exception import ConnectFailedException, NotConnectedException
from .listener import ConnectionListener, HeartbeatListener, _check_heartbeats
from .transport import Transport
from .utils import Frame, get_uuid, merge_headers

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["PROTOCOL_LISTENER", "Protocol10", "Protocol11", "Protocol12"]


def _require(name: str, value: object) -> None:
    if value is None or value == "":
        raise ValueError(f"{name} is required")
    # Ints are fine (stomp.py's own tests subscribe with id=1): header values are text.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a str, got {value!r}")


#: Encodings in which ASCII text is one byte per character (their common spellings).
_ASCII_COMPATIBLE = frozenset({"utf-8", "utf8", "UTF-8", "UTF8", "ascii", "latin-1", "latin1"})


def _encoded_length(body: str | bytes | bytearray | memoryview, encoding: str) -> int:
    """The body's length in octets once encoded (``content-length``), encoding at most once."""
    if not isinstance(body, str):
        return memoryview(body).nbytes
    if body.isascii() and encoding in _ASCII_COMPATIBLE:
        return len(body)
    return len(body.encode(encoding))


def _merge(headers: Mapping[str, Any] | None, keyword_headers: Mapping[str, Any]) -> dict[str, Any]:
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a dict, got {headers!r}")
    if not keyword_headers:
        return dict(headers) if headers else {}
    return merge_headers([headers, keyword_headers])


#: The name under which a connection registers itself as one of its own listeners.
PROTOCOL_LISTENER = "protocol-listener"


class _Frames:
    """The frame builders every version shares (the 1.0 set; 1.1 and 1.2 refine some).

    Private: in stomp.py ``Protocol11`` is not a ``Protocol10`` (nor a 1.2 connection a
    1.1 one), so the versions share this base instead of deriving from each other.

    Args:
        transport: where frames go.
        auto_content_length: add ``content-length`` to SEND frames with a body.
    """

    version = "1.0"

    def __init__(self, transport: Transport, auto_content_length: bool = True) -> None:
        self.transport = transport
        self.auto_content_length = auto_content_length
        self._connect_args: tuple[str | None, str | None, dict[str, Any]] | None = None
        # The core's registry module loads on first use (issue 13: import time).
        from stomp_core import SessionRegistry

        self._registry = SessionRegistry()
        # A live read-only view, taken once: the I/O thread reads it for every message.
        self._subscriptions = self._registry.subscriptions
        # The classes' part of send()'s fast-path test: a class does not change.
        self._own_send_path = (
            type(self).send_frame is _SEND_FRAME and type(transport).transmit is _TRANSMIT
        )
        # The transport refuses an ack across connections; it needs the ack modes.
        transport.ack_mode_of = self._ack_mode_of
        use_version = getattr(transport, "use_version", None)
        if use_version is not None:
            # A transport built by the user (stomp.py style: ``Transport(hosts)`` then
            # ``Protocol12.__init__(self, transport)``) speaks the protocol's version.
            use_version(self.version)

    # ------------------------------------------------------------------ plumbing

    def send_frame(
        self, cmd: str, headers: Mapping[str, Any] | None = None, body: Any = ""
    ) -> None:
        """Send a frame: ``cmd`` with ``headers`` (not modified) and ``body``.

        Raises:
            NotConnectedException: no open connection.
            ValueError: the frame is not valid for the protocol version.
        """
        if type(cmd) is not str or not cmd:
            _require("cmd", cmd)
        frame = Frame(cmd, dict(headers) if headers else {}, body)
        self.transport.transmit(frame)
        if cmd == CMD_SUBSCRIBE:
            self._record_subscribe(frame.headers)
        elif cmd == CMD_UNSUBSCRIBE:
            key = frame.headers.get(HDR_ID) or frame.headers.get(HDR_DESTINATION)
            if key is not None:
                self._registry_unsubscribe(str(key))

    def _send_built(self, cmd: str, headers: dict[str, Any]) -> None:
        """``send_frame`` for a header dict this class built (no caller owns it)."""
        self.send_frame(cmd, headers)

    def _record_subscribe(self, headers: Mapping[str, Any]) -> None:
        rest = tuple(
            (str(k), str(v))
            for k, v in headers.items()
            if k not in (HDR_DESTINATION, HDR_ID, HDR_ACK, HDR_RECEIPT) and v is not None
        )
        # The core accepted the frame, so the registry will too.
        with contextlib.suppress(LocalProtocolError, KeyError):
            self._registry.record(
                Subscribe(
                    destination=str(headers[HDR_DESTINATION]),
                    id=None if headers.get(HDR_ID) is None else str(headers[HDR_ID]),
                    ack=str(headers.get(HDR_ACK) or "auto"),
                    headers=rest,
                )
            )

    def _ack_mode_of(self, key: str) -> str | None:
        sub = self._subscriptions.get(key)
        return None if sub is None else sub.ack

    def _registry_unsubscribe(self, key: str) -> None:
        subs = dict(self._registry.subscriptions)
        if key in subs:
            self._registry.record(Unsubscribe(id=key))

    def _replay(self) -> None:
        """After an automatic reconnect: CONNECT again, wait, and resubscribe."""
        if self._connect_args is None:
            return
        username, passcode, headers = self._connect_args
        self._send_connect(username, passcode, headers)
        self.transport.wait_for_connection()
        for sub in self._registry.replay():
            frame_headers: dict[str, Any] = dict(sub.headers)
            frame_headers[HDR_DESTINATION] = sub.destination
            if sub.id is not None:
                frame_headers[HDR_ID] = sub.id
            frame_headers[HDR_ACK] = sub.ack
            self.transport.transmit(Frame(CMD_SUBSCRIBE, frame_headers, ""))

    # ------------------------------------------------------------------ connect

    def _connect_headers(self, headers: dict[str, Any]) -> dict[str, Any]:
        headers[HDR_ACCEPT_VERSION] = self.version
        return headers

    def _connect_command(self) -> str:
        return CMD_CONNECT

    def _send_connect(
        self, username: str | None, passcode: str | None, headers: dict[str, Any]
    ) -> None:
        frame_headers = self._connect_headers(dict(headers))
        command = self._connect_command()
        if username is not None:
            frame_headers[HDR_LOGIN] = username
        if passcode is not None:
            frame_headers[HDR_PASSCODE] = passcode
        self.transport.transmit(Frame(command, frame_headers, ""))

    def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        wait: bool = False,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Open the connection and send CONNECT.

        Args:
            username: the ``login`` header.
            passcode: the ``passcode`` header (never logged).
            wait: block until CONNECTED arrived and ``on_connected`` ran, at most the
                connect timeout.
            headers: extra headers.
            keyword_headers: extra headers (win over ``headers``).

        Raises:
            ConnectFailedException: no broker reachable, the broker refused (ERROR), or
                ``wait`` ran out of time.
        """
        for name, value in (("username", username), ("passcode", passcode)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
        merged = _merge(headers, keyword_headers)
        session = self.transport.session
        if session is not None and not session.closed:
            # stomp.py started a second reader on the same socket here (quirk 14).
            logging.warning("connect() while connected to %s:%s: ignored", *session.host_and_port)
            if wait:
                self.transport.wait_for_connection()
            return
        self.transport.start()
        # Wait for this very connection: a listener may start another meanwhile.
        started = self.transport.session
        self._connect_args = (username, passcode, merged)
        try:
            self._send_connect(username, passcode, merged)
        except NotConnectedException as exc:
            raise ConnectFailedException(str(exc)) from exc
        if wait:
            if "wait_for_connection" in self.transport.overridden_hooks:
                self.transport.wait_for_connection()  # a user's transport: stomp.py's call
            else:
                self.transport.wait_for_connection(session=started)

    def disconnect(
        self,
        receipt: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Send DISCONNECT with a receipt and wait (bounded) until the connection closed.

        Unlike stomp.py this always closes the connection, even when CONNECTED never
        arrived, and never blocks longer than the disconnect timeout.  Before CONNECTED
        it does not wait for it: the socket is closed at once (there is no session to
        end with DISCONNECT yet).

        Args:
            receipt: the receipt id to ask for (a fresh one by default).
            headers: extra headers.
            keyword_headers: extra headers.
        """
        merged = _merge(headers, keyword_headers)
        transport = self.transport
        session = transport.session
        if session is None or session.closed:
            logging.debug("disconnect: not connected")
            self._registry.clear()
            transport.stop()  # also ends a pending automatic reconnection
            return
        transport.notify("disconnecting")
        session.request_disconnect()
        self._registry.clear()
        # No wait: a broker that never answers CONNECT must not hold disconnect() for the
        # whole connect timeout (issue 12); stomp.py returned at once but left the socket
        # open.
        if session.wait_connected(0):
            receipt_id = receipt if receipt is not None else get_uuid()
            merged[HDR_RECEIPT] = receipt_id
            session.request_disconnect(receipt_id)
            transport.set_receipt(receipt_id, CMD_DISCONNECT)
            with contextlib.suppress(NotConnectedException):
                transport.transmit(Frame(CMD_DISCONNECT, merged, ""))
        else:
            session.abort()
        transport.stop()

    # ------------------------------------------------------------------ frames

    def send(
        self,
        destination: str,
        body: Any,
        content_type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """SEND ``body`` (``str``, encoded with the connection's encoding, or ``bytes``)."""
        # The hot path: the common case (a str destination, a bytes body) costs one test
        # each.
        if type(destination) is not str or not destination:
            _require("destination", destination)
        if type(body) is not bytes:
            if body is None:
                raise ValueError("body must not be None")
            if not isinstance(body, (str, bytes, bytearray, memoryview)):
                raise TypeError(f"body must be str or bytes, not {type(body).__name__}")
        transport = self.transport
        if (
            # headers={} is common in stomp.py code: it adds nothing either.
            (headers is None or (type(headers) is dict and not headers))
            and not keyword_headers
            and (content_type is None or type(content_type) is str)
            # Nobody would see a stomp.py frame: send_frame and the transport's transmit
            # are this package's own (not overridden, nor wrapped on the object, as
            # stomp.py's tests do), no listener has an on_send, and frames are not
            # logged.  Asked on every call, so that any change counts at once.
            and self._own_send_path
            and "send_frame" not in self.__dict__
            and "transmit" not in transport.__dict__
            and not transport.has_callback("send")
            and not logging.logger.isEnabledFor(logging.DEBUG)
        ):
            if type(body) is bytes:
                data = body
            elif isinstance(body, str):
                # "" must stay empty: some codecs (UTF-16) would add a byte-order mark.
                data = body.encode(transport.encoding) if body else b""
            else:
                data = bytes(body)
            # The same rule as below: a body gets its length unless told not to.
            transport.transmit_message(
                destination, data, content_type, bool(self.auto_content_length and body)
            )
            return
        merged = {} if headers is None and not keyword_headers else _merge(headers, keyword_headers)
        merged[HDR_DESTINATION] = destination
        if content_type is not None:
            merged[HDR_CONTENT_TYPE] = content_type
        if self.auto_content_length and body and HDR_CONTENT_LENGTH not in merged:
            merged[HDR_CONTENT_LENGTH] = _encoded_length(body, self.transport.encoding)
        self.send_frame(CMD_SEND, merged, body)

    def subscribe(
        self,
        destination: str,
        id: str | int | None = None,
        ack: str = "auto",
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """SUBSCRIBE to ``destination`` (1.0: ``id`` optional)."""
        _require("destination", destination)
        merged = _merge(headers, keyword_headers)
        merged[HDR_DESTINATION] = destination
        if id:
            merged[HDR_ID] = str(id)
        merged[HDR_ACK] = ack
        self._send_built(CMD_SUBSCRIBE, merged)

    def unsubscribe(
        self,
        destination: str | None = None,
        id: str | int | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """UNSUBSCRIBE by ``destination`` or ``id`` (1.0)."""
        if not destination and not id:
            raise ValueError("unsubscribe needs a destination or an id")
        merged = _merge(headers, keyword_headers)
        if id:
            merged[HDR_ID] = str(id)
        if destination:
            merged[HDR_DESTINATION] = destination
        self._send_built(CMD_UNSUBSCRIBE, merged)

    def ack(self, id: str, transaction: str | None = None, receipt: str | None = None) -> None:
        """ACK the message whose ``message-id`` is ``id`` (1.0)."""
        _require("id", id)
        headers: dict[str, Any] = {HDR_MESSAGE_ID: id}
        if transaction:
            headers[HDR_TRANSACTION] = transaction
        if receipt:
            headers[HDR_RECEIPT] = receipt
        self._send_built(CMD_ACK, headers)

    def begin(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> str:
        """BEGIN a transaction (a fresh id if none is given) and return its id."""
        merged = _merge(headers, keyword_headers)
        transaction = str(transaction) if transaction else get_uuid()
        merged[HDR_TRANSACTION] = transaction
        self._send_built(CMD_BEGIN, merged)
        return transaction

    def commit(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """COMMIT ``transaction``."""
        _require("transaction", transaction)
        merged = _merge(headers, keyword_headers)
        merged[HDR_TRANSACTION] = transaction
        self._send_built(CMD_COMMIT, merged)

    def abort(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """ABORT ``transaction``."""
        _require("transaction", transaction)
        merged = _merge(headers, keyword_headers)
        merged[HDR_TRANSACTION] = transaction
        self._send_built(CMD_ABORT, merged)


_SEND_FRAME = _Frames.send_frame
_TRANSMIT = Transport.transmit


class Protocol10(_Frames, ConnectionListener):
    """STOMP 1.0 frames.

    As in stomp.py the protocol object is also a listener of its own connection,
    registered as ``"protocol-listener"`` (its callbacks do nothing here).

    Args:
        transport: where frames go.
        auto_content_length: add ``content-length`` to SEND frames with a body.
    """

    version = "1.0"

    def __init__(self, transport: Transport, auto_content_length: bool = True) -> None:
        _Frames.__init__(self, transport, auto_content_length)
        transport.set_listener(PROTOCOL_LISTENER, self)


class Protocol11(_Frames, HeartbeatListener):
    """STOMP 1.1 frames: heart-beats, NACK, subscription ids.

    As in stomp.py it is also a :class:`~stomp.listener.HeartbeatListener` registered
    with its own connection as ``"protocol-listener"``; here that listener only keeps
    stomp.py's bookkeeping attributes (``received_heartbeat``, ``send_sleep``...) up to
    date: the connection's own threads send and check the heart-beats.

    Args:
        transport: where frames go.
        heartbeats: ``(cx, cy)``: the shortest interval at which we can send, and the one
            we want to receive, in ms (spec 1.1 "Heart-beating").
        auto_content_length: add ``content-length`` to SEND frames with a body.
        heart_beat_receive_scale: kept here too for compatibility (the transport applies it).
    """

    version = "1.1"

    def __init__(
        self,
        transport: Transport,
        heartbeats: tuple[int, int] = (0, 0),
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
    ) -> None:
        _Frames.__init__(self, transport, auto_content_length)
        _check_heartbeats(heartbeats)
        self.heartbeats_wished = (int(heartbeats[0]), int(heartbeats[1]))
        HeartbeatListener.__init__(self, transport, heartbeats, heart_beat_receive_scale)
        self._with_connect_command = False
        #: stomp.py's heart-beat thread; always ``None`` here: the connection's I/O
        #: thread sends and checks heart-beats (through stomp_core).
        self.heartbeat_thread = None
        transport.set_listener(PROTOCOL_LISTENER, self)

    @property
    def heartbeats(self) -> tuple[int, int]:
        """The negotiated ``(send, receive)`` intervals in ms once connected, else the wish."""
        if self.transport.is_connected():
            return self.transport.heartbeats
        return self.heartbeats_wished

    @heartbeats.setter
    def heartbeats(self, value: tuple[int, int]) -> None:
        # Setting it (before connecting) changes what CONNECT asks for, as in stomp.py.
        _check_heartbeats(value)
        self.heartbeats_wished = (int(value[0]), int(value[1]))

    # Every frame from the broker proves it alive (HeartbeatListener's bookkeeping):
    # for messages that is read from the connection when asked (received_heartbeat
    # below) rather than noted per message, so the connection need not call this
    # listener for each one (it skips ConnectionListener's no-ops).
    on_message = ConnectionListener.on_message

    @property
    def received_heartbeat(self) -> float | None:
        """When the broker was last heard from (monotonic seconds), as stomp.py kept it.

        The later of what the heart-beat bookkeeping noted (CONNECTED, a RECEIPT,
        ERROR or heart-beat) and when the connection last received bytes.
        """
        noted = self._noted_heartbeat
        session = getattr(self.transport, "session", None)
        heard: float | None = None if session is None else session.last_received
        if heard is None or (noted is not None and noted >= heard):
            return noted
        return heard

    @received_heartbeat.setter
    def received_heartbeat(self, value: float | None) -> None:
        self._noted_heartbeat = value

    def on_connected(self, frame: Frame) -> None:
        """Record the intervals the core negotiated (stomp.py's listener bookkeeping)."""
        send_ms, receive_ms = self.transport.heartbeats
        self.disconnecting = False
        self.send_sleep = send_ms / 1000
        self.receive_sleep = receive_ms / 1000 * self.heart_beat_receive_scale
        now = time.monotonic()
        self.received_heartbeat = now + self.receive_sleep
        self.next_outbound_heartbeat = now + self.send_sleep
        self.running = (send_ms, receive_ms) != (0, 0)
        self.heartbeat_terminate_event.clear()

    def on_disconnected(self) -> None:
        """The heart-beat bookkeeping stops with the connection."""
        self.running = False
        self.heartbeat_terminate_event.set()

    # Nothing to add to frames being sent: CONNECT already carries the wish (see
    # ``_connect_headers``).  The base no-op, so the connection knows not to call it.
    on_send = ConnectionListener.on_send

    def _send_built(self, cmd: str, headers: dict[str, Any]) -> None:
        self.send_frame(cmd, headers)
        # stomp.py 1.1+ escaped the values of the dict it handed to send_frame in place
        # (spec 1.1 "Value Encoding"), so code that wraps send_frame (a test's spy, say)
        # saw wire-escaped values.  The frame went out escaped once, by the core; the
        # dict is ours, so showing the same values costs nothing.  A dict the caller
        # passes to send_frame itself is never modified.
        for key, value in headers.items():
            if isinstance(value, str):
                headers[key] = value.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c")

    def _connect_headers(self, headers: dict[str, Any]) -> dict[str, Any]:
        headers[HDR_ACCEPT_VERSION] = self.version
        if self.transport.vhost:
            headers[HDR_HOST] = self.transport.vhost
        elif HDR_HOST not in headers:
            headers[HDR_HOST] = self._default_host()
        if self.heartbeats_wished != (0, 0):
            headers[HDR_HEARTBEAT] = f"{self.heartbeats_wished[0]},{self.heartbeats_wished[1]}"
        return headers

    def _connect_command(self) -> str:
        return CMD_CONNECT if self._with_connect_command else CMD_STOMP

    def _default_host(self) -> str:
        # spec 1.1 and 1.2 "CONNECT": host is REQUIRED, and the core insists.  stomp.py
        # sent none on 1.1 without a vhost, which RabbitMQ (it reads host as the vhost
        # name) takes as its default vhost "/", and on 1.2 the broker's host name, which
        # a stock RabbitMQ refuses ("Virtual host '127.0.0.1' access denied").  "/" in
        # every version, as the async drivers (stomp_core.client.DEFAULT_VHOST), works
        # on RabbitMQ, and ActiveMQ, Artemis and the embedded broker ignore the header.
        return "/"

    def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        wait: bool = False,
        headers: Mapping[str, Any] | None = None,
        with_connect_command: bool = False,
        **keyword_headers: Any,
    ) -> None:
        """Open the connection and send STOMP (or CONNECT if ``with_connect_command``).

        See ``Protocol10.connect``.
        """
        self._with_connect_command = bool(with_connect_command)
        super().connect(username, passcode, wait, headers, **keyword_headers)

    def subscribe(
        self,
        destination: str,
        id: str | int | None = None,
        ack: str = "auto",
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """SUBSCRIBE to ``destination`` under subscription ``id`` (required)."""
        _require("id", id)
        super().subscribe(destination, id, ack, headers, **keyword_headers)

    def unsubscribe(  # type: ignore[override]  # stomp.py's 1.1 signature
        self,
        id: str | int,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """UNSUBSCRIBE subscription ``id`` (other keywords, even ``destination``, are headers)."""
        _require("id", id)
        merged = _merge(headers, keyword_headers)
        merged[HDR_ID] = str(id)
        self._send_built(CMD_UNSUBSCRIBE, merged)

    def _ack_headers(
        self, id: str, subscription: str | None, transaction: str | None, receipt: str | None
    ) -> dict[str, Any]:
        _require("id", id)
        _require("subscription", subscription)
        headers: dict[str, Any] = {HDR_MESSAGE_ID: id, HDR_SUBSCRIPTION: subscription}
        if transaction:
            headers[HDR_TRANSACTION] = transaction
        if receipt:
            headers[HDR_RECEIPT] = receipt
        return headers

    def ack(  # type: ignore[override]  # stomp.py's 1.1 signature
        self,
        id: str,
        subscription: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
    ) -> None:
        """ACK message ``id`` (its ``message-id``) of ``subscription``."""
        self._send_built(CMD_ACK, self._ack_headers(id, subscription, transaction, receipt))

    def nack(
        self,
        id: str,
        subscription: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        **keyword_headers: Any,
    ) -> None:
        """NACK message ``id`` (its ``message-id``) of ``subscription``."""
        headers = merge_headers(
            [keyword_headers, self._ack_headers(id, subscription, transaction, receipt)]
        )
        self._send_built(CMD_NACK, headers)


class Protocol12(Protocol11):
    """STOMP 1.2 frames: ACK/NACK by the MESSAGE's ``ack`` header."""

    version = "1.2"

    def _ack12_headers(
        self, id: str, transaction: str | None, receipt: str | None
    ) -> dict[str, Any]:
        _require("id", id)
        headers: dict[str, Any] = {HDR_ID: id}
        if transaction:
            headers[HDR_TRANSACTION] = transaction
        if receipt:
            headers[HDR_RECEIPT] = receipt
        return headers

    def ack(  # type: ignore[override]  # stomp.py's 1.2 signature
        self, id: str, transaction: str | None = None, receipt: str | None = None
    ) -> None:
        """ACK the message whose ``ack`` header is ``id``."""
        self._send_built(CMD_ACK, self._ack12_headers(id, transaction, receipt))

    def nack(  # type: ignore[override]  # stomp.py's 1.2 signature
        self,
        id: str,
        transaction: str | None = None,
        receipt: str | None = None,
        **keyword_headers: Any,
    ) -> None:
        """NACK the message whose ``ack`` header is ``id``."""
        headers = merge_headers([keyword_headers, self._ack12_headers(id, transaction, receipt)])
        self._send_built(CMD_NACK, headers)
