"""How the blocking driver calls listeners: whom it skips, and what it still notices.

The transport keeps, per callback kind, the listeners worth calling: one whose class
leaves ``on_<kind>`` to ConnectionListener's no-op (or lacks it) is skipped.  These
tests pin that skipping never hides a callback a listener really has.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from test_stomp_support import WAIT, Peer, fake_server

import stomp
from stomp.listener import ConnectionListener
from stomp.transport import BaseTransport
from stomp.utils import Frame


def test_listeners_run_in_name_order_and_a_raising_one_is_contained() -> None:
    transport = BaseTransport()
    calls: list[str] = []

    class Named(ConnectionListener):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_message(self, frame: Frame) -> None:
            calls.append(self.name)
            if self.name == "b":
                raise RuntimeError("listener bug")

    for name in ("c", "a", "b"):
        transport.set_listener(name, Named(name))
    transport.notify("message", Frame("MESSAGE"))
    assert calls == ["a", "b", "c"]


def test_a_callback_set_on_the_object_later_is_called() -> None:
    # Both listeners were skipped for on_message at first (the base no-op, and no
    # method at all); a method assigned to the object afterwards must be seen.
    transport = BaseTransport()
    base, plain = ConnectionListener(), type("Plain", (), {})()
    transport.set_listener("base", base)
    transport.set_listener("plain", plain)
    frame = Frame("MESSAGE")
    transport.notify("message", frame)
    seen: list[str] = []
    base.on_message = lambda f: seen.append("base")  # type: ignore[method-assign]
    plain.on_message = lambda f: seen.append("plain")
    transport.notify("message", frame)
    assert seen == ["base", "plain"]


def test_a_proxy_listener_is_asked_every_time() -> None:
    # A class with __getattr__ may answer any name: never skipped.
    transport = BaseTransport()
    seen: list[str] = []

    class Proxy:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: seen.append(name)

    transport.set_listener("p", Proxy())
    transport.notify("before_message", Frame("MESSAGE"))
    transport.notify("heartbeat")
    assert seen == ["on_before_message", "on_heartbeat"]


def test_a_listener_replaced_in_the_registry_directly_is_seen() -> None:
    # stomp.py code edits ``listeners`` directly; the cached plan must follow.
    transport = BaseTransport()
    seen: list[str] = []

    class Mark(ConnectionListener):
        def __init__(self, mark: str) -> None:
            self.mark = mark

        def on_receipt(self, frame: Frame) -> None:
            seen.append(self.mark)

    transport.set_listener("x", Mark("old"))
    transport.notify("receipt", Frame("RECEIPT"))
    transport.listeners["x"] = Mark("new")
    transport.notify("receipt", Frame("RECEIPT"))
    del transport.listeners["x"]
    transport.notify("receipt", Frame("RECEIPT"))
    assert seen == ["old", "new"]


def test_the_protocol_listener_hears_messages_without_being_called() -> None:
    # stomp.py's HeartbeatListener notes each MESSAGE in received_heartbeat; the
    # protocol listener reads it from the connection instead of a call per message.
    sent_at: list[float] = []
    done = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected(version="1.2", heart_beat="0,0")
        peer.expect("SUBSCRIBE")
        sent_at.append(time.monotonic())
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "m", "destination": "/q"})
        assert done.wait(WAIT)
        frame = peer.expect("DISCONNECT")
        peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})

    got = threading.Event()

    class Waiter(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            got.set()

    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], timeout=WAIT)
        conn.set_listener("w", Waiter())
        conn.connect(wait=True)
        protocol = conn.get_listener("protocol-listener")
        before = protocol.received_heartbeat
        conn.subscribe("/q", "1")
        assert got.wait(WAIT)
        heard = protocol.received_heartbeat
        assert heard is not None
        assert heard >= sent_at[0]
        assert before is None or heard >= before
        protocol.received_heartbeat = heard + 100.0  # stomp.py's code may set it
        assert protocol.received_heartbeat == heard + 100.0
        done.set()
        conn.disconnect()


def test_a_send_nobody_watches_leaves_exactly_as_one_a_listener_sees() -> None:
    # Without an on_send listener a SEND skips the stomp.py frame; the bytes on the
    # wire must not change, and a listener registered later must see the next one.
    raws: list[bytes] = []

    def script(peer: Peer) -> None:
        peer.connected(version="1.2", heart_beat="0,0")
        for _ in range(4):
            raws.append(peer.expect("SEND").raw)
        frame = peer.expect("DISCONNECT")
        peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})

    sent: list[Frame] = []

    class Watcher(ConnectionListener):
        def on_send(self, frame: Frame) -> None:
            sent.append(frame)

    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], timeout=WAIT)
        conn.connect(wait=True)
        conn.send("/q", "héllo", content_type="text/plain")
        conn.send("/q", b"")
        conn.set_listener("w", Watcher())
        conn.send("/q", "héllo", content_type="text/plain")
        conn.send("/q", b"")
        conn.disconnect()
    assert raws[0] == raws[2]
    assert raws[1] == raws[3]
    assert b"content-length:6\n" in raws[0]
    assert b"content-length" not in raws[1]
    assert [f.cmd for f in sent] == ["SEND", "SEND", "DISCONNECT"]
