"""stomp_trio: frames the client cannot place reach ``on_unhandled`` (conformance 88, 89),
and expected leftovers (late receipts, MESSAGEs in flight after UNSUBSCRIBE) do not."""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing
from test_trio_support import Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_unknown_message_and_receipt_reach_the_hook(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    unhandled: list[sc.Event] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await broker.send(
                sc.Message(destination="/queue/z", message_id="zz", subscription="nope")
            )
            await broker.send(sc.Receipt(receipt_id="never-asked"))
            await broker.message(sub, b"mine", message_id="m1")
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h", on_unhandled=unhandled.append, **options(network)
            ) as client,
            client.subscribe("/queue/a") as sub,
        ):
            assert (await sub.get()).message_id == "m1"
    # The DISCONNECT's RECEIPT is the client's own: not reported.
    assert len(unhandled) == 2
    message, receipt = unhandled
    assert isinstance(message, sc.Message)
    assert (message.message_id, message.subscription) == ("zz", "nope")
    assert isinstance(receipt, sc.Receipt)
    assert receipt.receipt_id == "never-asked"


async def test_without_a_hook_unknown_frames_are_logged_as_warnings(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.send(sc.Message(destination="/queue/z", message_id="zz", subscription="x"))
            await broker.send(sc.Receipt(receipt_id="r-odd"))
            await broker.finish_disconnect()

        nursery.start_soon(server)
        with caplog.at_level(logging.WARNING, logger="stomp_trio"):
            async with stomp_trio.open_connection("stomp://h", **options(network)):
                await trio.testing.wait_all_tasks_blocked()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'zz'" in w and "'x'" in w for w in warnings), warnings
    assert any("'r-odd'" in w for w in warnings), warnings


async def test_late_receipts_and_messages_in_flight_are_not_unhandled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    unhandled: list[sc.Event] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            send = await broker.expect(sc.Send)
            await trio.sleep(10)  # past the receipt timeout
            await broker.reply_receipt(send)
            sub = await broker.expect(sc.Subscribe)
            await broker.expect(sc.Unsubscribe)
            # Sent before the broker processed the UNSUBSCRIBE, in a real broker.
            await broker.message(sub, b"late", message_id="m-late")
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", receipt_timeout=5, on_unhandled=unhandled.append, **options(network)
        ) as client:
            with pytest.raises(stomp_trio.ReceiptTimeout):
                await client.send("/queue/a", b"x", receipt=True)
            await trio.sleep(10)  # the late RECEIPT arrives
            async with client.subscribe("/queue/a"):
                pass
            await trio.sleep(1)
    assert unhandled == []


async def test_a_failing_hook_is_logged_and_the_connection_carries_on(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    network = Network()

    def hook(event: sc.Event) -> None:
        raise RuntimeError("hook bug")

    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.send(sc.Receipt(receipt_id="odd"))
            send = await broker.expect(sc.Send)
            await broker.reply_receipt(send)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        with caplog.at_level(logging.ERROR, logger="stomp_trio"):
            async with stomp_trio.open_connection(
                "stomp://h", on_unhandled=hook, **options(network)
            ) as client:
                await trio.testing.wait_all_tasks_blocked()
                await client.send("/queue/a", b"still fine", receipt=True)
    assert any("on_unhandled raised" in r.getMessage() for r in caplog.records)
