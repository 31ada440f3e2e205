"""A MESSAGE without destination, message-id or subscription is delivered, as stomp.py does.

The spec says a server MUST send those headers (1.2 "MESSAGE"), but stomp.py delivers
whatever frame arrives and its own tests feed such frames; code that relies on it keeps
working.  The framing must be sound: a broken frame still ends the connection.
"""

from __future__ import annotations

import logging as std_logging
import threading

import pytest
from test_stomp_support import WAIT, Peer, fake_server

import stomp
from stomp.listener import TestListener


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_an_incomplete_message_is_delivered_with_a_debug_log(
    version: str, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected(version)
        peer.send(b"MESSAGE\ncontent-type:text/plain\n\nHello\n...world!\x00")
        peer.send_frame("RECEIPT", {"receipt-id": "after"})
        assert done.wait(WAIT)
        frame = peer.expect("DISCONNECT")
        peer.send_frame("RECEIPT", {"receipt-id": frame.headers["receipt"]})

    caplog.set_level(std_logging.DEBUG, logger="stomp.py")
    with fake_server(script) as server:
        cls = stomp.Connection12 if version == "1.2" else stomp.Connection11
        conn = cls([server.address], timeout=WAIT)
        listener = TestListener("after")
        conn.set_listener("t", listener)
        conn.connect(wait=True)
        assert listener.wait_on_receipt(WAIT)
        assert listener.get_latest_message() == ({"content-type": "text/plain"}, "Hello\n...world!")
        assert conn.is_connected()
        done.set()
        conn.disconnect()
    assert any("delivering a MESSAGE" in record.getMessage() for record in caplog.records)


def test_broken_framing_still_ends_the_connection() -> None:
    def script(peer: Peer) -> None:
        peer.connected("1.2")
        peer.send(b"MESSAGE\ncontent-length:x\n\nhi\x00")
        peer.wait_eof()

    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], timeout=WAIT)
        listener = TestListener()
        conn.set_listener("t", listener)
        conn.connect(wait=True)
        assert listener.wait_on_disconnected(WAIT)
        assert listener.messages == 0
