"""stomp_asyncio: frames the client cannot place reach ``on_unhandled`` (conformance 88, 89),
and expected leftovers (late receipts, MESSAGEs in flight after UNSUBSCRIBE, the DISCONNECT's
own RECEIPT) do not.  Mirrors tests/drivers/test_trio_unhandled.py."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asyncio_harness import ScriptedServer, memory_client, run, servers

import stomp_asyncio
import stomp_core as sc


def test_unknown_message_and_receipt_reach_the_hook() -> None:
    unhandled: list[sc.Event] = []

    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), on_unhandled=unhandled.append)
        async with client, client.subscribe("/queue/a") as sub:
            subscribe = await server.next(sc.Subscribe)
            server.send(sc.Message(destination="/queue/z", message_id="zz", subscription="nope"))
            server.send(sc.Receipt(receipt_id="never-asked"))
            server.send(
                sc.Message(destination="/queue/a", message_id="m1", subscription=subscribe.id)
            )
            assert (await sub.get(5)).message_id == "m1"
        # The DISCONNECT went out with a receipt, and it was answered.
        [disconnect] = server.of(sc.Disconnect)
        assert disconnect.receipt is not None

    run(main)
    # The DISCONNECT's RECEIPT is the client's own: not reported.
    assert len(unhandled) == 2
    message, receipt = unhandled
    assert isinstance(message, sc.Message)
    assert (message.message_id, message.subscription) == ("zz", "nope")
    assert isinstance(receipt, sc.Receipt)
    assert receipt.receipt_id == "never-asked"


def test_without_a_hook_unknown_frames_are_logged_as_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            server.send(sc.Message(destination="/queue/z", message_id="zz", subscription="x"))
            server.send(sc.Receipt(receipt_id="r-odd"))
            # One round trip: the frames above were read before its RECEIPT.
            await client.send("/queue/a", b"x", receipt=True)

    with caplog.at_level(logging.WARNING, logger="stomp_asyncio"):
        run(main)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'zz'" in w and "'x'" in w for w in warnings), warnings
    assert any("'r-odd'" in w for w in warnings), warnings


def test_late_receipts_and_messages_in_flight_are_not_unhandled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unhandled: list[sc.Event] = []

    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server), receipt_timeout=5, on_unhandled=unhandled.append)

        async def broker() -> None:
            send = await server.next(sc.Send)
            await asyncio.sleep(10)  # past the receipt timeout
            assert send.receipt is not None
            server.send(sc.Receipt(receipt_id=send.receipt))
            subscribe = await server.next(sc.Subscribe)
            await server.next(sc.Unsubscribe)
            # Sent before the broker processed the UNSUBSCRIBE, in a real broker.
            server.send(
                sc.Message(destination="/queue/a", message_id="m-late", subscription=subscribe.id)
            )
            disconnect = await server.next(sc.Disconnect)
            assert disconnect.receipt is not None
            server.send(sc.Receipt(receipt_id=disconnect.receipt))
            assert server.transport is not None
            server.transport.close()

        async with client:
            script = asyncio.get_running_loop().create_task(broker())
            with pytest.raises(stomp_asyncio.ReceiptTimeout):
                await client.send("/queue/a", b"x", receipt=True)
            await asyncio.sleep(10)  # the late RECEIPT arrives
            async with client.subscribe("/queue/a"):
                pass
            await asyncio.sleep(1)  # the MESSAGE in flight arrives
        await script

    with caplog.at_level(logging.DEBUG, logger="stomp_asyncio"):
        run(main)
    assert unhandled == []
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("m-late" in d for d in debug), debug
    assert sum("arrived after its wait ended" in d for d in debug) == 2, debug  # SEND, DISCONNECT
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failing_hook_is_logged_and_the_connection_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def hook(event: sc.Event) -> None:
        raise RuntimeError("hook bug")

    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server), on_unhandled=hook) as client:
            server.send(sc.Receipt(receipt_id="odd"))
            await client.send("/queue/a", b"still fine", receipt=True)
            assert client.state is stomp_asyncio.ClientState.CONNECTED

    with caplog.at_level(logging.ERROR, logger="stomp_asyncio"):
        run(main)
    assert any("on_unhandled raised" in r.getMessage() for r in caplog.records)


def test_on_unhandled_must_be_callable() -> None:
    with pytest.raises(TypeError, match="on_unhandled"):
        stomp_asyncio.open_connection("stomp://h", on_unhandled="log")  # type: ignore[arg-type]
