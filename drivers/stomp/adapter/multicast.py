"""Broker-less STOMP over UDP multicast: ``stomp.adapter.multicast.MulticastConnection``.

Every member of the group is both client and broker: a SEND is multicast as one
datagram, and each member delivers it as a MESSAGE to its listeners if one of its local
subscriptions has that destination.  Frames asking for a receipt are answered with a
multicast RECEIPT by each member that accepted them.  Transactions are kept locally: the
frames of a transaction are held until COMMIT (or dropped at ABORT).

This is stomp.py's adapter with its defaults (group 224.1.1.1, port 5000, TTL 2) and its
API, minus its bugs: datagrams are read whole (stomp.py truncated them at 1024 bytes),
mistakes with transactions are reported to ``on_error`` instead of raising inside the
library, and the group, port, interface and TTL can be chosen (keyword-only).

There is no session: ``connect`` joins the group (listeners get ``on_connecting``, never
``on_connected``), nothing is acknowledged, heart-beats do not exist, and delivery is as
reliable as UDP.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Mapping
from typing import Any

from .. import logging
from ..connect import BaseConnection
from ..exception import NotConnectedException
from ..listener import ConnectionListener
from ..transport import BaseTransport
from ..utils import Frame, convert_frame, get_uuid, pack, parse_frame

__all__ = ["MCAST_GRP", "MCAST_PORT", "MulticastConnection", "MulticastTransport"]

#: stomp.py's group and port.
MCAST_GRP = "224.1.1.1"
MCAST_PORT = 5000
#: The largest UDP payload.
_MAX_DATAGRAM = 65535
#: How long the receiver thread waits before it looks at ``running`` again.
_POLL = 0.5


class MulticastTransport(BaseTransport):
    """Multicast sockets, the receiver thread and frame delivery.

    Args:
        encoding: body encoding for ``str`` bodies sent.
        group: the IPv4 multicast group.
        port: the UDP port (``0``: any free port, useful to talk to oneself in tests).
        interface: the local interface address to send and join on (``"0.0.0.0"``:
            the system's choice).
        ttl: the multicast time-to-live (``0`` keeps datagrams on this host).
    """

    def __init__(
        self,
        encoding: str = "utf-8",
        *,
        group: str = MCAST_GRP,
        port: int = MCAST_PORT,
        interface: str = "0.0.0.0",
        ttl: int = 2,
    ) -> None:
        # Bodies arrive as bytes, as with stomp.py's multicast adapter.
        super().__init__(auto_decode=False, encoding=encoding)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {port!r}")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 255:
            raise ValueError(f"ttl must be an int in 0..255, got {ttl!r}")
        socket.inet_aton(group)  # raises OSError for a malformed address
        self.group = group
        self.port = port
        self.interface = interface
        self.ttl = ttl
        self.subscriptions: dict[str, str] = {}
        self.current_host_and_port = (group, port)
        self._send_socket: socket.socket | None = None
        self._receive_socket: socket.socket | None = None
        self._thread: Any = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._disconnected_notified = False

    def set_ssl(self, for_hosts: Any = (), *args: Any, **kwargs: Any) -> None:
        """Accepted for compatibility and ignored: multicast has no TLS."""
        logging.warning("set_ssl on a multicast connection: multicast has no TLS, ignored")

    def get_ssl(self, host_and_port: Any = None) -> None:
        """Always ``None``: multicast has no TLS."""
        return None

    def shutdown_queue(self) -> None:
        """Nothing to shut down (stomp.py's non-blocking send queue)."""

    def start(self) -> None:
        """Join the group and start receiving; listeners get ``on_connecting``."""
        if self.running:
            return
        receive = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            receive.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):  # not on Windows
                receive.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            receive.bind(("", self.port))
            self.port = receive.getsockname()[1]
            membership = struct.pack(
                "4s4s", socket.inet_aton(self.group), socket.inet_aton(self.interface)
            )
            receive.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            receive.settimeout(_POLL)
            send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        except BaseException:
            receive.close()
            raise
        send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.ttl)
        send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        if self.interface != "0.0.0.0":
            send.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.interface)
            )
        self._receive_socket, self._send_socket = receive, send
        self.current_host_and_port = (self.group, self.port)
        self._stopped.clear()
        self._disconnected_notified = False
        self.running = True
        self.connected = True
        self._thread = self.create_thread_fc(self._receive_loop)
        self.notify("connecting", self.current_host_and_port)

    def stop(self, timeout: float = 5.0) -> None:
        """Leave the group, wait (bounded) for the receiver, notify ``on_disconnected``."""
        if not self.running:
            return
        self.running = False
        self.connected = False
        self._stopped.wait(timeout)
        for sock in (self._send_socket, self._receive_socket):
            if sock is not None:
                sock.close()
        self._send_socket = self._receive_socket = None
        self._notify_disconnected()

    def _notify_disconnected(self) -> None:
        with self._lock:
            if self._disconnected_notified:
                return
            self._disconnected_notified = True
        self.notify("disconnected")

    def is_connected(self) -> bool:
        """Whether the group is joined."""
        return self.running

    def transmit(self, frame: Frame) -> None:
        """Multicast one frame (listeners' ``on_send`` first)."""
        self.notify("send", frame)
        self._write(frame)

    def _write(self, frame: Frame) -> None:
        sock = self._send_socket
        if sock is None or not self.running:
            raise NotConnectedException("not connected")
        for name, value in frame.headers.items():
            if any(c in f"{name}{value}" for c in "\r\n\0"):
                raise ValueError(f"header {name!r} cannot contain CR, LF or NUL (value not shown)")
        data = pack(convert_frame(frame, self.encoding))
        if len(data) > _MAX_DATAGRAM - 28:
            raise ValueError(f"frame of {len(data)} bytes does not fit in one datagram")
        sock.sendto(data, (self.group, self.port))

    def _receive_loop(self) -> None:
        try:
            while self.running:
                sock = self._receive_socket
                if sock is None:
                    break
                try:
                    data = sock.recv(_MAX_DATAGRAM)
                except TimeoutError:
                    continue
                except OSError:
                    break
                try:
                    self._process(data)
                except Exception:
                    logging.exception("multicast: failed to process a datagram")
        finally:
            self._stopped.set()
            self.notify("receiver_loop_completed", None)

    def _process(self, data: bytes) -> None:
        if data.endswith(b"\0"):
            data = data[:-1]
        if data.strip(b"\r\n") == b"":
            self.notify("heartbeat")
            return
        frame = parse_frame(data)
        if frame is None:
            return
        if frame.cmd == "DISCONNECT":
            return
        if frame.cmd == "SEND":
            destination = frame.headers.get("destination")
            if destination not in self.subscriptions.values():
                return
            message = Frame("MESSAGE", frame.headers, frame.body)
            self.notify("before_message", message)
            self.notify("message", message)
        elif frame.cmd in ("CONNECTED", "MESSAGE", "RECEIPT", "ERROR"):
            self.notify(frame.cmd.lower(), frame)
            if frame.cmd != "MESSAGE":
                return  # never answer a RECEIPT with a RECEIPT
        receipt = frame.headers.get("receipt")
        if receipt is not None and self.running:
            with contextlib.suppress(OSError, NotConnectedException):
                self._write(Frame("RECEIPT", {"receipt-id": receipt}))


class MulticastConnection(BaseConnection, ConnectionListener):
    """A STOMP-like connection over UDP multicast (no broker).

    Args:
        encoding: body encoding for ``str`` bodies sent.
        group: the multicast group (keyword-only; stomp.py's 224.1.1.1).
        port: the UDP port (keyword-only; stomp.py's 5000).
        interface: the local interface address (keyword-only).
        ttl: the multicast time-to-live (keyword-only; stomp.py's 2).
    """

    version = "1.2"

    def __init__(
        self,
        encoding: str = "utf-8",
        *,
        group: str = MCAST_GRP,
        port: int = MCAST_PORT,
        interface: str = "0.0.0.0",
        ttl: int = 2,
    ) -> None:
        transport = MulticastTransport(
            encoding, group=group, port=port, interface=interface, ttl=ttl
        )
        super().__init__(transport)  # type: ignore[arg-type]
        self.mcast_transport = transport
        self.transactions: dict[str, list[Frame]] = {}

    def on_error(self, *_: Any) -> None:
        """Nothing to do (stomp.py's heart-beat listener took any arguments here)."""

    def on_receipt(self, *_: Any) -> None:
        """Nothing to do (stomp.py's heart-beat listener took any arguments here)."""

    def connect(self, *args: Any, **kwargs: Any) -> None:
        """Join the group (arguments are accepted and ignored: there is no login)."""
        self.mcast_transport.start()

    def disconnect(
        self,
        receipt: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Leave the group."""
        self.mcast_transport.stop()

    def is_connected(self) -> bool:
        """Whether the group is joined."""
        return self.mcast_transport.is_connected()

    def subscribe(
        self,
        destination: str,
        id: str,
        ack: str = "auto",
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Deliver SENDs to ``destination`` to this member's listeners (no frame is sent)."""
        if not destination or not id:
            raise ValueError("subscribe needs a destination and an id")
        self.mcast_transport.subscriptions[str(id)] = destination

    def unsubscribe(
        self, id: str, headers: Mapping[str, Any] | None = None, **keyword_headers: Any
    ) -> None:
        """Stop delivering the subscription ``id``."""
        self.mcast_transport.subscriptions.pop(str(id), None)

    def send(
        self,
        destination: str,
        body: Any,
        content_type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Multicast a SEND (held until COMMIT if it names an open transaction)."""
        if not destination:
            raise ValueError("destination is required")
        if not isinstance(body, (str, bytes)):
            raise TypeError(f"body must be str or bytes, not {type(body).__name__}")
        merged = {**(headers or {}), **keyword_headers, "destination": destination}
        if content_type is not None:
            merged["content-type"] = content_type
        self.send_frame("SEND", merged, body)

    def ack(self, id: str, transaction: str | None = None, receipt: str | None = None) -> None:
        """Multicast an ACK (it has no effect except its receipt)."""
        headers = {"id": id, "transaction": transaction, "receipt": receipt}
        self.send_frame("ACK", {k: v for k, v in headers.items() if v})

    def nack(
        self,
        id: str,
        transaction: str | None = None,
        receipt: str | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Multicast a NACK (it has no effect except its receipt)."""
        headers = {**keyword_headers, "id": id, "transaction": transaction, "receipt": receipt}
        self.send_frame("NACK", {k: v for k, v in headers.items() if v})

    def begin(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> str:
        """Open a local transaction and return its id."""
        transaction = transaction or get_uuid()
        self.send_frame("BEGIN", {"transaction": transaction})
        return transaction

    def commit(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Multicast the frames held by ``transaction``."""
        self.send_frame("COMMIT", {"transaction": transaction})

    def abort(
        self,
        transaction: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Drop the frames held by ``transaction``."""
        self.send_frame("ABORT", {"transaction": transaction})

    def _error(self, message: str) -> None:
        self.mcast_transport.notify("error", Frame("ERROR", {"message": message}, message))

    def send_frame(
        self, cmd: str, headers: Mapping[str, Any] | None = None, body: Any = ""
    ) -> None:
        """Send a frame, emulating transactions locally."""
        frame = Frame(cmd, dict(headers or {}), body)
        transaction = frame.headers.get("transaction")
        if cmd == "BEGIN":
            if transaction in self.transactions:
                self._error(f"Transaction {transaction} already started")
            else:
                self.transactions[str(transaction)] = []
        elif cmd == "COMMIT":
            held = self.transactions.pop(str(transaction), None)
            if held is None:
                self._error(f"Transaction {transaction} not started")
            else:
                for pending in held:
                    self.mcast_transport.transmit(pending)
        elif cmd == "ABORT":
            if self.transactions.pop(str(transaction), None) is None:
                self._error(f"Transaction {transaction} not started")
        elif transaction is not None:
            if transaction in self.transactions:
                self.transactions[transaction].append(frame)
            else:
                self._error(f"Transaction {transaction} not started")
        else:
            self.mcast_transport.transmit(frame)
