"""A tiny blocking STOMP client on the core's CLIENT role, for the broker tests.

Every read has a deadline; heart-beats are sent from the core's timer while reading.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable

from stomp_core import (
    CLIENT,
    NEED_DATA,
    Config,
    Connect,
    Connected,
    Connection,
    ConnectionClosed,
    Disconnect,
    Error,
    Event,
    FrameEvent,
    HeartbeatReceived,
    Message,
    Receipt,
    RemoteProtocolError,
    Send,
    Subscribe,
)
from stomp_core.websocket import WebSocketAdapter

TIMEOUT = 5.0


class Closed(Exception):
    """The broker closed the connection (or broke the protocol)."""


class CoreClient:
    """One connection to the broker, driven by ``stomp_core`` in the CLIENT role."""

    def __init__(
        self,
        address: tuple[str, int],
        *,
        version: str = "1.2",
        heart_beat: tuple[int, int] = (0, 0),
        login: str | None = None,
        passcode: str | None = None,
        connect: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        config: Config | None = None,
        rcvbuf: int | None = None,
        websocket: tuple[str, ...] | None = None,
    ) -> None:
        """Connect (and send CONNECT unless ``connect=False``).

        ``websocket``: speak STOMP over WebSocket, offering these sub-protocols.
        """
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.settimeout(TIMEOUT)
        if rcvbuf is not None:
            # Before connect, so the TCP window stays small (slow-consumer tests).
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            raw.connect(address)
        except OSError:
            raw.close()
            raise
        if ssl_context is not None:
            raw = ssl_context.wrap_socket(raw, server_hostname=address[0])
        self.sock = raw
        self.ws: WebSocketAdapter | None = None
        self.core = Connection(CLIENT, config or Config())
        self.heartbeats_received = 0
        self.connected: Connected | None = None
        self.closed = False
        try:
            if websocket is not None:
                self._handshake(f"{address[0]}:{address[1]}", websocket)
            if connect:
                self._connect(version, heart_beat, login, passcode)
        except BaseException:
            self.sock.close()
            raise

    def _handshake(self, host: str, subprotocols: tuple[str, ...]) -> None:
        ws = WebSocketAdapter(CLIENT, host=host, target="/ws", subprotocols=subprotocols)
        self.sock.sendall(ws.data_to_send())
        deadline = time.monotonic() + TIMEOUT
        while not ws.open:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            if not data:
                raise Closed("connection closed during the WebSocket handshake")
            try:
                ws.receive_data(data)
            except RemoteProtocolError as exc:
                raise Closed(exc.message) from None
        self.ws = ws
        early = ws.stomp_data()  # STOMP bytes that came with the handshake answer
        if early:
            self.core.receive_data(early, now=time.monotonic())

    def _write(self, data: bytes) -> None:
        if self.ws is not None:
            self.ws.send_stomp(data)
            data = self.ws.data_to_send()
        self.sock.sendall(data)

    def _received(self, data: bytes, now: float) -> None:
        """Feed bytes from the socket (through the WebSocket layer if any) to the core."""
        if self.ws is None:
            if data:
                self.core.receive_data(data, now=now)
            else:
                self.core.receive_eof(now=now)
            return
        if data:
            try:
                self.ws.receive_data(data)
            except RemoteProtocolError:
                self.ws.receive_eof()
            reply = self.ws.data_to_send()
            if reply:
                self.sock.sendall(reply)
        else:
            self.ws.receive_eof()
        stomp = self.ws.stomp_data()
        if stomp:
            self.core.receive_data(stomp, now=now)
        if self.ws.closed:
            self.core.receive_eof(now=now)

    def _connect(
        self, version: str, heart_beat: tuple[int, int], login: str | None, passcode: str | None
    ) -> None:
        self.send(
            Connect(
                accept_version=(version,),
                host="/",
                login=login,
                passcode=passcode,
                heart_beat=heart_beat,
            )
        )
        event = self.next_frame()
        if isinstance(event, Error):
            raise Closed(f"CONNECT refused: {event.message}")
        assert isinstance(event, Connected), event
        self.connected = event

    def send(self, event: FrameEvent) -> None:
        now = time.monotonic()
        self.core.send(event, now=now)
        self._write(self.core.data_to_send(now=now))

    def next_event(self, timeout: float = TIMEOUT) -> Event:
        """The next event, heart-beats included; :class:`Closed` on EOF or protocol error."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.core.next_event()
            except RemoteProtocolError as exc:
                self.closed = True
                raise Closed(f"protocol error: {exc.message}") from exc
            if event is not NEED_DATA:
                assert isinstance(event, Event)
                if isinstance(event, HeartbeatReceived):
                    self.heartbeats_received += 1
                if isinstance(event, ConnectionClosed):
                    self.closed = True
                return event
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError("no event from the broker in time")
            wait = deadline - now
            timer = self.core.get_timer()
            if timer is not None:
                wait = max(0.0, min(wait, timer - now))
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                now = time.monotonic()
                self.core.handle_timer(now=now)
                out = self.core.data_to_send(now=now)
                if out:
                    self._write(out)
                continue
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            self._received(data, time.monotonic())

    def next_frame(self, timeout: float = TIMEOUT) -> Event:
        """The next event that is not a heart-beat."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if not isinstance(event, HeartbeatReceived):
                return event

    def message(self, timeout: float = TIMEOUT) -> Message:
        event = self.next_frame(timeout)
        assert isinstance(event, Message), event
        return event

    def receipt(self, receipt_id: str, timeout: float = TIMEOUT) -> None:
        event = self.next_frame(timeout)
        assert isinstance(event, Receipt), event
        assert event.receipt_id == receipt_id

    def error(self, timeout: float = TIMEOUT) -> Error:
        event = self.next_frame(timeout)
        assert isinstance(event, Error), event
        return event

    def expect_closed(self, timeout: float = TIMEOUT) -> list[Event]:
        """Read until the broker closes; return the frames seen on the way."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while not self.closed:
            try:
                event = self.next_event(max(0.0, deadline - time.monotonic()))
            except Closed:
                break
            if not isinstance(event, (HeartbeatReceived, ConnectionClosed)):
                seen.append(event)
        return seen

    def disconnect(self, receipt: str = "bye") -> None:
        self.send(Disconnect(receipt=receipt))
        self.receipt(receipt)
        self.close()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> CoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def subscribe(
    client: CoreClient, destination: str, sub_id: str, ack: str = "auto", **headers: str
) -> None:
    """SUBSCRIBE and wait for its receipt."""
    client.send(
        Subscribe(
            destination=destination, id=sub_id, ack=ack, receipt=f"sub-{sub_id}", headers=headers
        )
    )
    client.receipt(f"sub-{sub_id}")


def publish(client: CoreClient, destination: str, *bodies: bytes) -> None:
    """Send each body; the last SEND asks for a receipt, which confirms them all."""
    for i, body in enumerate(bodies):
        last = i == len(bodies) - 1
        client.send(Send(destination=destination, body=body, receipt="pub" if last else None))
    client.receipt("pub")


def ack_id(client: CoreClient, message: Message) -> str:
    """The id to ACK ``message`` with under the negotiated version."""
    assert client.core.version is not None
    return message.ack_id(client.core.version)


def raw_exchange(address: tuple[str, int], data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Write ``data`` on a plain socket and read until the broker closes (or resets)."""
    deadline = time.monotonic() + timeout
    chunks = []
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            sock.sendall(data)
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the broker closed while we wrote (or with unread data): that is a close
    return b"".join(chunks)


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait for ``condition`` to hold, at most ``timeout`` seconds (the broker's
    counters change on its own thread, which signals nothing a test could wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)
