"""The blocking driver's SEND fast path (``Session.send_message``, issue 13): a plain
``conn.send`` without an ``on_send`` listener must write what the general path writes,
refuse what it refuses, and keep its guarantees (waiting for CONNECTED, write deadlines,
a failed write ending the connection)."""

from __future__ import annotations

import logging as std_logging
import socket
import threading
import time
from typing import Any

import pytest
from test_stomp_support import WAIT, Peer, fake_server

import stomp
from stomp._session import Session
from stomp.exception import NotConnectedException
from stomp.listener import ConnectionListener
from stomp.utils import Frame
from stomp_broker import RunningBroker

CLASSES = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}

# (destination, body, content type): str, bytes and buffer bodies, empty ones, text that
# needs escaping in 1.1 and 1.2, a non-ASCII destination.
SENDS: list[tuple[str, Any, str | None]] = [
    ("/queue/a", "hello", None),
    ("/queue/a", b"bytes \x00 with NUL", "application/octet-stream"),
    ("/queue/a", bytearray(b"array"), None),
    ("/queue/a", memoryview(b"view"), "text/plain"),
    ("/queue/a", "", None),
    ("/queue/a", b"", "text/plain;charset=utf-8"),
    ("/queue/é€", "é€", None),
    ("/queue/a", b"x" * 70_000, None),  # the core keeps a large body apart
]


class OnSend(ConnectionListener):
    """A listener that sees every frame sent, which puts SEND on the general path."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def on_send(self, frame: Frame) -> None:
        self.frames.append(frame)


class Writes:
    """What each session wrote, and which SENDs went through ``Session.send``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data: list[bytes] = []
        self.general_sends = 0
        send_all, send = Session._send_all, Session.send

        def record_write(session: Session, data: bytes, *args: Any) -> None:
            self.data.append(bytes(data))
            send_all(session, data, *args)

        def record_send(session: Session, frame: Any, *, wait_connected: float | None) -> None:
            if frame.command == "SEND":
                self.general_sends += 1
            send(session, frame, wait_connected=wait_connected)

        monkeypatch.setattr(Session, "_send_all", record_write)
        monkeypatch.setattr(Session, "send", record_send)

    def take(self) -> list[bytes]:
        data, self.data = self.data, []
        return data


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    return Writes(monkeypatch)


def _connect(broker: RunningBroker, version: str, **options: Any) -> Any:
    conn = CLASSES[version]([broker], timeout=WAIT, **options)
    conn.connect(wait=True)
    return conn


@pytest.mark.parametrize("version", sorted(CLASSES))
@pytest.mark.parametrize("auto_content_length", [True, False])
def test_the_fast_path_writes_what_the_general_path_writes(
    broker: RunningBroker, writes: Writes, version: str, auto_content_length: bool
) -> None:
    conn = _connect(broker, version, auto_content_length=auto_content_length)
    writes.take()
    for destination, body, content_type in SENDS:
        conn.send(destination, body, content_type=content_type)
    fast = writes.take()
    assert writes.general_sends == 0
    listener = OnSend()
    conn.set_listener("on-send", listener)
    for destination, body, content_type in SENDS:
        conn.send(destination, body, content_type=content_type)
    assert writes.general_sends == len(SENDS)
    assert len(listener.frames) == len(SENDS)
    assert fast == writes.take()
    conn.disconnect()


def test_empty_headers_take_the_fast_path_too(broker: RunningBroker, writes: Writes) -> None:
    conn = _connect(broker, "1.2")
    writes.take()
    conn.send("/queue/a", b"x", headers={})
    conn.send("/queue/a", b"x", "text/plain", {})
    fast = writes.take()
    assert writes.general_sends == 0
    conn.send("/queue/a", b"x", headers={"x": "1"})
    assert writes.general_sends == 1
    writes.take()
    conn.set_listener("on-send", OnSend())
    conn.send("/queue/a", b"x")
    conn.send("/queue/a", b"x", "text/plain")
    assert fast == writes.take()
    # Not a dict, even an empty one: refused as before.
    conn.remove_listener("on-send")
    with pytest.raises(TypeError, match="headers must be a dict"):
        conn.send("/queue/a", b"x", headers=[])  # type: ignore[arg-type]
    conn.disconnect()


@pytest.mark.parametrize(
    ("version", "destination", "reason"),
    [
        ("1.0", "/queue/a\nb", "cannot contain LF"),
        ("1.2", "/queue/a\x00b", "cannot contain NUL"),
        ("1.2", "/queue/\ud800", "not encodable"),
    ],
)
def test_a_destination_the_version_cannot_carry_is_refused_as_before(
    broker: RunningBroker, writes: Writes, version: str, destination: str, reason: str
) -> None:
    conn = _connect(broker, version)
    with pytest.raises(ValueError, match=reason) as fast:
        conn.send(destination, "x")
    assert writes.general_sends == 0
    conn.set_listener("on-send", OnSend())
    with pytest.raises(ValueError, match=reason) as general:
        conn.send(destination, "x")
    assert str(fast.value) == str(general.value)
    # The connection lives on: only that frame was refused.
    conn.remove_listener("on-send")
    conn.send("/queue/a", "fine")
    assert conn.is_connected()
    conn.disconnect()


def test_on_send_is_honoured_at_once_however_it_appears(
    broker: RunningBroker, writes: Writes
) -> None:
    conn = _connect(broker, "1.2")
    conn.send("/queue/a", "1")
    assert writes.general_sends == 0
    listener = OnSend()
    conn.set_listener("late", listener)
    conn.send("/queue/a", "2")
    assert [frame.body for frame in listener.frames] == ["2"]
    conn.remove_listener("late")
    conn.send("/queue/a", "3")
    # A callback set on a listener object after it was registered counts too.
    plain = ConnectionListener()
    conn.set_listener("plain", plain)
    conn.send("/queue/a", "4")
    seen: list[Frame] = []
    plain.on_send = seen.append  # type: ignore[method-assign]
    conn.send("/queue/a", "5")
    assert [frame.body for frame in seen] == ["5"]
    # A listener registry edited directly, as stomp.py's users may.
    del conn.transport.listeners["plain"]
    conn.transport.listeners["direct"] = listener
    conn.send("/queue/a", "6")
    assert [frame.body for frame in listener.frames] == ["2", "6"]
    assert writes.general_sends == 3
    conn.disconnect()


def test_debug_logging_shows_each_frame(
    broker: RunningBroker, writes: Writes, caplog: pytest.LogCaptureFixture
) -> None:
    conn = _connect(broker, "1.2")
    with caplog.at_level(std_logging.DEBUG, logger="stomp.py"):
        conn.send("/queue/logged", "shown")
    assert writes.general_sends == 1
    assert any("/queue/logged" in record.getMessage() for record in caplog.records)
    conn.send("/queue/a", "quiet")
    assert writes.general_sends == 1
    conn.disconnect()


def test_a_send_before_connected_waits_for_it(writes: Writes) -> None:
    # stomp.py wrote SEND right after CONNECT; the session holds it until CONNECTED.
    seen: list[bytes] = []
    release = threading.Event()

    def script(peer: Peer) -> None:
        peer.expect("STOMP")
        assert release.wait(WAIT)
        peer.send_frame("CONNECTED", {"version": "1.1"})
        seen.append(peer.expect("SEND").body)
        frame = peer.expect("DISCONNECT")
        peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})
        peer.wait_eof()

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.connect()
        threading.Timer(0.2, release.set).start()
        conn.send("/queue/a", "held")
        conn.disconnect()
    assert seen == [b"held"]


class _Unwritable:
    """A socket whose writes fail as a reset connection's do; the rest is the real one."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: bytes) -> int:
        raise ConnectionResetError(104, "Connection reset by peer")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def test_a_failed_write_ends_the_connection(broker: RunningBroker, writes: Writes) -> None:
    conn = _connect(broker, "1.2")
    session = conn.transport._session
    # The socket can no longer write (the broker does not know): the next SEND fails,
    # and says so.
    session.sock = _Unwritable(session.sock)
    with pytest.raises(NotConnectedException, match="sending failed"):
        conn.send("/queue/a", "lost")
    assert writes.general_sends == 0
    # A broken session takes the general path, which refuses as it always did.
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "after")
    assert session.io_done.wait(WAIT)  # the I/O thread saw it and finished
    assert not conn.is_connected()
    conn.disconnect()


def test_a_write_the_broker_never_takes_fails_after_the_timeout(writes: Writes) -> None:
    finished = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected()
        assert finished.wait(WAIT)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=1)
        conn.connect(wait=True)
        started = time.monotonic()
        with pytest.raises(NotConnectedException, match="stopped reading"):
            conn.send("/queue/a", b"x" * (64 * 1024 * 1024))
        elapsed = time.monotonic() - started
        finished.set()
        conn.disconnect()
    assert writes.general_sends == 0
    assert 0.9 < elapsed < WAIT
