"""The blocking driver against scripted fake brokers: connect, frames, dispatch, disconnect."""

from __future__ import annotations

import logging as std_logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from test_stomp_support import WAIT, Peer, fake_server, free_port

import stomp
from stomp._session import RECV_BYTES
from stomp.exception import ConnectFailedException, NotConnectedException
from stomp.listener import ConnectionListener, TestListener
from stomp.utils import Frame
from stomp_broker import RunningBroker


class Recorder(ConnectionListener):
    """Records every callback as ``(name, frame)`` and lets tests wait for one."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.cond = threading.Condition()

    def _add(self, name: str, frame: Any = None) -> None:
        with self.cond:
            self.events.append((name, frame))
            self.cond.notify_all()

    def names(self) -> list[str]:
        with self.cond:
            return [name for name, _ in self.events]

    def wait_for(self, name: str, count: int = 1, timeout: float = WAIT) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: self.names().count(name) >= count, timeout)
        assert ok, f"no {name} x{count}; saw {self.names()}"

    def frames(self, name: str) -> list[Frame]:
        with self.cond:
            return [frame for n, frame in self.events if n == name]

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        self._add("connecting", host_and_port)

    def on_connected(self, frame: Frame) -> None:
        self._add("connected", frame)

    def on_disconnecting(self) -> None:
        self._add("disconnecting")

    def on_disconnected(self) -> None:
        self._add("disconnected")

    def on_heartbeat_timeout(self) -> None:
        self._add("heartbeat_timeout")

    def on_before_message(self, frame: Frame) -> None:
        self._add("before_message", frame)

    def on_message(self, frame: Frame) -> None:
        self._add("message", frame)

    def on_receipt(self, frame: Frame) -> None:
        self._add("receipt", frame)

    def on_error(self, frame: Frame) -> None:
        self._add("error", frame)

    def on_send(self, frame: Frame) -> None:
        self._add("send", frame)

    def on_heartbeat(self) -> None:
        self._add("heartbeat")

    def on_receiver_loop_completed(self, frame: Frame | None) -> None:
        self._add("loop_completed", frame)


def graceful_end(peer: Peer) -> None:
    """Answer DISCONNECT with its RECEIPT."""
    frame = peer.expect("DISCONNECT")
    peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})
    peer.wait_eof()


def test_connect_send_disconnect_sequence() -> None:
    seen: dict[str, Any] = {}

    def script(peer: Peer) -> None:
        seen["connect"] = peer.connected(heart_beat="0,0")
        seen["send"] = peer.expect("SEND")
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], vhost="vh", timeout=WAIT)
        conn.set_listener("rec", recorder)
        conn.connect("user", "pw", wait=True, headers={"x-a": "1"}, x_b="2")
        assert conn.is_connected()
        conn.send("/queue/a", "héllo", content_type="text/plain", headers={"k": "v:w"})
        conn.disconnect()
        assert not conn.is_connected()
    connect = seen["connect"]
    assert connect.command == "STOMP"
    assert connect.headers["accept-version"] == "1.1"
    assert connect.headers["host"] == "vh"
    assert (connect.headers["login"], connect.headers["passcode"]) == ("user", "pw")
    assert (connect.headers["x-a"], connect.headers["x_b"]) == ("1", "2")
    assert "heart-beat" not in connect.headers
    send = seen["send"]
    assert send.body == "héllo".encode()
    assert send.headers["content-length"] == "6"
    assert send.headers["content-type"] == "text/plain"
    assert send.headers["k"] == "v\\cw"  # escaped for 1.1 (spec 1.1 "Value Encoding")
    assert recorder.names() == [
        "connecting",
        "send",
        "connected",
        "send",
        "disconnecting",
        "send",
        "disconnected",
        "receipt",
        "loop_completed",
    ]


def test_connect_wait_against_a_silent_server_fails_in_time() -> None:
    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        peer.wait_eof()

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ConnectFailedException):
            conn.connect(wait=True)
        assert time.monotonic() - started < 5
        assert not conn.is_connected()
        conn.disconnect()  # returns at once: the connection is gone


def test_connect_refused_by_error_frame() -> None:
    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        peer.send_frame("ERROR", {"message": "bad login"}, b"go away")

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        with pytest.raises(ConnectFailedException, match="bad login"):
            conn.connect("u", "wrong", wait=True)
        recorder.wait_for("disconnected")
    assert recorder.frames("error")[0].body == "go away"
    assert recorder.names().count("disconnected") == 1


def test_no_broker_fails_after_the_attempt_budget() -> None:
    conn = stomp.Connection(
        [("127.0.0.1", free_port())], reconnect_attempts_max=2, reconnect_sleep_initial=0.01
    )
    recorder = Recorder()
    conn.set_listener("r", recorder)
    with pytest.raises(ConnectFailedException, match="could not connect"):
        conn.connect(wait=True)
    assert recorder.names() == []


def test_frames_are_held_until_connected() -> None:
    # stomp.py let SEND follow CONNECT at once; the session only opens at CONNECTED.
    seen: list[str] = []
    release = threading.Event()

    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        assert release.wait(WAIT)
        peer.send_frame("CONNECTED", {"version": "1.1"})
        seen.append(peer.expect("SUBSCRIBE").headers["id"])
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect()
        threading.Timer(0.2, release.set).start()
        conn.subscribe("/topic/t", "7")
        conn.disconnect()
    assert seen == ["7"]


def test_messages_split_anywhere_after_eol_runs_are_all_delivered() -> None:
    message = (
        b"MESSAGE\nsubscription:1\nmessage-id:m{n}\ndestination:/q\ncontent-length:5\n\nab\0cd\0"
    )

    def script(peer: Peer) -> None:
        peer.connected(version="1.2", heart_beat="0,0")
        peer.expect("SUBSCRIBE")
        data = b"\r\n\n\n" + message.replace(b"{n}", b"1") + b"\n\n\r\n"
        data += message.replace(b"{n}", b"2") + message.replace(b"{n}", b"3")
        for i in range(len(data)):
            peer.send(data[i : i + 1])
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], timeout=WAIT, auto_decode=False)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        conn.subscribe("/q", "1")
        recorder.wait_for("message", 3)
        conn.disconnect()
    messages = recorder.frames("message")
    assert [m.headers["message-id"] for m in messages] == ["m1", "m2", "m3"]
    assert all(m.body == b"ab\0cd" for m in messages)
    assert recorder.names().count("heartbeat") >= 1  # the leading EOL run


def test_listener_order_before_message_and_original_headers() -> None:
    calls: list[str] = []

    class Named(ConnectionListener):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_before_message(self, frame: Frame) -> None:
            calls.append(f"{self.name}.before")
            frame.headers["seen-by"] = self.name

        def on_message(self, frame: Frame) -> None:
            calls.append(f"{self.name}.message:{frame.headers['seen-by']}")

    def script(peer: Peer) -> None:
        peer.connected()
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"})
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        for name in ("b", "a", "c"):
            conn.set_listener(name, Named(name))
        conn.set_listener("zz", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message")
        conn.disconnect()
    assert calls == [
        "a.before",
        "b.before",
        "c.before",
        "a.message:c",
        "b.message:c",
        "c.message:c",
    ]
    frame = recorder.frames("message")[0]
    assert "seen-by" not in frame.original_headers


def test_message_headers_come_in_wire_order_first_occurrence_winning() -> None:
    # As stomp.py's parser builds them: the broker's order, content-length included,
    # a repeated name keeping its first value (spec 1.2 "Repeated Header Entries"),
    # values unescaped (spec 1.2 "Value Encoding").
    def script(peer: Peer) -> None:
        peer.connected(version="1.2", heart_beat="0,0")
        peer.send(
            b"MESSAGE\ncontent-length:2\nx:first\nmessage-id:ID\\c1\ndestination:/q\n"
            b"subscription:1\nx:second\n\nhi\x00"
        )
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message")
        conn.disconnect()
    frame = recorder.frames("message")[0]
    assert list(frame.headers.items()) == [
        ("content-length", "2"),
        ("x", "first"),
        ("message-id", "ID:1"),
        ("destination", "/q"),
        ("subscription", "1"),
    ]
    assert frame.original_headers == frame.headers
    assert frame.original_headers is not frame.headers
    assert frame.body == "hi"


def test_a_listener_that_raises_is_logged_and_the_connection_lives_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Boom(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            raise RuntimeError("listener bug")

    def script(peer: Peer) -> None:
        peer.connected()
        for n in ("1", "2"):
            peer.send_frame("MESSAGE", {"subscription": "1", "message-id": n, "destination": "/q"})
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("a-boom", Boom())
        conn.set_listener("b-rec", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message", 2)
        assert conn.is_connected()
        conn.disconnect()
    assert "listener bug" in caplog.text
    assert recorder.names().count("disconnected") == 1


def test_server_drop_fires_on_disconnected_once_and_send_raises() -> None:
    def script(peer: Peer) -> None:
        peer.connected()

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("disconnected")
        assert not conn.is_connected()
        with pytest.raises(NotConnectedException):
            conn.send("/q", "x")
        conn.disconnect()
    names = recorder.names()
    assert names[-2:] == ["loop_completed", "disconnected"]
    assert names.count("disconnected") == 1


def test_disconnect_without_receipt_returns_in_time() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        peer.expect("DISCONNECT")
        peer.wait_eof()

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=0.5)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        started = time.monotonic()
        conn.disconnect()
        assert time.monotonic() - started < 5
    assert recorder.names().count("disconnected") == 1


def test_context_manager_when_the_connection_is_already_gone() -> None:
    def script(peer: Peer) -> None:
        peer.connected()

    recorder = Recorder()
    with fake_server(script) as server:
        started = time.monotonic()
        with stomp.Connection([server.address], timeout=WAIT) as conn:
            conn.set_listener("r", recorder)
            conn.connect(wait=True)
            recorder.wait_for("disconnected")
        assert time.monotonic() - started < 5
        assert conn.get_listener("ZZZZZ-disconnect-listener") is None


def test_context_manager_graceful() -> None:
    def script(peer: Peer) -> None:
        peer.connected(version="1.0", command="CONNECT")
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server, stomp.Connection10([server.address], timeout=WAIT) as conn:
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
    assert recorder.names()[-3:] == ["disconnected", "receipt", "loop_completed"]


def test_disconnect_before_connected_still_closes() -> None:
    # stomp.py skipped DISCONNECT before CONNECTED and leaked the connection (issue #182).
    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        peer.wait_eof()

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=0.5)
        conn.connect()
        conn.disconnect()
        assert not conn.is_connected()


def test_disconnect_before_connected_returns_at_once_and_closes_the_socket() -> None:
    # A broker that never answers CONNECT: disconnect() used to wait for CONNECTED for
    # the whole connect timeout (10 s here).  It must return within a second, and the
    # broker must see the socket closed.
    closed = threading.Event()

    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        peer.wait_eof(WAIT)
        closed.set()

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect()  # wait=False: CONNECT is out, CONNECTED never comes
        started = time.monotonic()
        conn.disconnect()
        assert time.monotonic() - started < 1
        assert closed.wait(1)
        assert not conn.is_connected()


def test_twenty_threads_sending_never_interleave() -> None:
    count, threads = 50, 20
    received: list[tuple[str, bytes]] = []

    def script(peer: Peer) -> None:
        peer.connected()
        for _ in range(count * threads):
            frame = peer.expect("SEND")
            received.append((frame.headers["destination"], frame.body))
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect(wait=True)

        def sender(n: int) -> None:
            for i in range(count):
                conn.send(f"/q/{n}", (f"{n}-{i}-" * 200).encode())

        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(sender, n) for n in range(threads)]:
                future.result(WAIT)
        conn.disconnect()
    assert len(received) == count * threads
    for destination, body in received:
        n = destination.rsplit("/", 1)[1]
        assert body.startswith(f"{n}-".encode())
        assert len(set(body.split(b"-")[::2])) == 2  # one sender's bytes only


def test_passcode_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        graceful_end(peer)

    caplog.set_level(std_logging.DEBUG, logger="stomp.py")
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("p", stomp.PrintingListener(print_to_log=True))
        conn.connect("user", "hunter2", wait=True)
        conn.disconnect()
    assert "user" in caplog.text
    assert "hunter2" not in caplog.text


def test_encoding_is_honoured_both_ways() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        send = peer.expect("SEND")
        assert send.body == "é".encode("utf-16")
        assert send.headers["content-length"] == str(len("é".encode("utf-16")))
        body = "ü".encode("utf-16")
        peer.send_frame(
            "MESSAGE",
            {"subscription": "1", "message-id": "1", "destination": "/q"}
            | {"content-length": str(len(body))},
            body,
        )
        graceful_end(peer)

    listener = TestListener()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT, encoding="utf-16")
        conn.set_listener("t", listener)
        conn.connect(wait=True)
        conn.send("/q", "é")
        assert listener.wait_for_message(WAIT)
        conn.disconnect()
    assert listener.get_latest_message() is not None
    assert listener.message_list[0][1] == "ü"


@pytest.mark.parametrize(
    ("version", "cls"),
    [("1.0", stomp.Connection10), ("1.1", stomp.Connection11), ("1.2", stomp.Connection12)],
)
def test_frames_per_version(version: str, cls: type[Any]) -> None:
    wire: list[Any] = []

    def script(peer: Peer) -> None:
        connect = peer.connected(version=version)
        wire.append(connect)
        while True:
            frame = peer.read_frame()
            wire.append(frame)
            if frame.command == "DISCONNECT":
                peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})
                peer.wait_eof()
                return

    with fake_server(script) as server:
        conn = cls([server.address], timeout=WAIT)
        conn.connect(wait=True)
        conn.subscribe("/q", None if version == "1.0" else "s1", ack="client")
        tx = conn.begin()
        assert isinstance(tx, str)
        assert conn.begin("tx2") == "tx2"
        if version == "1.1":
            conn.ack("m1", "s1", transaction=tx)
            conn.nack("m2", "s1", receipt="r1")
        elif version == "1.2":
            conn.ack("a1", transaction=tx)
            conn.nack("a2", receipt="r1", requeue="false")
        else:
            conn.ack("m1", transaction=tx)
            assert not hasattr(conn, "nack")
        conn.commit(tx)
        conn.abort("tx2")
        if version == "1.0":
            conn.unsubscribe(destination="/q")
        else:
            conn.unsubscribe("s1")
        conn.disconnect(receipt="bye")
    commands = [f.command for f in wire]
    connect = wire[0]
    assert connect.command == ("CONNECT" if version == "1.0" else "STOMP")
    if version == "1.0":
        assert "accept-version" not in connect.headers or connect.headers["accept-version"] == "1.0"
    else:
        assert connect.headers["accept-version"] == version
    if version != "1.0":
        assert connect.headers["host"] == "/"  # RabbitMQ's default vhost (see protocol.py)
    ack = wire[commands.index("ACK")]
    if version == "1.2":
        assert ack.headers["id"] == "a1"
        nack = wire[commands.index("NACK")]
        assert (nack.headers["id"], nack.headers["requeue"]) == ("a2", "false")
    elif version == "1.1":
        assert (ack.headers["message-id"], ack.headers["subscription"]) == ("m1", "s1")
        assert wire[commands.index("NACK")].headers["receipt"] == "r1"
    else:
        assert ack.headers["message-id"] == "m1"
    assert ack.headers["transaction"] == wire[commands.index("BEGIN")].headers["transaction"]
    assert commands[-3:] == ["ABORT", "UNSUBSCRIBE", "DISCONNECT"]
    assert wire[-1].headers["receipt"] == "bye"


def test_arguments_are_checked_with_real_exceptions() -> None:
    conn = stomp.Connection([("127.0.0.1", 1)])
    with pytest.raises(ValueError, match="destination"):
        conn.send("", "x")
    with pytest.raises(ValueError, match="id"):
        conn.subscribe("/q", None)
    with pytest.raises(TypeError):
        conn.send("/q", 12)
    with pytest.raises(ValueError, match="transaction"):
        conn.commit()
    with pytest.raises(AssertionError, match="listener"):  # what stomp.py raises
        conn.set_listener("x", None)
    with pytest.raises(NotConnectedException):
        conn.send("/q", "not connected yet")
    with pytest.raises(ValueError, match="timeout"):
        stomp.Connection(timeout=-1)
    with pytest.raises(ValueError, match="heartbeats"):
        stomp.Connection(heartbeats=(1,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keepalive"):
        stomp.Connection(keepalive=("windows", 1))
    with pytest.raises(ValueError, match="encoding"):
        stomp.Connection(encoding="no-such-codec")
    with pytest.raises(ValueError, match="tolerance"):
        stomp.Connection(heart_beat_receive_scale=0.5)


def test_header_values_the_version_cannot_carry_are_refused() -> None:
    def script(peer: Peer) -> None:
        peer.connected(version="1.0", command="CONNECT")
        frame = peer.expect("SEND")
        assert frame.headers["ok"] == "a:b"  # 1.0 has no escaping; ':' is fine after the first
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection10([server.address], timeout=WAIT)
        conn.connect(wait=True)
        with pytest.raises(ValueError, match="cannot contain"):
            conn.send("/q", "x", headers={"bad": "line\nbreak"})
        conn.send("/q", "x", headers={"ok": "a:b"})
        conn.disconnect()


def test_override_threading_with_a_pool() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        graceful_end(peer)

    with fake_server(script) as server, ThreadPoolExecutor(4) as pool:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.transport.override_threading(pool.submit)
        conn.connect(wait=True)
        assert conn.transport.receiver_thread is not None
        conn.disconnect()
        conn.transport.receiver_thread.result(WAIT)


def test_send_frame_and_on_send_may_change_headers() -> None:
    class Stamp(ConnectionListener):
        def on_send(self, frame: Frame) -> None:
            if frame.cmd == "SEND":
                frame.headers["stamped"] = "yes"

    def script(peer: Peer) -> None:
        peer.connected()
        frame = peer.expect("SEND")
        assert frame.headers["stamped"] == "yes"
        assert frame.headers["x"] == "1"
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("s", Stamp())
        conn.connect(wait=True)
        headers = {"destination": "/q", "x": 1}
        conn.send_frame("SEND", headers, "body")
        assert headers == {"destination": "/q", "x": 1}  # not modified (stomp.py issue #82)
        conn.disconnect()


def test_get_set_remove_listener_and_receipt() -> None:
    conn = stomp.Connection()
    listener = ConnectionListener()
    conn.set_listener("a", listener)
    assert conn.get_listener("a") is listener
    conn.remove_listener("a")
    assert conn.get_listener("a") is None
    with pytest.raises(KeyError):
        conn.remove_listener("a")
    conn.set_receipt("r", "SEND")
    conn.set_receipt("r", None)
    assert conn.transport.host_and_ports[0][1] == 61613


def test_disconnect_and_reconnect_from_inside_listeners() -> None:
    # The stomp.py way to reconnect: call connect() from on_disconnected.  Neither that
    # nor disconnect() from a callback may deadlock the thread that runs the listeners.
    reconnected = threading.Event()
    errors: list[BaseException] = []

    class Reconnector(ConnectionListener):
        def __init__(self) -> None:
            self.conn: Any = None
            self.drops = 0

        def on_message(self, frame: Frame) -> None:
            if frame.body == "quit":
                try:
                    self.conn.disconnect()
                except BaseException as exc:  # reported to the test below
                    errors.append(exc)

        def on_disconnected(self) -> None:
            self.drops += 1
            if self.drops == 1:
                try:
                    self.conn.connect(wait=True)
                    reconnected.set()
                except BaseException as exc:
                    errors.append(exc)

    def first(peer: Peer) -> None:
        peer.connected()  # then drop

    def second(peer: Peer) -> None:
        peer.connected()
        peer.send_frame(
            "MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"}, b"quit"
        )
        graceful_end(peer)

    recorder = Recorder()
    listener = Reconnector()
    with fake_server(first, second) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        listener.conn = conn
        conn.set_listener("a", listener)
        conn.set_listener("b", recorder)
        conn.connect(wait=True)
        assert reconnected.wait(WAIT)
        recorder.wait_for("disconnected", 2)
    assert errors == []
    assert recorder.names().count("connected") == 2


def test_slow_listener_applies_back_pressure_and_loses_nothing() -> None:
    total = 2500  # more than the dispatcher queue's high-water mark
    release = threading.Event()

    class Slow(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            release.wait(WAIT)

    def script(peer: Peer) -> None:
        peer.connected()
        frame = b"MESSAGE\nsubscription:1\nmessage-id:%d\ndestination:/q\n\nx\0"
        peer.send(b"".join(frame % n for n in range(total)))
        release.set()
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("a", Slow())
        conn.set_listener("b", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message", total)
        conn.disconnect()
    ids = [int(frame.headers["message-id"]) for frame in recorder.frames("message")]
    assert ids == list(range(total))


def test_raw_transport_send_and_second_connect_is_harmless() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        peer.expect("SEND")
        assert peer.heartbeats == 1  # the raw EOL
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect(wait=True)
        conn.connect(wait=True)  # already connected: a warning, no second CONNECT
        conn.transport.send(b"\n")
        conn.send("/q", "x")
        conn.disconnect()
        with pytest.raises(NotConnectedException):
            conn.transport.send(b"\n")


def test_int_ids_and_transactions_are_accepted() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        subscribe = peer.expect("SUBSCRIBE")
        assert subscribe.headers["id"] == "1"
        assert peer.expect("BEGIN").headers["transaction"] == "7"
        unsubscribe = peer.expect("UNSUBSCRIBE")
        assert unsubscribe.headers["id"] == "1"
        assert unsubscribe.headers["destination"] == "/q"
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect(wait=True)
        conn.subscribe(destination="/q", id=1, ack="auto")  # type: ignore[arg-type]
        assert conn.begin(7) == "7"  # type: ignore[arg-type]
        conn.unsubscribe(destination="/q", id=1)  # type: ignore[arg-type]  # stomp.py's tests
        assert conn.heartbeat_thread is None
        conn.disconnect()
    assert stomp.listener.CombinedListener is stomp.listener.TestListener


def test_a_blocked_write_does_not_stop_reading() -> None:
    # The broker stops reading while it sends us messages: our big SEND blocks in
    # sendall, and the messages must still be read and delivered meanwhile.
    size = 32 * 1024 * 1024  # more than the loopback socket buffers hold
    head = f"SEND\ndestination:/q\ncontent-length:{size}\n\n".encode()
    delivered = threading.Event()
    sender_was_blocked: list[bool] = []

    def script(peer: Peer) -> None:
        peer.connected()
        peer.sock.settimeout(WAIT)
        while len(peer.sock.recv(len(head), socket.MSG_PEEK)) < len(head):
            pass  # wait (without reading) until the big SEND is on its way
        # The client's write is now stuck (32 MiB cannot fit in the socket buffers):
        # the messages must be read and delivered all the same.
        for n in range(3):
            peer.send_frame(
                "MESSAGE", {"subscription": "1", "message-id": str(n), "destination": "/q"}
            )
        assert delivered.wait(WAIT)
        expected = len(head) + size + 1
        received = bytearray()
        while len(received) < expected:  # now read: the sender gets unblocked
            chunk = peer.sock.recv(1 << 20)
            assert chunk
            received += chunk
        assert received[: len(head)] == head
        peer.buffer += received[expected:]
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        sender = threading.Thread(target=conn.send, args=("/q", b"x" * size))
        sender.start()
        recorder.wait_for("message", 3)
        sender_was_blocked.append(sender.is_alive())
        delivered.set()
        sender.join(WAIT)
        conn.disconnect()
    assert sender_was_blocked == [True]


def test_a_write_the_broker_never_takes_fails_after_the_timeout() -> None:
    # The broker stops reading for good: the SEND must fail after about `timeout`
    # seconds without progress (the kernel's send timeout on plain TCP), not hang.
    finished = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected()
        assert finished.wait(WAIT)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=1)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        started = time.monotonic()
        with pytest.raises(NotConnectedException, match="stopped reading"):
            conn.send("/q", b"x" * (64 * 1024 * 1024))
        elapsed = time.monotonic() - started
        recorder.wait_for("disconnected")
        finished.set()
        conn.disconnect()
    assert 0.9 < elapsed < WAIT
    assert recorder.names().count("disconnected") == 1


@pytest.mark.parametrize(
    ("body", "encoding", "expected"),
    [
        ("abc", "utf-8", 3),
        ("é", "utf-8", 2),
        ("é", "latin-1", 1),
        ("abc", "utf-16", 8),  # BOM + 2 bytes per character: ASCII is not 1:1 here
        ("abc", "cp500", 3),
        (b"ab\x00", "utf-8", 3),
        (memoryview(b"abcd").cast("H"), "utf-8", 4),  # octets, not items
    ],
)
def test_content_length_shown_to_on_send_counts_encoded_octets(
    body: Any, encoding: str, expected: int
) -> None:
    from stomp.protocol import _encoded_length

    assert _encoded_length(body, encoding) == expected


def test_a_blocked_listener_bounds_what_the_client_holds(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # Issue 14.7: a listener that blocks must not let large bodies pile up in the client.
    # The I/O thread runs the listeners itself and reads nothing while one runs, so the
    # client holds the message being delivered and at most one read more; TCP holds the
    # broker back, and the broker keeps the rest.
    mib = 1024 * 1024
    total, size = 40, 4 * mib
    broker = broker_factory(max_stored_bytes=512 * mib)
    release, first = threading.Event(), threading.Event()

    class Blocked(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            first.set()
            release.wait(4 * WAIT)

    recorder = Recorder()
    consumer = stomp.Connection([broker], timeout=WAIT)
    consumer.set_listener("a", Blocked())
    consumer.set_listener("b", recorder)
    consumer.connect(wait=True)
    consumer.subscribe("/queue/big", id="1", ack="auto")
    producer = stomp.Connection([broker], timeout=WAIT)
    producer.connect(wait=True)
    for i in range(total):
        producer.send("/queue/big", b"%04d" % i + b"x" * (size - 4))
    producer.disconnect()  # waits for its receipt: the broker holds all of them
    try:
        assert first.wait(WAIT)
        session = consumer.transport._session
        assert session is not None
        # Give an unbounded reader the time to overshoot: the client must stay bounded.
        release.wait(0.5)
        assert session.core.receive_buffered <= RECV_BYTES
        assert len(recorder.frames("message")) == 0  # still inside the first delivery
        usage = broker.call(broker.broker.usage)
        assert usage.stored_bytes >= total * size // 2  # the broker holds the rest
    finally:
        release.set()
    recorder.wait_for("message", total, timeout=4 * WAIT)
    consumer.disconnect()
    bodies = [frame.body[:4] for frame in recorder.frames("message")]
    assert bodies == [f"{i:04d}" for i in range(total)]
