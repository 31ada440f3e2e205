"""A user's own transport, stomp.py style: the methods it overrides take effect.

stomp.py users write transports by subclassing ``stomp.transport.Transport`` and
overriding ``send``, ``receive``, ``process_frame``, ``set_connected``, ``cleanup``,
``disconnect_socket`` or ``wait_for_connection`` (stomp.py's WebSocket adapter is built
that way), then build a connection around it.  Against the embedded broker.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_stomp_support import WAIT

import stomp
from stomp.connect import BaseConnection, StompConnection12
from stomp.listener import TestListener
from stomp.protocol import Protocol12
from stomp.transport import BaseTransport, Transport
from stomp.utils import Frame
from stomp_broker import run_broker_in_thread


class RecordingTransport(Transport):
    """Every stomp.py hook overridden: records the call, then does the default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, Any]] = []
        self.cleaned_up = threading.Event()
        self.lock = threading.Lock()

    def _note(self, name: str, value: Any = None) -> None:
        with self.lock:
            self.calls.append((name, value))

    def names(self, name: str) -> list[Any]:
        with self.lock:
            return [value for called, value in self.calls if called == name]

    def send(self, encoded_frame: bytes) -> None:
        self._note("send", bytes(encoded_frame))
        super().send(encoded_frame)

    def receive(self) -> bytes | None:
        data = super().receive()
        self._note("receive", data)
        return data

    def process_frame(self, f: Frame, frame_str: bytes | None) -> None:
        self._note("process_frame", f.cmd)
        super().process_frame(f, frame_str)

    def set_connected(self, connected: bool) -> None:
        self._note("set_connected", connected)
        super().set_connected(connected)

    def wait_for_connection(self, timeout: float | None = None) -> None:  # type: ignore[override]
        self._note("wait_for_connection", timeout)
        super().wait_for_connection(timeout)

    def disconnect_socket(self) -> None:
        self._note("disconnect_socket")
        super().disconnect_socket()

    def cleanup(self) -> None:
        self._note("cleanup")
        self.cleaned_up.set()


class MyConnection(StompConnection12):
    """Built the way stomp.py's own WebSocket connection is: base constructors, own transport."""

    def __init__(self, host_and_ports: list[tuple[str, int]]) -> None:
        transport = RecordingTransport(host_and_ports)
        BaseConnection.__init__(self, transport)
        Protocol12.__init__(self, transport)


def test_a_user_transport_s_hooks_take_effect() -> None:
    with run_broker_in_thread() as broker:
        conn = MyConnection([(broker.host, broker.port)])
        transport = conn.transport
        assert isinstance(transport, RecordingTransport)
        assert transport.version == "1.2"  # the protocol's version, not Transport's default
        listener = TestListener("r1")
        conn.set_listener("t", listener)
        conn.connect(wait=True)
        conn.subscribe("/queue/hooks", id="1")
        conn.send("/queue/hooks", "through the hooks", receipt="r1")
        assert listener.wait_for_message(WAIT)
        assert listener.wait_on_receipt(WAIT)
        conn.disconnect()
        assert transport.cleaned_up.wait(WAIT)

    sent = b"".join(transport.names("send"))
    assert sent.startswith(b"STOMP\n")  # every write went through send()
    assert b"SEND\n" in sent
    assert b"through the hooks" in sent
    assert b"DISCONNECT\n" in sent
    received = b"".join(data for data in transport.names("receive") if data)
    assert received.startswith(b"CONNECTED\n")  # every read went through receive()
    assert b"through the hooks" in received
    frames = transport.names("process_frame")
    assert frames[0] == "CONNECTED"
    assert "MESSAGE" in frames
    assert "RECEIPT" in frames
    assert transport.names("set_connected") == [True, False]
    assert transport.names("wait_for_connection") == [None]
    assert transport.names("disconnect_socket") == [None]
    assert transport.names("cleanup") == [None]
    # process_frame's default still dispatches to the listeners.
    assert listener.messages == 1
    assert listener.get_latest_message() is not None


def test_a_hook_that_raises_does_not_kill_the_connection() -> None:
    class Grumpy(RecordingTransport):
        def set_connected(self, connected: bool) -> None:
            raise RuntimeError("a bug in the user's hook")

    class GrumpyConnection(StompConnection12):
        def __init__(self, host_and_ports: list[tuple[str, int]]) -> None:
            transport = Grumpy(host_and_ports)
            BaseConnection.__init__(self, transport)
            Protocol12.__init__(self, transport)

    with run_broker_in_thread() as broker:
        conn = GrumpyConnection([(broker.host, broker.port)])
        listener = TestListener("r2")
        conn.set_listener("t", listener)
        conn.connect(wait=True)
        conn.send("/queue/grumpy", "still works", receipt="r2")
        assert listener.wait_on_receipt(WAIT)
        conn.disconnect()


def test_a_transport_that_overrides_notify_sees_every_message() -> None:
    # stomp.py routes every listener callback through Transport.notify, so code that
    # overrides it (or wraps it, as stomp_otel does for its process span) must see each
    # MESSAGE too, whichever listeners are registered: here one whose class defines
    # no on_before_message and whose instances have no __dict__ (__slots__), for which
    # the dispatch would otherwise skip notify.
    got = threading.Event()

    class Counting(Transport):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.kinds: list[str] = []

        def notify(self, frame_type: str, frame: Any = None) -> None:
            self.kinds.append(frame_type)
            super().notify(frame_type, frame)

    class Slotted:
        __slots__ = ()

        def on_message(self, frame: Frame) -> None:
            got.set()

    class CountingConnection(StompConnection12):
        def __init__(self, host_and_ports: list[tuple[str, int]]) -> None:
            transport = Counting(host_and_ports)
            BaseConnection.__init__(self, transport)
            Protocol12.__init__(self, transport)

    with run_broker_in_thread() as broker:
        conn = CountingConnection([(broker.host, broker.port)])
        conn.set_listener("slotted", Slotted())
        conn.connect(wait=True)
        conn.subscribe("/queue/counted", id="1")
        conn.send("/queue/counted", "seen by notify")
        assert got.wait(WAIT)
        conn.disconnect()
    kinds = conn.transport.kinds  # type: ignore[attr-defined]
    assert kinds.count("before_message") == 1
    assert kinds.count("message") == 1
    assert kinds.index("before_message") < kinds.index("message")


class TestBaseTransport:
    """stomp.py's ``BaseTransport()``: no arguments, hooks that do nothing, dispatch."""

    def test_process_frame_dispatches_to_listeners(self) -> None:
        transport = BaseTransport()
        listener = TestListener()
        transport.set_listener("t", listener)
        transport.process_frame(Frame("MESSAGE", {"destination": "/q"}, "hi"), None)
        transport.process_frame(Frame("heartbeat"), None)
        transport.process_frame(Frame("error", {}, None), None)
        transport.process_frame(Frame("NOT-A-FRAME", {}, "x"), b"raw")  # logged, ignored
        assert listener.messages == 1
        assert listener.heartbeat_count == 1
        assert listener.errors == 1

    def test_hooks_do_nothing_and_none_listener_is_refused(self) -> None:
        transport = BaseTransport()
        assert transport.send(b"") is None
        assert transport.receive() is None
        assert transport.cleanup() is None
        assert transport.attempt_connection() is None
        assert transport.disconnect_socket() is None
        transport.set_connected(True)
        assert transport.is_connected()
        transport.wait_for_connection(0.1)  # connected: returns at once
        with pytest.raises(AssertionError):  # what stomp.py raises
            transport.set_listener("x", None)


def test_the_connection_class_keeps_stomp_py_names() -> None:
    assert stomp.transport.Transport is Transport
