"""A test-only blocking client made of a plain socket and ``stomp_core``'s CLIENT role.

It exists to check the core against real brokers before (and independently of) the
drivers: the loop is the one DESIGN.md gives every driver -- feed what the socket read
into ``receive_data``, drain ``next_event``, write ``data_to_send``, and wake up for
``get_timer`` -- with nothing else in between.  Single-threaded: the core runs only while
a test call is waiting, which is enough because every wait goes through :meth:`_pump`.
"""

from __future__ import annotations

import dataclasses
import math
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable

from adapter_api import ConnectRefused, Received, SessionDied, TlsOptions
from broker_env import Broker

import stomp_core as sc

__all__ = ["CoreDriver", "CoreSession"]


def _headers_of(event: sc.FrameEvent) -> dict[str, str]:
    """Every header of a MESSAGE, typed fields included (first occurrence wins)."""
    result: dict[str, str] = {}
    for _field, header in event.header_fields:
        value = event.get(header)
        if value is not None:
            result[header] = value
    for name, value in event.headers:
        result.setdefault(name, value)
    return result


class CoreSession:
    """One STOMP session: a connected socket driven through a ``stomp_core.Connection``."""

    def __init__(self, sock: socket.socket, conn: sc.Connection) -> None:
        self._sock = sock
        self._conn = conn
        self._messages: deque[Received] = deque()
        self._receipts: set[str] = set()
        self._heartbeats = 0
        self.connected: sc.Connected | None = None
        self.error: sc.Error | None = None
        #: The event that ended the session (EOF, a timeout, ERROR), once it ended.
        self.ended: sc.Event | None = None
        #: The socket error that ended the stream, if one did.
        self.transport_error: OSError | None = None
        self._closed = False

    # ---------------------------------------------------------------- the loop

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _flush(self) -> None:
        data = self._conn.data_to_send(now=self._now())
        if data:
            try:
                self._sock.sendall(data)
            except OSError:
                self._conn.send_failed()
                raise

    def _handle(self, event: sc.Event) -> None:
        if isinstance(event, sc.Message):
            assert self._conn.version is not None
            self._messages.append(
                Received(
                    destination=event.destination,
                    message_id=event.message_id,
                    subscription=event.subscription,
                    ack_id=event.ack_id(self._conn.version),
                    body=event.body,
                    headers=_headers_of(event),
                )
            )
        elif isinstance(event, sc.Receipt):
            self._receipts.add(event.receipt_id)
        elif isinstance(event, sc.HeartbeatReceived):
            self._heartbeats += 1
        elif isinstance(event, sc.Connected):
            self.connected = event
        elif isinstance(event, sc.Error):
            self.error = event
            self.ended = event
        elif isinstance(
            event,
            (sc.ConnectionClosed, sc.HeartbeatTimeout, sc.ConnectTimeout, sc.DisconnectTimeout),
        ):
            self.ended = event

    def _pump(self, until: Callable[[], bool], timeout: float) -> bool:
        """Run the core until ``until()`` holds or the session ends; False on timeout."""
        deadline = self._now() + timeout
        while True:
            while (event := self._conn.next_event()) is not sc.NEED_DATA:
                assert isinstance(event, sc.Event)
                self._handle(event)
            self._flush()
            if until():
                return True
            if self.ended is not None or self._closed:
                return False
            now = self._now()
            timer = self._conn.get_timer()
            if timer is not None and timer <= now:
                self._conn.handle_timer(now=now)
                continue
            wake = min(deadline, timer if timer is not None else math.inf)
            if now >= deadline:
                return False
            self._sock.settimeout(max(wake - now, 0.001))
            try:
                data = self._sock.recv(256 * 1024)
            except TimeoutError:
                continue
            except OSError as exc:
                # A reset (or a TLS alert) ends the stream too; the core decides what
                # that means, the test may want the reason.
                self.transport_error = exc
                data = b""
            if data:
                self._conn.receive_data(data, now=self._now())
            else:
                self._conn.receive_eof(now=self._now())

    def _wait_receipt(self, receipt: str | None, timeout: float, what: str) -> None:
        if receipt is None:
            self._flush()
            return
        if not self._pump(lambda: receipt in self._receipts, timeout):
            raise SessionDied(f"no RECEIPT for {what} within {timeout} s (ended: {self.ended!r})")

    def _send_event(self, event: sc.FrameEvent) -> None:
        self._conn.send(event, now=self._now())

    # ---------------------------------------------------------------- Session API

    @property
    def version(self) -> str:
        """The negotiated protocol version."""
        assert self._conn.version is not None
        return self._conn.version

    @property
    def heartbeat(self) -> tuple[int, int]:
        """Negotiated ``(outgoing, incoming)`` heart-beat intervals in ms."""
        return self._conn.heartbeat

    @property
    def heartbeats_received(self) -> int:
        """Heart-beats received so far."""
        return self._heartbeats

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """SEND, waiting for the receipt if one is asked for."""
        self._send_event(
            sc.Send(
                destination=destination,
                body=body,
                transaction=transaction,
                receipt=receipt,
                headers=tuple((headers or {}).items()),
            )
        )
        self._wait_receipt(receipt, timeout, f"SEND to {destination}")

    def subscribe(
        self,
        destination: str,
        sub_id: str,
        *,
        ack: str = "auto",
        headers: dict[str, str] | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """SUBSCRIBE, waiting for the receipt if one is asked for."""
        self._send_event(
            sc.Subscribe(
                destination=destination,
                id=sub_id,
                ack=ack,
                receipt=receipt,
                headers=tuple((headers or {}).items()),
            )
        )
        self._wait_receipt(receipt, timeout, f"SUBSCRIBE {sub_id}")

    def unsubscribe(
        self, sub_id: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """UNSUBSCRIBE by id."""
        self._send_event(sc.Unsubscribe(id=sub_id, receipt=receipt))
        self._wait_receipt(receipt, timeout, f"UNSUBSCRIBE {sub_id}")

    def get_message(self, timeout: float) -> Received | None:
        """The next MESSAGE within ``timeout`` seconds, else ``None``."""
        if not self._messages:
            self._pump(lambda: bool(self._messages), timeout)
        if self._messages:
            return self._messages.popleft()
        if self.ended is not None and not self._closed:
            raise SessionDied(f"session ended while waiting for a MESSAGE: {self.ended!r}")
        return None

    def ack(self, message: Received, *, transaction: str | None = None) -> None:
        """ACK a message."""
        self._send_event(
            sc.Ack(id=message.ack_id, subscription=message.subscription, transaction=transaction)
        )
        self._flush()

    def nack(self, message: Received, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """NACK a message."""
        self._send_event(
            sc.Nack(id=message.ack_id, subscription=message.subscription, receipt=receipt)
        )
        self._wait_receipt(receipt, timeout, "NACK")

    def begin(self, transaction: str) -> None:
        """BEGIN."""
        self._send_event(sc.Begin(transaction=transaction))
        self._flush()

    def commit(
        self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """COMMIT."""
        self._send_event(sc.Commit(transaction=transaction, receipt=receipt))
        self._wait_receipt(receipt, timeout, f"COMMIT {transaction}")

    def abort(self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """ABORT."""
        self._send_event(sc.Abort(transaction=transaction, receipt=receipt))
        self._wait_receipt(receipt, timeout, f"ABORT {transaction}")

    def hold(self, seconds: float) -> None:
        """Idle for ``seconds`` with the core servicing heart-beats."""
        self._pump(lambda: False, seconds)
        if self.ended is not None:
            raise SessionDied(f"session ended while idle: {self.ended!r}")

    def disconnect(self, *, receipt: str | None = None, timeout: float = 10.0) -> bool:
        """DISCONNECT; True when the requested receipt arrived."""
        try:
            self._send_event(sc.Disconnect(receipt=receipt))
            if receipt is None:
                self._flush()
                return False
            return self._pump(lambda: receipt in self._receipts, timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if not self._closed:
            self._closed = True
            self._sock.close()


class CoreDriver:
    """Makes :class:`CoreSession` objects."""

    name = "core"

    def connect(
        self,
        broker: Broker,
        *,
        version: str,
        port: int | None = None,
        login: str | None = None,
        passcode: str | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        heartbeat_tolerance: float | None = None,
        tls: TlsOptions | None = None,
        timeout: float = 10.0,
    ) -> CoreSession:
        """Open a socket (TLS if ``tls``), send CONNECT offering ``version``, await CONNECTED."""
        try:
            sock = socket.create_connection((broker.host, port or broker.port), timeout=timeout)
        except OSError as exc:
            raise ConnectRefused(
                f"TCP connect to {broker.host}:{port or broker.port}: {exc}"
            ) from exc
        try:
            if tls is not None:
                sock = tls.client_context().wrap_socket(sock, server_hostname=broker.host)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise ConnectRefused(f"TLS handshake: {exc}") from exc
        config = sc.Config(versions=(version,), connect_timeout=timeout)
        if heartbeat_tolerance is not None:
            config = dataclasses.replace(config, heartbeat_tolerance=heartbeat_tolerance)
        conn = sc.Connection(sc.CLIENT, config)
        session = CoreSession(sock, conn)
        try:
            conn.send(
                sc.Connect(
                    accept_version=(version,),
                    host=broker.vhost,
                    login=broker.login if login is None else login,
                    passcode=broker.passcode if passcode is None else passcode,
                    heart_beat=heartbeats,
                ),
                now=time.monotonic(),
            )
            session._pump(lambda: session.connected is not None, timeout + 1.0)
        except (OSError, ssl.SSLError) as exc:
            session.close()
            raise ConnectRefused(f"during CONNECT: {exc}") from exc
        if session.connected is None:
            session.close()
            if session.error is not None:
                raise ConnectRefused(f"broker answered ERROR: {session.error.message}")
            raise ConnectRefused(
                f"no CONNECTED (ended: {session.ended!r})"
            ) from session.transport_error
        return session
