"""stomp_asyncio against a scripted server (core SERVER role) over in-memory transports:
connecting, sending, receipts, subscriptions, acknowledgements, transactions, errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asyncio_harness import ScriptedServer, memory_client, run, servers, wait_until

import stomp_asyncio
from stomp_asyncio import BrokerError, ConnectFailed, ReceiptTimeout
from stomp_core import (
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Disconnect,
    Error,
    LocalProtocolError,
    Message,
    Nack,
    Send,
    Subscribe,
    Unsubscribe,
)


def deliver(server: ScriptedServer, sub: Subscribe, n: int, **fields: object) -> None:
    """Send ``n`` MESSAGE frames for ``sub`` (ids m1..mn)."""
    for i in range(1, n + 1):
        server.send(
            Message(
                destination=sub.destination,
                message_id=f"m{i}",
                subscription=sub.id,
                ack=f"a{i}" if sub.ack != "auto" else None,
                body=f"body {i}".encode(),
                **fields,  # type: ignore[arg-type]
            )
        )


def test_connect_frame_and_negotiated_session() -> None:
    async def main() -> None:
        server = ScriptedServer(heart_beat=(0, 0))
        client = memory_client(
            servers(server),
            login="guest",
            passcode="s3cret",
            vhost="/vh",
            headers={"client-id": "c1"},
            versions=("1.1", "1.2"),
        )
        async with client:
            assert client.state is stomp_asyncio.ClientState.CONNECTED
            assert client.version == "1.2"
            assert client.session == "session-1"
            assert str(client.endpoint) == "broker:61613"
        [connect] = server.of(Connect)
        assert connect.accept_version == ("1.1", "1.2")
        assert connect.host == "/vh"
        assert (connect.login, connect.passcode) == ("guest", "s3cret")
        assert connect.get("client-id") == "c1"
        assert "s3cret" not in repr(connect)

    run(main)


def test_host_header_defaults_to_slash_and_reserved_headers_refused() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server), "stomp://mq.example:1234"):
            pass
        # "/", stock RabbitMQ's only vhost, not the dialled name (refused there).
        assert server.of(Connect)[0].host == "/"

    run(main)
    with pytest.raises(ValueError, match="login"):
        memory_client(servers(), headers={"login": "x"})


def test_text_body_is_utf8_with_content_type_and_bytes_pass_through() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            await client.send("/queue/a", "héllo")
            await client.send("/queue/a", b"\x00\x01", content_type="application/octet-stream")
            await client.send("/queue/a", "grüß", content_type="text/plain;charset=latin-1")
            await client.send("/queue/a", b"x", headers={"persistent": "true"})
            await server.next(Send)
        text, raw, latin, extra = server.of(Send)
        assert text.body == "héllo".encode()
        assert text.content_type == "text/plain;charset=utf-8"
        assert raw.body == b"\x00\x01"
        assert raw.content_type == "application/octet-stream"
        assert latin.body == "grüß".encode("latin-1")
        assert extra.get("persistent") == "true"

    run(main)


def test_receipt_confirms_send() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            await client.send("/queue/a", "x", receipt=True)
            [send] = server.of(Send)
            assert send.receipt is not None
            assert client._session.receipts == {}

    run(main)


def test_receipt_timeout_on_virtual_clock() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        async with memory_client(servers(server), receipt_timeout=7.0) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(ReceiptTimeout) as info:
                await client.send("/queue/a", "x", receipt=True)
            assert loop.time() - start == pytest.approx(7.0)
            assert info.value.receipt_id == server.of(Send)[0].receipt
            assert isinstance(info.value, TimeoutError)
            # The connection is still fine.
            await client.send("/queue/a", "y")
            server.auto_receipt = True

    run(main)


def test_error_answering_a_receipt_fails_that_send_and_ends_the_client() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server))
        caught: list[BaseException] = []

        async def body() -> None:
            async with client:
                task = asyncio.create_task(client.send("/queue/x", "x", receipt=True))
                send = await server.next(Send)
                server.send(
                    Error(message="no such queue", body=b"details", receipt_id=send.receipt)
                )
                try:
                    await task
                except BrokerError as exc:
                    caught.append(exc)
                await asyncio.sleep(3600)  # the client cancels the body: the session is over

        with pytest.raises(BrokerError) as outer:
            await body()
        send = server.of(Send)[0]
        assert outer.value.message == "no such queue"
        [inner] = caught
        assert inner.message == "no such queue"
        assert inner.body == b"details"
        assert inner.receipt_id == send.receipt
        assert client.state is stomp_asyncio.ClientState.CLOSED

    run(main)


def test_connect_refused_by_error_frame() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_connect=False)
        client = memory_client(servers(server, ScriptedServer()))

        async def refuse() -> None:
            await server.next(Connect)
            server.send(Error(message="bad credentials", body=b"user unknown"))

        refusing = asyncio.create_task(refuse())
        with pytest.raises(ConnectFailed) as info:
            async with client:
                pass
        await refusing
        assert info.value.refused
        assert "bad credentials" in info.value.message
        assert info.value.body == b"user unknown"
        assert len(client.dials) == 1  # a refusal is never retried

    run(main)


def test_connect_timeout_is_the_cores_timer() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_connect=False)
        client = memory_client(servers(server), connect_timeout=4.0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ConnectFailed, match="CONNECTED"):
            async with client:
                pass
        assert loop.time() - start == pytest.approx(4.0)
        assert client.state is stomp_asyncio.ClientState.CLOSED

    run(main)


def test_refused_transport_tries_every_host_once_then_fails() -> None:
    async def main() -> None:
        client = memory_client(servers(), ["stomp://a:1", ("b", 2)])
        with pytest.raises(ConnectFailed, match="could not connect") as info:
            async with client:
                pass
        assert [str(e) for e, _ in client.dials] == ["a:1", "b:2"]
        assert isinstance(info.value.__cause__, ConnectFailed)

    run(main)


def test_subscribe_receive_ack_nack_per_version() -> None:
    async def main(version: str) -> None:
        server = ScriptedServer(version=version)
        async with memory_client(servers(server), versions=(version,)) as client:
            async with client.subscribe("/queue/a", ack="client-individual") as sub:
                subscribe = await server.next(Subscribe)
                assert subscribe.id == sub.id == "sub-1"
                deliver(server, subscribe, 2)
                first = await sub.get(5)
                second = await sub.get(5)
                await first.ack()
                await second.nack()
                ack = await server.next(Ack)
                nack = await server.next(Nack)
                if version == "1.2":
                    assert (ack.id, nack.id) == ("a1", "a2")
                else:
                    assert (ack.id, nack.id) == ("m1", "m2")
                assert ack.subscription == "sub-1"
            unsubscribe = await server.next(Unsubscribe)
            assert unsubscribe.id == "sub-1"

    for version in ("1.1", "1.2"):
        run(lambda: main(version))  # noqa: B023 - run() is synchronous


def test_stomp_10_has_no_nack_and_auto_subscriptions_refuse_ack() -> None:
    async def main() -> None:
        server = ScriptedServer(version="1.0")
        async with memory_client(servers(server), versions=("1.0",)) as client:
            async with client.subscribe("/queue/a", ack="client") as sub:
                subscribe = await server.next(Subscribe)
                deliver(server, subscribe, 1)
                message = await sub.get(5)
                with pytest.raises(LocalProtocolError):
                    await message.nack()
                await message.ack()
                assert (await server.next(Ack)).id == "m1"
            async with client.subscribe("/queue/b") as sub:
                subscribe = await server.next(Subscribe)
                deliver(server, subscribe, 1)
                message = await sub.get(5)
                with pytest.raises(LocalProtocolError):
                    await message.ack()

    run(main)


def test_message_text_and_headers() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client, client.subscribe("/topic/t") as sub:
            subscribe = await server.next(Subscribe)
            server.send(
                Message(
                    destination="/topic/t",
                    message_id="m1",
                    subscription=subscribe.id,
                    body="café".encode("latin-1"),
                    content_type="text/plain; charset=ISO-8859-1",
                    headers=(("x-custom", "1"), ("x-custom", "2")),
                )
            )
            message = await sub.get(5)
            assert message.text == "café"
            assert message.headers["x-custom"] == "1"
            assert message.headers["message-id"] == "m1"
            assert message.destination == "/topic/t"
            assert message.message_id == "m1"
            assert message.content_type == "text/plain; charset=ISO-8859-1"

    run(main)


def test_unknown_subscription_is_logged_not_silent(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client, client.subscribe("/queue/a") as sub:
            subscribe = await server.next(Subscribe)
            server.send(Message(destination="/queue/z", message_id="zz", subscription="nope"))
            deliver(server, subscribe, 1)
            assert (await sub.get(5)).message_id == "m1"

    with caplog.at_level(logging.WARNING, logger="stomp_asyncio"):
        run(main)
    assert any("zz" in r.getMessage() and "nope" in r.getMessage() for r in caplog.records)


def test_transaction_commit_and_abort() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with (
            memory_client(servers(server)) as client,
            client.subscribe("/queue/in", ack="client") as sub,
        ):
            subscribe = await server.next(Subscribe)
            deliver(server, subscribe, 1)
            message = await sub.get(5)
            async with client.transaction() as tx:
                await tx.send("/queue/out", "a")
                await tx.ack(message)

            async def failing() -> None:
                async with client.transaction() as tx2:
                    await tx2.send("/queue/out", "b")
                    raise RuntimeError("boom")

            with pytest.raises(RuntimeError, match="boom"):
                await failing()
            await server.next(Abort)
        begin1, begin2 = [e for e in server.of(Begin) if type(e) is Begin]
        assert (begin1.transaction, begin2.transaction) == ("tx-1", "tx-2")
        sends = server.of(Send)
        assert [s.transaction for s in sends] == ["tx-1", "tx-2"]
        [commit] = server.of(Commit)
        assert commit.transaction == "tx-1"
        assert commit.receipt is not None
        assert server.of(Ack)[0].transaction == "tx-1"
        assert server.of(Abort)[0].transaction == "tx-2"

    run(main)


def test_transaction_explicit_calls_and_misuse() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            tx = client.transaction(id="mine")
            with pytest.raises(RuntimeError, match="never begun"):
                await tx.send("/q", "x")
            await tx.begin()
            with pytest.raises(RuntimeError, match="already begun"):
                await tx.begin()
            await tx.commit()
            with pytest.raises(RuntimeError, match="already committed"):
                await tx.commit()
            with pytest.raises(LocalProtocolError):
                await client.send("/q", "x", transaction="never-begun")
        assert server.of(Commit)[0].transaction == "mine"

    run(main)


def test_disconnect_on_exit_uses_a_receipt() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server))
        async with client:
            pass
        [disconnect] = server.of(Disconnect)
        assert disconnect.receipt is not None
        assert client.state is stomp_asyncio.ClientState.CLOSED
        await asyncio.wait_for(server.lost.wait(), 5)

    run(main)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="scheme"):
        stomp_asyncio.open_connection("http://x")
    with pytest.raises(ValueError, match="ssl=False"):
        stomp_asyncio.open_connection("stomp+ssl://x", ssl=False)
    with pytest.raises(TypeError):
        stomp_asyncio.open_connection("stomp://x", ssl="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="subscription_buffer"):
        stomp_asyncio.open_connection("stomp://x", subscription_buffer=0)
    with pytest.raises(ValueError, match="receipt_timeout"):
        stomp_asyncio.open_connection("stomp://x", receipt_timeout=0)
    with pytest.raises(TypeError):
        stomp_asyncio.open_connection("stomp://x", reconnect=3)  # type: ignore[arg-type]
    client = stomp_asyncio.open_connection("stomp://x")
    with pytest.raises(ValueError, match="ack"):
        client.subscribe("/q", ack="sometimes")


def test_operations_outside_the_block_fail_cleanly() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server))
        with pytest.raises(stomp_asyncio.ConnectionLost):
            await client.send("/q", "x")
        async with client:
            pass
        with pytest.raises(stomp_asyncio.ConnectionLost):
            await client.send("/q", "x")
        with pytest.raises(RuntimeError, match="one 'async with'"):
            async with client:
                pass

    run(main)


def test_unsubscribe_with_receipt_and_buffered_messages_stay_readable() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            sub = client.subscribe("/queue/a", headers={"prefetch-count": "5"}, buffer=7)
            assert sub.capacity == 7
            assert sub.headers == {"prefetch-count": "5"}
            async with sub:
                subscribe = await server.next(Subscribe)
                deliver(server, subscribe, 2)
                await wait_until(lambda: sub.buffered == 2)
                await sub.unsubscribe(receipt=True)
                assert sub.closed
                unsubscribe = await server.next(Unsubscribe)
                assert unsubscribe.receipt is not None
                assert [m.message_id async for m in sub] == ["m1", "m2"]
                with pytest.raises(stomp_asyncio.ConnectionLost, match="closed"):
                    await sub.get(1)
            assert len(server.of(Unsubscribe)) == 1  # leaving the block added nothing
            with pytest.raises(RuntimeError, match="once"):
                await sub.__aenter__()
            assert repr(client) == "<stomp_asyncio.Client connected broker:61613 STOMP 1.2>"

    run(main)


def test_transaction_receipts_and_abort_after_loss_is_a_no_op() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(
            servers(first, second), reconnect=stomp_asyncio.ReconnectPolicy(jitter=0.0)
        )
        async with client, client.subscribe("/queue/a", ack="client") as sub:
            subscribe = await first.next(Subscribe)
            deliver(first, subscribe, 1)
            message = await sub.get(5)
            tx = client.transaction()
            await tx.begin()
            await tx.ack(message, receipt=True)
            assert first.of(Ack)[0].receipt is not None
            assert "open" in repr(tx)
            await tx.abort(receipt=True)
            assert first.of(Abort)[0].receipt is not None
            lost = client.transaction()
            await lost.begin()
            first.drop()
            await wait_until(lambda: "lost" in repr(lost))
            await lost.abort()  # the broker already aborted it: nothing to send
            with pytest.raises(stomp_asyncio.ConnectionLost):
                await client.send("/queue/a", "x", transaction=lost)
            await wait_until(lambda: client.state is stomp_asyncio.ClientState.CONNECTED)
        assert not second.of(Abort)

    run(main)


def test_tcp_connect_timeout_and_subscription_misuse() -> None:
    async def main() -> None:
        async def hang(endpoint: object) -> ScriptedServer:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        client = memory_client(hang, connect_timeout=3.0)
        with pytest.raises(ConnectFailed, match="timed out after 3 s"):
            async with client:
                pass

        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            with pytest.raises(ValueError, match="buffer"):
                client.subscribe("/q", buffer=0)
            async with client.subscribe("/q", id="same"):
                with pytest.raises(ValueError, match="already in use"):
                    async with client.subscribe("/r", id="same"):
                        pass
            tx = client.transaction()
            async with tx:
                await client.send("/q", "in tx", transaction=tx)
        assert [s.transaction for s in server.of(Send)] == [tx.id]

    run(main)


def test_stomp_10_message_without_subscription_header_goes_by_destination() -> None:
    async def main() -> None:
        server = ScriptedServer(version="1.0")
        async with (
            memory_client(servers(server), versions=("1.0",)) as client,
            client.subscribe("/queue/old", ack="client") as sub,
        ):
            subscribe = await server.next(Subscribe)
            server.send(Message(destination="/queue/old", message_id="m1"))
            message = await sub.get(5)
            assert message.message_id == "m1"
            # The ACK names the subscription the driver routed it to (stomp_core ack_for).
            await message.ack(receipt=True)
            ack = await server.next(Ack)
            assert (ack.id, ack.subscription) == ("m1", subscribe.id)

    run(main)
