"""The blocking ``stomp`` driver (stomp.py's API) behind the integration tests' interface.

Only public stomp.py API is used: ``stomp.Connection10/11/12``, ``set_ssl``, a
``ConnectionListener`` collecting frames, and the frame methods.  Waits are on a
``threading.Condition`` with a deadline.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from adapter_api import ConnectRefused, Received, SessionDied, TlsOptions
from broker_env import Broker

import stomp
import stomp.exception

__all__ = ["StompDriver", "StompSession"]


class _Collector(stomp.ConnectionListener):
    """Records what the driver dispatches, for the test thread to wait on."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.messages: deque[Any] = deque()
        self.receipts: set[str] = set()
        self.errors: list[Any] = []
        self.heartbeats = 0
        self.connected: Any = None
        self.disconnected = False

    def on_connected(self, frame: Any) -> None:
        with self.cond:
            self.connected = frame
            self.cond.notify_all()

    def on_message(self, frame: Any) -> None:
        with self.cond:
            self.messages.append(frame)
            self.cond.notify_all()

    def on_receipt(self, frame: Any) -> None:
        with self.cond:
            self.receipts.add(frame.headers["receipt-id"])
            self.cond.notify_all()

    def on_error(self, frame: Any) -> None:
        with self.cond:
            self.errors.append(frame)
            self.cond.notify_all()

    def on_heartbeat(self) -> None:
        with self.cond:
            self.heartbeats += 1

    def on_disconnected(self) -> None:
        with self.cond:
            self.disconnected = True
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: predicate() or self.disconnected, timeout) and (
                predicate()
            )


def _negotiate(ours: tuple[int, int], theirs: str | None) -> tuple[int, int]:
    # spec 1.2 "Heart-beating": each direction is the max of the two wishes, 0 if either is 0.
    if not theirs:
        return (0, 0)
    sx, sy = (int(part) for part in theirs.split(","))
    cx, cy = ours
    return (0 if cx == 0 or sy == 0 else max(cx, sy), 0 if cy == 0 or sx == 0 else max(cy, sx))


class StompSession:
    """A connected ``stomp.Connection1x`` and its collecting listener."""

    def __init__(self, conn: Any, collector: _Collector, version: str, heartbeats: tuple[int, int]):
        self._conn = conn
        self._collector = collector
        self._version = version
        headers = collector.connected.headers if collector.connected is not None else {}
        self._heartbeat = (
            _negotiate(heartbeats, headers.get("heart-beat")) if version != "1.0" else (0, 0)
        )
        self._closed = False

    def _wait_receipt(self, receipt: str | None, timeout: float, what: str) -> None:
        if receipt is None:
            return
        if not self._collector.wait(lambda: receipt in self._collector.receipts, timeout):
            raise SessionDied(f"no RECEIPT for {what} within {timeout} s")

    @property
    def version(self) -> str:
        """The version of the connection class used."""
        return self._version

    @property
    def heartbeat(self) -> tuple[int, int]:
        """Negotiated from our wish and the CONNECTED ``heart-beat`` header."""
        return self._heartbeat

    @property
    def heartbeats_received(self) -> int:
        """``on_heartbeat`` calls so far."""
        return self._collector.heartbeats

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
        """``conn.send`` with the transaction and receipt as keyword headers."""
        extra: dict[str, str] = {}
        if transaction is not None:
            extra["transaction"] = transaction
        if receipt is not None:
            extra["receipt"] = receipt
        self._conn.send(destination, body, headers=dict(headers or {}), **extra)
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
        """``conn.subscribe``."""
        extra = {"receipt": receipt} if receipt is not None else {}
        self._conn.subscribe(destination, sub_id, ack=ack, headers=dict(headers or {}), **extra)
        self._wait_receipt(receipt, timeout, f"SUBSCRIBE {sub_id}")

    def unsubscribe(
        self, sub_id: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """``conn.unsubscribe``."""
        extra = {"receipt": receipt} if receipt is not None else {}
        self._conn.unsubscribe(id=sub_id, **extra)
        self._wait_receipt(receipt, timeout, f"UNSUBSCRIBE {sub_id}")

    def get_message(self, timeout: float) -> Received | None:
        """The next ``on_message`` frame within ``timeout``."""
        collector = self._collector
        if not collector.wait(lambda: bool(collector.messages), timeout):
            if collector.disconnected and not self._closed and not collector.messages:
                raise SessionDied("disconnected while waiting for a MESSAGE")
            return None
        with collector.cond:
            frame = collector.messages.popleft()
        headers = {str(name): str(value) for name, value in frame.headers.items()}
        body = frame.body if isinstance(frame.body, bytes) else frame.body.encode("utf-8")
        message_id = headers["message-id"]
        return Received(
            destination=headers.get("destination", ""),
            message_id=message_id,
            subscription=headers.get("subscription"),
            ack_id=headers.get("ack", message_id) if self._version == "1.2" else message_id,
            body=body,
            headers=headers,
        )

    def ack(self, message: Received, *, transaction: str | None = None) -> None:
        """``conn.ack`` with the version's signature."""
        if self._version == "1.1":
            self._conn.ack(message.ack_id, message.subscription, transaction=transaction)
        else:
            self._conn.ack(message.ack_id, transaction=transaction)

    def nack(self, message: Received, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """``conn.nack`` with the version's signature."""
        if self._version == "1.1":
            self._conn.nack(message.ack_id, message.subscription, receipt=receipt)
        else:
            self._conn.nack(message.ack_id, receipt=receipt)
        self._wait_receipt(receipt, timeout, "NACK")

    def begin(self, transaction: str) -> None:
        """``conn.begin``."""
        self._conn.begin(transaction)

    def commit(
        self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """``conn.commit``."""
        extra = {"receipt": receipt} if receipt is not None else {}
        self._conn.commit(transaction, **extra)
        self._wait_receipt(receipt, timeout, f"COMMIT {transaction}")

    def abort(self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """``conn.abort``."""
        extra = {"receipt": receipt} if receipt is not None else {}
        self._conn.abort(transaction, **extra)
        self._wait_receipt(receipt, timeout, f"ABORT {transaction}")

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` for a disconnection that must not come."""
        if self._collector.wait(lambda: False, seconds) or self._collector.disconnected:
            raise SessionDied("disconnected while idle")

    def disconnect(self, *, receipt: str | None = None, timeout: float = 10.0) -> bool:
        """``conn.disconnect(receipt=...)``; True when that receipt was dispatched."""
        try:
            self._conn.disconnect(receipt=receipt)
            if receipt is None:
                return False
            return self._collector.wait(lambda: receipt in self._collector.receipts, timeout) or (
                receipt in self._collector.receipts
            )
        finally:
            self.close()

    def close(self) -> None:
        """Drop the connection if it is still up (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._conn.is_connected():
            self._conn.disconnect()


class StompDriver:
    """Makes :class:`StompSession` objects with ``stomp.Connection10/11/12``."""

    name = "stomp"

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
    ) -> StompSession:
        """``stomp.Connection1x([(host, port)], ...)`` + ``connect(wait=True)``."""
        host_and_port = (broker.host, port or broker.port)
        options: dict[str, Any] = {
            "reconnect_attempts_max": 1,
            "timeout": timeout,
            "auto_decode": False,  # bodies stay bytes (binary tests)
        }
        conn: Any
        if version == "1.0":
            conn = stomp.Connection10([host_and_port], **options)
        else:
            cls = stomp.Connection11 if version == "1.1" else stomp.Connection12
            if heartbeat_tolerance is not None:
                options["heart_beat_receive_scale"] = heartbeat_tolerance
            conn = cls([host_and_port], heartbeats=heartbeats, vhost=broker.vhost, **options)
        if tls is not None:
            conn.set_ssl(
                for_hosts=[host_and_port],
                ca_certs=tls.ca_file,
                cert_file=tls.cert_file,
                key_file=tls.key_file,
            )
        collector = _Collector()
        conn.set_listener("integration-collector", collector)
        try:
            conn.connect(
                broker.login if login is None else login,
                broker.passcode if passcode is None else passcode,
                wait=True,
            )
        except stomp.exception.ConnectFailedException as exc:
            if conn.is_connected():
                conn.disconnect()
            raise ConnectRefused(f"stomp: {exc}") from exc
        if not collector.wait(lambda: collector.connected is not None, timeout):
            raise ConnectRefused("stomp: connect(wait=True) returned without CONNECTED")
        return StompSession(conn, collector, version, heartbeats)
