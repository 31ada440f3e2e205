"""STOMP over WebSocket, sans-IO: a thin layer between the transport and the core.

This is the one part of ``stomp_core`` that needs a third-party package, wsproto
(``pip install 'stomp-sansio[websocket]'``), and it is imported only by code that uses
WebSocket.

Stacking, for both roles::

    socket bytes -> ws.receive_data() -> ws.stomp_data() -> core.receive_data()
    core.data_to_send() -> ws.send_stomp() -> ws.data_to_send() -> socket

The STOMP payload is a byte stream like TCP's: a WebSocket message may hold one frame,
part of one, several, or a heart-beat EOL (conformance 104); the core's parser copes with
any split, so messages are passed on as they arrive, never buffered whole here.  We send
one message per :meth:`WebSocketAdapter.send_stomp` call: a text message when the bytes
are valid UTF-8 (what browsers' stomp.js and RabbitMQ Web-STOMP send), a binary message
otherwise (a body with arbitrary octets).

Sub-protocols: ``v12.stomp``, ``v11.stomp`` and ``v10.stomp`` (the names RabbitMQ,
ActiveMQ and stomp.js use); a server picks the highest one the client offers, and the
chosen one is available as :attr:`WebSocketAdapter.subprotocol` so that a driver can
restrict the STOMP versions accordingly.
"""

from __future__ import annotations

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError as WSRemoteProtocolError

from ._errors import LocalProtocolError, RemoteProtocolError
from ._state import Role
from ._versions import RULES, SUPPORTED_VERSIONS
from .client import Endpoint

__all__ = ["STOMP_SUBPROTOCOLS", "WebSocketAdapter", "subprotocol_versions"]

# Sub-protocol name -> version; each name is a version fact (VersionRules).
_SUBPROTOCOL_VERSIONS = {rules.websocket_subprotocol: rules.version for rules in RULES.values()}

#: The WebSocket sub-protocols of STOMP, best first.
STOMP_SUBPROTOCOLS: tuple[str, ...] = tuple(
    RULES[version].websocket_subprotocol for version in reversed(SUPPORTED_VERSIONS)
)


def subprotocol_versions(subprotocol: str | None) -> tuple[str, ...]:
    """The STOMP versions a negotiated sub-protocol allows (all of them when ``None``)."""
    if subprotocol is None:
        return SUPPORTED_VERSIONS
    version = _SUBPROTOCOL_VERSIONS.get(subprotocol)
    if version is None:
        raise LocalProtocolError(f"not a STOMP sub-protocol: {subprotocol!r}")
    return (version,)


class WebSocketAdapter:
    """The WebSocket layer of one connection.

    Args:
        role: :data:`~stomp_core.CLIENT` opens the handshake; :data:`~stomp_core.SERVER`
            answers it.
        host: CLIENT: the ``Host`` header of the handshake request (``"host:port"``).
        target: CLIENT: the request path, e.g. ``"/ws"`` (RabbitMQ Web-STOMP) or
            ``"/"`` (ActiveMQ).
        subprotocols: CLIENT: the sub-protocols offered; SERVER: the ones accepted.
        extra_headers: CLIENT: more handshake headers (e.g. ``Origin``).
    """

    def __init__(
        self,
        role: Role,
        *,
        host: str = "localhost",
        target: str = "/",
        subprotocols: tuple[str, ...] = STOMP_SUBPROTOCOLS,
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        for name in subprotocols:
            subprotocol_versions(name)
        self._role = role
        self._subprotocols = subprotocols
        self._ws = WSConnection(
            ConnectionType.CLIENT if role is Role.CLIENT else ConnectionType.SERVER
        )
        self._out = bytearray()
        self._stomp = bytearray()
        self._subprotocol: str | None = None
        self._open = False
        self._close_code: int | None = None
        self._close_reason: str | None = None
        if role is Role.CLIENT:
            self._out += self._ws.send(
                Request(
                    host=host,
                    target=target,
                    subprotocols=list(subprotocols),
                    extra_headers=[(k.encode(), v.encode()) for k, v in extra_headers],
                )
            )

    @classmethod
    def client(
        cls, endpoint: Endpoint, *, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> WebSocketAdapter:
        """A CLIENT adapter for ``endpoint`` (a ``ws://``/``wss://`` URL or a pair with a
        ``ws_path``): the handshake request is ready in :meth:`data_to_send`."""
        return cls(
            Role.CLIENT,
            host=str(endpoint),
            target=endpoint.path or "/",
            extra_headers=extra_headers,
        )

    @property
    def open(self) -> bool:
        """The handshake completed and the connection is not closing."""
        return self._open and self._ws.state is ConnectionState.OPEN

    @property
    def closed(self) -> bool:
        """A close handshake happened, was rejected, or the transport ended."""
        return self._close_code is not None

    @property
    def close_code(self) -> int | None:
        """The peer's close code (1000 = normal), or 1006 for a transport that just ended."""
        return self._close_code

    @property
    def close_reason(self) -> str | None:
        """The peer's close reason, if it gave one."""
        return self._close_reason

    @property
    def subprotocol(self) -> str | None:
        """The negotiated STOMP sub-protocol, once open."""
        return self._subprotocol

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes read from the transport.

        Raises:
            RemoteProtocolError: the peer broke the WebSocket protocol, refused the
                handshake, or chose a sub-protocol we did not offer.
        """
        try:
            self._ws.receive_data(bytes(data))
            for event in self._ws.events():
                self._handle(event)
        except WSRemoteProtocolError as exc:
            # A server answers with the response wsproto prepared (HTTP 400 or a close).
            if exc.event_hint is not None and self._role is Role.SERVER:
                self._out += self._ws.send(exc.event_hint)
            self._close_code = self._close_code or 1002
            raise RemoteProtocolError(f"WebSocket protocol error: {exc}") from None

    def receive_eof(self) -> None:
        """The transport ended (without a close handshake if none happened)."""
        if self._close_code is None:
            self._close_code = 1006
        self._open = False

    def _handle(self, event: Event) -> None:
        if isinstance(event, Request):
            chosen = next((p for p in self._subprotocols if p in event.subprotocols), None)
            if chosen is None and event.subprotocols:
                self._out += self._ws.send(RejectConnection(status_code=400))
                self._close_code = 1002
                raise RemoteProtocolError(
                    f"the client offered no STOMP sub-protocol we accept: {event.subprotocols}"
                )
            self._out += self._ws.send(AcceptConnection(subprotocol=chosen))
            self._subprotocol, self._open = chosen, True
        elif isinstance(event, AcceptConnection):
            # wsproto already refused a sub-protocol we did not offer.
            self._subprotocol, self._open = event.subprotocol, True
        elif isinstance(event, RejectConnection):
            self._close_code = 1002
            raise RemoteProtocolError(
                f"the server refused the WebSocket handshake (HTTP {event.status_code})"
            )
        elif isinstance(event, TextMessage):
            self._stomp += event.data.encode("utf-8")
        elif isinstance(event, BytesMessage):
            self._stomp += event.data
        elif isinstance(event, Ping):
            self._out += self._ws.send(event.response())
        elif isinstance(event, CloseConnection):
            self._close_code, self._close_reason = event.code, event.reason
            self._open = False
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                self._out += self._ws.send(event.response())
        # Pong and RejectData need nothing from us.

    def stomp_data(self) -> bytes:
        """Take the STOMP bytes received so far (feed them to the core)."""
        data = bytes(self._stomp)
        self._stomp.clear()
        return data

    def send_stomp(self, data: bytes) -> None:
        """Queue STOMP bytes (frames or heart-beat EOLs) as one WebSocket message.

        Raises:
            stomp_core.LocalProtocolError: the WebSocket is not open.
        """
        if not data:
            return
        if not self.open:
            raise LocalProtocolError("the WebSocket is not open")
        try:
            message: TextMessage | BytesMessage = TextMessage(data=data.decode("utf-8"))
        except UnicodeDecodeError:
            message = BytesMessage(data=data)
        self._out += self._ws.send(message)

    def unwrap(self, data: bytes | bytearray | memoryview) -> bytes:
        """Feed transport bytes (``b""``: the transport ended) and take the STOMP bytes.

        What a driver does with every read.  Afterwards it writes :meth:`data_to_send`
        (pongs, the close handshake), and :attr:`closed` says the STOMP stream ended.

        Raises:
            RemoteProtocolError: as :meth:`receive_data`.
        """
        if data:
            self.receive_data(data)
        else:
            self.receive_eof()
        return self.stomp_data()

    def wrap(self, data: bytes) -> bytes:
        """The transport bytes for STOMP bytes ``data`` (the core's ``data_to_send()``).

        What a driver does with every write: ``data`` becomes one message, behind any
        control reply (a pong) still waiting.

        Raises:
            stomp_core.LocalProtocolError: the WebSocket is not open.
        """
        self.send_stomp(data)
        return self.data_to_send()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake (no-op unless open)."""
        if self._ws.state is ConnectionState.OPEN:
            self._out += self._ws.send(CloseConnection(code=code, reason=reason))
            self._open = False

    def data_to_send(self) -> bytes:
        """Take the bytes to write to the transport."""
        data = bytes(self._out)
        self._out.clear()
        return data
