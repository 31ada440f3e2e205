"""Issue 14 against RabbitMQ, blocking driver: no ACK across connections.

RabbitMQ's ack ids end in a per-connection delivery tag, so an ack id of a lost
connection written on the new one acknowledges whichever message got that tag there.
The connection is cut by a loopback TCP relay the test owns (the broker keeps running).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
from broker_env import Broker

import stomp
from stomp.exception import NotConnectedException
from stomp.listener import TestListener, WaitingListener

pytestmark = pytest.mark.integration

WAIT = 10.0


class Relay:
    """Forwards 127.0.0.1:<port> to the broker; :meth:`cut` drops every relayed connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._all: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target, timeout=WAIT)
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
                self._all += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            doomed, self._open = self._open, []
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        self.cut()
        with self._lock:
            for sock in self._all:
                sock.close()


@contextlib.contextmanager
def relay_to(broker: Broker) -> Iterator[Relay]:
    relay = Relay((broker.host, broker.port))
    try:
        yield relay
    finally:
        relay.close()


def test_rabbitmq_ack_across_a_reconnect_is_refused(rabbitmq: Broker) -> None:
    queue = f"/queue/stale-ack-{uuid.uuid4().hex}"
    with relay_to(rabbitmq) as relay:
        listener = TestListener("sent")
        conn = stomp.Connection12(
            [relay.address],
            vhost=rabbitmq.vhost,
            timeout=WAIT,
            auto_reconnect=True,
            reconnect_sleep_initial=0.05,
        )
        conn.set_listener("t", listener)
        conn.connect(rabbitmq.login, rabbitmq.passcode, wait=True)
        try:
            conn.subscribe(queue, "s", ack="client-individual", headers={"prefetch-count": "10"})
            for n in range(5):
                conn.send(queue, f"m{n}", receipt="sent" if n == 4 else None)
            assert listener.wait_on_receipt(WAIT)
            old = _ack_ids(listener, 5)
            relay.cut()
            redelivered = _ack_ids(listener, 10)[5:]
            for ack_id in old:
                with pytest.raises(NotConnectedException, match="earlier connection"):
                    conn.ack(ack_id)
            # The redelivered copies are acked with their new ids: nothing else is settled.
            for ack_id in redelivered[:-1]:
                conn.ack(ack_id)
            acked = WaitingListener("acked")
            conn.set_listener("w", acked)
            conn.ack(redelivered[-1], receipt="acked")
            assert acked.wait_on_receipt(WAIT)
            assert not listener.errors
        finally:
            conn.disconnect()


def _ack_ids(listener: TestListener, count: int) -> list[str]:
    """The ack ids of the first ``count`` messages (waiting for them, bounded)."""
    with listener.message_condition:
        listener.message_condition.wait_for(lambda: len(listener.message_list) >= count, WAIT)
    assert len(listener.message_list) >= count
    return [headers["ack"] for headers, _ in listener.message_list[:count]]
