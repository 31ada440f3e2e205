"""The link decisions both async drivers share (stomp_core.client._links)."""

from __future__ import annotations

from stomp_core import (
    CLIENT,
    Begin,
    Commit,
    Config,
    Connect,
    Connection,
    Disconnect,
    Send,
    Subscribe,
    Unsubscribe,
)
from stomp_core.client import (
    READ_AHEAD,
    ConnectionLost,
    exception_to_raise,
    reads_ahead,
    rearms,
    starts_deadline,
    unsent_buffers,
    write_timed_out,
)

from .helpers import ConnectionPair


def test_reads_ahead_only_while_paused_and_a_write_waits_below_the_bound() -> None:
    assert reads_ahead(paused=True, writing=True, eof=False, buffered=0)
    assert not reads_ahead(paused=False, writing=True, eof=False, buffered=0)
    assert not reads_ahead(paused=True, writing=False, eof=False, buffered=0)
    assert not reads_ahead(paused=True, writing=True, eof=True, buffered=0)
    assert not reads_ahead(paused=True, writing=True, eof=False, buffered=READ_AHEAD)


def test_rearms_only_for_an_earlier_deadline() -> None:
    assert rearms(5.0, None)  # nothing armed
    assert rearms(4.0, 5.0)
    assert not rearms(5.0, 5.0)
    assert not rearms(6.0, 5.0)  # the armed timer fires first and looks again
    assert not rearms(None, 5.0)
    assert not rearms(None, None)


def test_unsent_buffers_after_a_partial_write() -> None:
    body = b"0123456789"
    assert unsent_buffers([b"ab", body], 0) == [b"ab", body]
    rest = unsent_buffers([b"ab", body], 5)
    assert [bytes(b) for b in rest] == [b"3456789"]
    assert isinstance(rest[0], memoryview)
    assert unsent_buffers([b"ab", body], 2) == [body]
    assert unsent_buffers([b"ab", body], 12) == []


def test_write_timed_out_names_the_setting() -> None:
    error = write_timed_out(2.5)
    assert isinstance(error, ConnectionLost)
    assert "2.5 s (write_timeout)" in str(error)


class ExceptionGroup(Exception):  # a stand-in that runs before 3.11
    def __init__(self, message: str, exceptions: list[BaseException]) -> None:
        super().__init__(message)
        self.exceptions = tuple(exceptions)


def test_exception_to_raise_prefers_the_body_then_the_fatal_error() -> None:
    fatal = ConnectionLost("gone")
    body = ValueError("body")
    assert exception_to_raise(body, fatal) is None  # not a group
    assert (
        exception_to_raise(ExceptionGroup("g", [fatal, ExceptionGroup("h", [body])]), fatal) is body
    )
    assert (
        exception_to_raise(ExceptionGroup("g", [fatal, ExceptionGroup("h", [fatal])]), fatal)
        is fatal
    )
    two = ExceptionGroup("g", [body, KeyError("k")])
    assert exception_to_raise(two, fatal) is None


def test_only_connect_and_disconnect_start_a_deadline_in_the_core() -> None:
    # The rule lets a link skip asking for the timer after every other frame: checked
    # here against the core itself, so that a new deadline in the core breaks this test.
    fresh = Connection(CLIENT, Config())
    assert fresh.get_timer() is None
    fresh.send(Connect(accept_version=("1.2",), host="/"), now=0.0)
    assert fresh.get_timer() is not None
    assert starts_deadline("CONNECT")
    assert starts_deadline("STOMP")
    for beats in ((0, 0), (1000, 1000)):
        pair = ConnectionPair()
        pair.connect("1.2", client_heart_beat=beats, server_heart_beat=beats)
        client = pair.client
        frames = [
            Subscribe(destination="/q", id="s"),
            Send(destination="/q", body=b"x"),
            Begin(transaction="t"),
            Commit(transaction="t"),
            Unsubscribe(id="s"),
            Disconnect(receipt="bye"),
        ]
        for step, event in enumerate(frames, start=1):
            before = client.get_timer()
            client.send(event, now=step * 0.1)
            client.data_to_send(now=step * 0.1)
            after = client.get_timer()
            earlier = after is not None and (before is None or after < before)
            if not starts_deadline(event.command):
                assert not earlier, event
            elif beats == (0, 0):
                assert earlier, event  # the wait for DISCONNECT's RECEIPT
