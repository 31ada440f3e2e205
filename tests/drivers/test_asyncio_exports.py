"""The public surface of stomp_asyncio is pinned, and matches stomp_trio's (same names,
same exception classes, shared from stomp_core), minus what only makes sense for trio."""

from __future__ import annotations

import inspect

import stomp_asyncio

EXPECTED = {
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
    "Subscription",
    "Transaction",
    "open_connection",
}

#: trio-only: a factory of trio streams replaces TCP in stomp_trio.
TRIO_ONLY = {"StreamFactory"}


def test_public_names() -> None:
    assert set(stomp_asyncio.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(stomp_asyncio, name) is not None


def test_same_shape_as_stomp_trio() -> None:
    import stomp_trio

    assert set(stomp_trio.__all__) - TRIO_ONLY == EXPECTED
    for name in ("StompError", "ConnectFailed", "BrokerError", "ReceiptTimeout"):
        assert getattr(stomp_trio, name) is getattr(stomp_asyncio, name)
    for name in ("ConnectionLost", "ProtocolViolation", "ReconnectPolicy", "ClientState"):
        assert getattr(stomp_trio, name) is getattr(stomp_asyncio, name)


def test_open_connection_parameters_match_stomp_trio() -> None:
    import stomp_trio

    ours = inspect.signature(stomp_asyncio.open_connection).parameters
    theirs = inspect.signature(stomp_trio.open_connection).parameters
    assert set(theirs) - {"stream_factory"} == set(ours)
    for name, parameter in ours.items():
        assert parameter.default == theirs[name].default, name
