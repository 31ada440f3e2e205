"""The connection's output as a list of buffers (``buffers_to_send``): the same bytes as
``data_to_send``, in the same order, with every body of 64 KiB or more passed on as the
very object the application sent (never copied into the output buffer)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import Config, Frame, Message, Send, Subscribe
from stomp_core._connection import _SEPARATE_BODY

from .helpers import ConnectionPair, drain

LARGE = _SEPARATE_BODY


def _pair(heart_beat: tuple[int, int] = (0, 0), version: str = "1.2") -> ConnectionPair:
    pair = ConnectionPair(client_config=Config(), server_config=Config())
    pair.connect(version, client_heart_beat=heart_beat, server_heart_beat=heart_beat)
    return pair


def test_nothing_to_send_is_an_empty_list() -> None:
    pair = _pair()
    assert pair.client.buffers_to_send(now=0.0) == []
    assert pair.client.data_to_send(now=0.0) == b""


def test_small_frames_come_as_one_buffer() -> None:
    pair = _pair()
    pair.client.send(Send(destination="/q", body=b"a"), now=0.0)
    pair.client.send(Send(destination="/q", body=b"b", receipt="r-1"), now=0.0)
    [data] = pair.client.buffers_to_send(now=0.0)
    assert data == (
        b"SEND\ndestination:/q\ncontent-length:1\n\na\x00"
        b"SEND\ndestination:/q\nreceipt:r-1\ncontent-length:1\n\nb\x00"
    )
    # Taken: nothing is left, and the list handed out is not the connection's.
    assert pair.client.buffers_to_send(now=0.0) == []


@pytest.mark.parametrize("receipt", [None, "r-1"], ids=["fast path", "general path"])
def test_a_large_body_is_the_application_s_object(receipt: str | None) -> None:
    """The hot path and the general path both keep the body whole and uncopied."""
    pair = _pair()
    body = bytes(LARGE)
    pair.client.send(Send(destination="/q", body=b"x"), now=0.0)
    pair.client.send(Send(destination="/q", body=body, receipt=receipt), now=0.0)
    pair.client.send(Send(destination="/q", body=b"y"), now=0.0)
    head, sent, tail = pair.client.buffers_to_send(now=0.0)
    assert sent is body
    assert head.startswith(b"SEND\ndestination:/q\ncontent-length:1\n\nx\x00SEND\n")
    assert head.endswith(f"content-length:{LARGE}\n\n".encode())
    assert tail == b"\x00SEND\ndestination:/q\ncontent-length:1\n\ny\x00"
    # The server reads the three frames from the buffers, in order.
    pair.server.receive_data(b"".join((head, sent, tail)), now=0.0)
    events = [e for e in drain(pair.server) if isinstance(e, Send)]
    assert [e.body for e in events] == [b"x", body, b"y"]


def test_an_extension_frame_with_a_large_body_is_kept_whole() -> None:
    # STOMP 1.0 lets any frame carry a body (1.1+: only SEND, MESSAGE and ERROR).
    pair = _pair(version="1.0")
    body = b"z" * LARGE
    pair.client.send(Frame("X-BULK", (("k", "v"),), body), now=0.0)
    head, sent, tail = pair.client.buffers_to_send(now=0.0)
    assert (head, tail) == (b"X-BULK\nk:v\n\n", b"\x00")
    assert sent is body


def test_just_below_the_limit_is_copied() -> None:
    pair = _pair()
    pair.client.send(Send(destination="/q", body=bytes(LARGE - 1)), now=0.0)
    [data] = pair.client.buffers_to_send(now=0.0)
    assert data.endswith(bytes(LARGE - 1) + b"\x00")


@given(st.lists(st.sampled_from([0, 1, 100, LARGE, LARGE + 7]), max_size=6))
def test_buffers_and_data_to_send_give_the_same_bytes(sizes: list[int]) -> None:
    """Whatever the mix of sizes, the joined buffers equal data_to_send's bytes."""
    one, other = _pair(), _pair()
    for index, size in enumerate(sizes):
        for pair in (one, other):
            pair.client.send(Send(destination="/q", body=bytes([index]) * size), now=0.0)
    assert b"".join(one.client.buffers_to_send(now=0.0)) == other.client.data_to_send(now=0.0)
    assert one.client.data_to_send(now=0.0) == other.client.data_to_send(now=0.0) == b""


def test_taking_buffers_counts_as_sending_for_heart_beats() -> None:
    """STOMP 1.2 "Heart-beating": a frame written is activity; the send deadline moves."""
    pair = _pair(heart_beat=(1000, 1000))
    first = pair.client.get_timer()
    assert first is not None
    pair.client.send(Send(destination="/q", body=bytes(LARGE)), now=0.5)
    assert len(pair.client.buffers_to_send(now=0.5)) == 3
    later = pair.client.get_timer()
    assert later is not None
    assert later > first


def test_a_failed_write_drops_every_buffer() -> None:
    pair = _pair()
    pair.client.send(Send(destination="/q", body=bytes(LARGE)), now=0.0)
    pair.client.send_failed()
    assert pair.client.buffers_to_send(now=0.0) == []


def test_a_heart_beat_after_a_large_body_follows_it() -> None:
    """The EOL queued by the timer goes after the frame already queued, never before."""
    pair = _pair(heart_beat=(1000, 1000))
    body = bytes(LARGE)
    pair.client.send(Send(destination="/q", body=body), now=0.0)
    deadline = pair.client.get_timer()
    assert deadline is not None
    pair.client.handle_timer(now=deadline)
    buffers = pair.client.buffers_to_send(now=deadline)
    assert buffers[1] is body
    assert buffers[-1] == b"\x00"  # the frame's end: nothing extra was owed yet


def test_message_bodies_from_a_server_keep_the_same_path() -> None:
    pair = _pair()
    body = bytes(LARGE)
    pair.client.send(Subscribe(destination="/q", id="s"), now=0.0)
    pair.to_server()
    pair.server.send(
        Message(destination="/q", message_id="m", subscription="s", body=body), now=0.0
    )
    assert pair.server.buffers_to_send(now=0.0)[1] is body
