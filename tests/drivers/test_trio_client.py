"""stomp_trio against the scripted fake broker: connect, send, receipts, subscriptions,
acks per version, transactions, disconnect.  Mock time throughout: no real sleeps."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from test_trio_support import FakeBroker, Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def _serve_disconnect(broker: FakeBroker) -> None:
    await broker.finish_disconnect()


async def test_connect_negotiates_and_disconnect_waits_for_its_receipt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            connect = await broker.accept()
            # No vhost given: "/" (stock RabbitMQ's only vhost), not the dialled name.
            assert connect.host == "/"
            assert connect.login == "guest"
            assert connect.passcode == "secret"
            assert connect.accept_version == ("1.0", "1.1", "1.2")
            disconnect = await broker.expect(sc.Disconnect)
            assert disconnect.receipt is not None
            # The client must still be waiting: answer after a while.
            await trio.sleep(3)
            await broker.reply_receipt(disconnect)
            await broker.close()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://broker.example:61613",
            login="guest",
            passcode="secret",
            **options(network),
        ) as client:
            assert client.state is stomp_trio.ClientState.CONNECTED
            assert client.version == "1.2"
            assert client.session == "session-1"
            assert client.server == "fake/1.0"
            assert "secret" not in repr(client)
            start = trio.current_time()
        assert trio.current_time() - start == pytest.approx(3)
        assert client.state is stomp_trio.ClientState.CLOSED
    assert network.dials[0][:2] == ("broker.example", 61613)


async def test_vhost_and_extra_connect_headers(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            connect = await broker.accept(version="1.1")
            assert connect.host == "/"
            assert connect.get("client-id") == "me"
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            [("127.0.0.1", 1234)], vhost="/", headers={"client-id": "me"}, **options(network)
        ) as client:
            assert client.version == "1.1"


async def test_send_with_receipt_returns_only_when_confirmed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    confirmed_at: list[float] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            send = await broker.expect(sc.Send)
            assert send.destination == "/queue/a"
            assert send.body == "héllo".encode()
            assert send.content_type == "text/plain;charset=utf-8"
            assert send.get("priority") == "4"
            await trio.sleep(2)
            confirmed_at.append(trio.current_time())
            await broker.reply_receipt(send)
            plain = await broker.expect(sc.Send)
            assert plain.receipt is None
            assert plain.body == b"\x00raw"
            assert plain.content_type is None
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            await client.send("/queue/a", "héllo", headers={"priority": "4"}, receipt=True)
            assert trio.current_time() == confirmed_at[0]
            await client.send("/queue/a", b"\x00raw")


async def test_receipt_timeout(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            send = await broker.expect(sc.Send)
            await trio.sleep(30)
            await broker.reply_receipt(send)  # late: ignored by the client
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", receipt_timeout=5, **options(network)
        ) as client:
            start = trio.current_time()
            with pytest.raises(stomp_trio.ReceiptTimeout) as info:
                await client.send("/queue/a", b"x", receipt=True)
            assert trio.current_time() - start == pytest.approx(5)
            assert info.value.receipt_id.startswith("receipt-")
            await trio.sleep(40)  # the late receipt arrives and is dropped quietly
            assert client.state is stomp_trio.ClientState.CONNECTED


async def test_error_answering_a_receipted_send_raises_broker_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    changes: list[stomp_trio.StateChange] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            send = await broker.expect(sc.Send)
            await broker.send(
                sc.Error(
                    message="no such destination",
                    receipt_id=send.receipt,
                    body=b"details",
                    content_type="text/plain",
                )
            )
            await broker.close()

        errors: list[stomp_trio.BrokerError] = []

        async def session() -> None:
            async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
                observer = client.state_changes()
                with pytest.raises(stomp_trio.BrokerError) as info:
                    await client.send("/queue/nope", b"x", receipt=True)
                assert info.value.message == "no such destination"
                assert info.value.text == "details"
                errors.append(info.value)
                changes.append(await observer.__anext__())
                # ERROR is never retried: the client is closed ...
                assert client.state is stomp_trio.ClientState.CLOSED
                with pytest.raises(stomp_trio.ConnectionLost):
                    await client.send("/queue/a", b"y")
                await trio.sleep_forever()

        nursery.start_soon(server)
        with pytest.raises(stomp_trio.BrokerError) as outer:
            await session()
        # ... the body was cancelled, and the block raises the ERROR.
        assert outer.value is errors[0]
    assert [c.state for c in changes] == [stomp_trio.ClientState.CLOSED]
    assert isinstance(changes[0].error, stomp_trio.BrokerError)


async def test_error_answering_connect_is_connect_failed_and_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.expect(sc.Connect)
            await broker.send(sc.Error(message="bad credentials", body=b"who are you"))
            await broker.close()

        nursery.start_soon(server)
        with pytest.raises(stomp_trio.ConnectFailed) as info:
            async with stomp_trio.open_connection(
                "stomp://h",
                reconnect=stomp_trio.ReconnectPolicy(retry_first_connect=True),
                **options(network),
            ):
                pytest.fail("connected")  # pragma: no cover
        assert "bad credentials" in info.value.message
        assert info.value.body == b"who are you"
    assert len(network.dials) == 1


@pytest.mark.parametrize(
    ("version", "ack_header"),
    [("1.0", "message-id"), ("1.1", "message-id"), ("1.2", "id")],
)
async def test_subscribe_iterate_ack_nack_per_version(
    autojump_clock: trio.testing.MockClock, version: str, ack_header: str
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(version=version)
            sub = await broker.expect(sc.Subscribe)
            assert sub.destination == "/queue/work"
            assert sub.ack == "client-individual" if version != "1.0" else "client"
            assert sub.get("prefetch-count") == "1"
            await broker.reply_receipt(sub)
            for n in (1, 2):
                await broker.message(
                    sub,
                    f"job {n}".encode(),
                    message_id=f"m{n}",
                    ack=f"a{n}" if version == "1.2" else None,
                    headers=(("x-n", str(n)),),
                )
            ack = await broker.expect(sc.Ack)
            assert type(ack) is sc.Ack
            assert ack.id == ("a1" if version == "1.2" else "m1")
            if version == "1.1":
                assert ack.subscription == sub.id
            if version != "1.0":
                nack = await broker.expect(sc.Nack)
                assert nack.id == ("a2" if version == "1.2" else "m2")
                await broker.reply_receipt(nack)
            unsubscribe = await broker.expect(sc.Unsubscribe)
            assert unsubscribe.id == sub.id
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", versions=(version,), **options(network)
        ) as client:
            ack_mode = "client" if version == "1.0" else "client-individual"
            async with client.subscribe(
                "/queue/work", ack=ack_mode, headers={"prefetch-count": "1"}, receipt=True
            ) as subscription:
                assert subscription.id == "sub-1"
                received = []
                async for message in subscription:
                    received.append(message)
                    assert message.destination == "/queue/work"
                    assert message.subscription is subscription
                    assert message.headers["x-n"] == str(len(received))
                    assert message.headers["message-id"] == f"m{len(received)}"
                    assert message.text == f"job {len(received)}"
                    if len(received) == 1:
                        await message.ack()
                    else:
                        if version == "1.0":
                            with pytest.raises(stomp_trio.LocalProtocolError):
                                await message.nack()
                        else:
                            await message.nack(receipt=True)
                        break
            assert subscription.closed


async def test_ack_on_auto_subscription_is_refused(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await broker.message(sub, b"x", message_id="m1")
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection("stomp://h", **options(network)) as client,
            client.subscribe("/topic/t") as sub,
        ):
            message = await sub.get()
            with pytest.raises(stomp_trio.LocalProtocolError):
                await message.ack()


async def test_transaction_commits_with_receipt_and_aborts_on_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            begin = await broker.expect(sc.Begin)
            send = await broker.expect(sc.Send)
            assert send.transaction == begin.transaction
            commit = await broker.expect(sc.Commit)
            assert commit.transaction == begin.transaction
            await broker.reply_receipt(commit)
            begin2 = await broker.expect(sc.Begin)
            assert begin2.transaction != begin.transaction
            await broker.expect(sc.Send)
            abort = await broker.expect(sc.Abort)
            assert abort.transaction == begin2.transaction
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            async with client.transaction() as tx:
                await tx.send("/queue/a", b"1")
            aborted: list[stomp_trio.Transaction] = []

            async def failing_transaction() -> None:
                async with client.transaction() as tx:
                    aborted.append(tx)
                    await client.send("/queue/a", b"2", transaction=tx)
                    raise ValueError("boom")

            with pytest.raises(ValueError, match="boom"):
                await failing_transaction()
            with pytest.raises(RuntimeError, match="already aborted"):
                await aborted[0].send("/queue/a", b"after the end")


async def test_body_exception_propagates_unwrapped_after_graceful_disconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    disconnected = trio.Event()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.finish_disconnect()
            disconnected.set()

        nursery.start_soon(server)
        with pytest.raises(KeyError):
            async with stomp_trio.open_connection("stomp://h", **options(network)):
                raise KeyError("body")
        assert disconnected.is_set()


async def test_disconnect_is_bounded_by_the_core_disconnect_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.expect(sc.Disconnect)
            await trio.sleep_forever()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", disconnect_timeout=4, **options(network)
        ) as client:
            changes = client.state_changes()
            start = trio.current_time()
        assert trio.current_time() - start == pytest.approx(4)
        seen = [change async for change in changes]
        assert [c.state for c in seen] == [
            stomp_trio.ClientState.DISCONNECTING,
            stomp_trio.ClientState.CLOSED,
        ]
        assert "no RECEIPT for DISCONNECT" in str(seen[-1].error)
        nursery.cancel_scope.cancel()


async def test_state_changes_report_the_lifecycle(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    seen: list[stomp_trio.ClientState] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:

            async def watch() -> None:
                async with client.state_changes() as changes:
                    async for change in changes:
                        seen.append(change.state)

            nursery.start_soon(watch)
            await trio.testing.wait_all_tasks_blocked()
    assert seen == [stomp_trio.ClientState.DISCONNECTING, stomp_trio.ClientState.CLOSED]


async def test_a_frame_that_came_with_connected_is_handled_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.expect(sc.Connect)
            # CONNECTED and ERROR in one write: the ERROR sits in the core's buffer
            # when the handshake returns, with no more bytes to come.
            broker.core.send(sc.Connected(version="1.2"), now=trio.current_time())
            broker.core.send(sc.Error(message="shutting down"), now=trio.current_time())
            await broker.flush()
            await trio.sleep_forever()

        seen: list[stomp_trio.StateChange] = []

        async def session() -> None:
            async with (
                stomp_trio.open_connection("stomp://h", **options(network)) as client,
                client.state_changes() as changes,
            ):
                seen.append(await changes.__anext__())
                await trio.sleep_forever()  # the failed client cancels the body

        nursery.start_soon(server)
        with pytest.raises(stomp_trio.BrokerError, match="shutting down"):
            await session()
        [change] = seen
        assert change.state is stomp_trio.ClientState.CLOSED
        assert isinstance(change.error, stomp_trio.BrokerError)
        assert trio.current_time() == 0
        nursery.cancel_scope.cancel()


async def test_explicit_unsubscribe_commit_and_abort_with_receipts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await broker.message(sub, b"kept", message_id="m1")
            unsubscribe = await broker.expect(sc.Unsubscribe)
            assert unsubscribe.id == sub.id
            await broker.reply_receipt(unsubscribe)
            await broker.expect(sc.Begin)
            commit = await broker.expect(sc.Commit)
            await broker.reply_receipt(commit)
            await broker.expect(sc.Begin)
            abort = await broker.expect(sc.Abort)
            await broker.reply_receipt(abort)
            # Nothing else: leaving the blocks sends no second UNSUBSCRIBE/COMMIT/ABORT.
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            async with client.subscribe("/queue/a") as sub:
                await trio.testing.wait_all_tasks_blocked()
                await sub.unsubscribe(receipt=True)
                assert [m.body async for m in sub] == [b"kept"]
            async with client.transaction() as tx:
                await tx.commit()
            async with client.transaction() as tx:
                await tx.abort(receipt=True)


async def test_manual_transaction_with_named_id_and_ack_by_transaction_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await broker.message(sub, b"x", message_id="m1", ack="a1")
            begin = await broker.expect(sc.Begin)
            assert begin.transaction == "batch-7"
            ack = await broker.expect(sc.Ack)
            assert (ack.id, ack.transaction) == ("a1", "batch-7")
            commit = await broker.expect(sc.Commit)
            await broker.reply_receipt(commit)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection("stomp://h", **options(network)) as client,
            client.subscribe("/queue/a", ack="client", buffer=1) as sub,
        ):
            message = await sub.get()
            assert message.from_current_connection
            await trio.testing.wait_all_tasks_blocked()
            assert not sub.full
            tx = client.transaction(id="batch-7")
            await tx.begin()
            with pytest.raises(RuntimeError, match="already begun"):
                await tx.begin()
            await message.ack(transaction="batch-7")
            await tx.commit()
            await sub.close()
            assert sub.closed
            with pytest.raises(stomp_trio.ConnectionLost, match="closed"):
                await sub.get()


async def test_public_surface() -> None:
    assert sorted(stomp_trio.__all__) == [
        "AckMode",
        "BrokerError",
        "Client",
        "ClientState",
        "ConnectFailed",
        "ConnectionLost",
        "Endpoint",
        "LocalProtocolError",
        "Message",
        "ProtocolViolation",
        "ReceiptTimeout",
        "ReconnectPolicy",
        "StateChange",
        "StateChanges",
        "StompError",
        "StreamFactory",
        "Subscription",
        "Transaction",
        "open_connection",
    ]
    for name in stomp_trio.__all__:
        assert getattr(stomp_trio, name) is not None
    # The exceptions are the ones the asyncio driver raises too: one class, from the core.
    import stomp_asyncio

    assert stomp_trio.ConnectionLost.__module__ == "stomp_core.client._errors"
    assert stomp_trio.ConnectionLost is stomp_asyncio.ConnectionLost
