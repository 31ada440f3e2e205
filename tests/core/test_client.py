"""stomp_core.client: the pure helpers shared by the async drivers (through its re-exports)."""

from __future__ import annotations

import errno
from dataclasses import dataclass

import pytest

from stomp_core import (
    FOREVER,
    Ack,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    HeartbeatReceived,
    HeartbeatTimeout,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
)
from stomp_core.client import (
    ACK_MODES,
    DEFAULT_PORT,
    DEFAULT_TLS_PORT,
    DEFAULT_VHOST,
    DEFAULT_WS_PORT,
    DEFAULT_WSS_PORT,
    BrokerError,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Endpoint,
    IdCounter,
    Leftovers,
    ProtocolViolation,
    ReceiptTimeout,
    ReconnectPolicy,
    StateChange,
    StompError,
    ack_for,
    build_ack,
    build_connect,
    charset_of,
    check_client_arguments,
    check_subscribe_arguments,
    close_reason,
    connection_lost,
    decode_text,
    dial_failed,
    encode_body,
    error_text,
    failure_reason,
    message_headers,
    parse_hosts,
    route_message,
    use_tls,
)

# ------------------------------------------------------------------------- addresses


def test_parse_urls_and_pairs() -> None:
    assert parse_hosts("stomp://mq:1234") == [Endpoint("mq", 1234, False)]
    assert parse_hosts("stomp+ssl://mq") == [Endpoint("mq", DEFAULT_TLS_PORT, True)]
    assert parse_hosts("stomp+tls://mq/") == [Endpoint("mq", DEFAULT_TLS_PORT, True)]
    assert parse_hosts(" stomp://a , stomp://[::1]:5 ,") == [
        Endpoint("a", DEFAULT_PORT, False),
        Endpoint("::1", 5, False),
    ]
    assert parse_hosts([("h", 1), ["k", 2], "stomp://x:3"]) == [  # type: ignore[list-item]
        Endpoint("h", 1, None),
        Endpoint("k", 2, None),
        Endpoint("x", 3, False),
    ]


def test_parse_websocket_urls_and_pairs_with_a_path() -> None:
    assert parse_hosts("ws://mq:15674/ws") == [Endpoint("mq", 15674, False, "/ws")]
    assert parse_hosts("wss://mq/a/b?x=1") == [Endpoint("mq", DEFAULT_WSS_PORT, True, "/a/b?x=1")]
    assert parse_hosts("ws://mq") == [Endpoint("mq", DEFAULT_WS_PORT, False, "/")]
    # ws_path makes the pairs WebSocket; a stomp:// URL stays plain STOMP.
    assert parse_hosts([("h", 1), "stomp://x:3"], ws_path="/ws") == [
        Endpoint("h", 1, None, "/ws"),
        Endpoint("x", 3, False),
    ]
    with pytest.raises(ValueError, match="ws_path must start"):
        parse_hosts([("h", 1)], ws_path="ws")


def test_endpoint_str_brackets_ipv6() -> None:
    assert str(Endpoint("::1", 61613)) == "[::1]:61613"
    assert str(Endpoint("mq", 1)) == "mq:1"


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ("http://x", "scheme"),
        ("stomp://x:99999", "bad broker URL"),
        ("stomp://x:port", "bad broker URL"),
        ("stomp://user:pw@x", "credentials"),
        ("stomp://user@x", "credentials"),
        ("stomp://x/vhost", "only scheme"),
        ("stomp://x?a=1", "only scheme"),
        ("stomp://x#f", "only scheme"),
        ("ws://x/ws#f", "only scheme"),
        ("stomp://:1", "no host"),
        ("", "empty"),
        ([], "empty"),
        (b"stomp://x", "bytes"),
        (["x"], "scheme"),
        ([("x",)], "pair"),
        ([("x", 1, 2)], "pair"),
        ([b"x"], "pair"),
        ([("", 1)], "non-empty"),
        ([(1, 1)], "non-empty"),
        ([("x", 0)], "port"),
        ([("x", 65536)], "port"),
        ([("x", True)], "port"),
        ([("x", "1")], "port"),
    ],
)
def test_parse_hosts_refuses(hosts: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hosts(hosts)  # type: ignore[arg-type]


def test_credentials_never_echoed() -> None:
    with pytest.raises(ValueError, match="credentials") as info:
        parse_hosts("stomp://user:hunter2@x")
    assert "hunter2" not in str(info.value)


def test_use_tls() -> None:
    plain, tls, pair = Endpoint("a", 1, False), Endpoint("a", 1, True), Endpoint("a", 1)
    assert use_tls(plain, None) is False
    assert use_tls(tls, None) is True
    assert use_tls(pair, None) is False
    assert use_tls(pair, True) is True
    assert use_tls(plain, True) is True
    assert use_tls(tls, True) is True
    assert use_tls(plain, False) is False
    with pytest.raises(ValueError, match="ssl=False"):
        use_tls(tls, False)


# ------------------------------------------------------------------------- bodies


def test_charset_of() -> None:
    assert charset_of(None) is None
    assert charset_of("") is None
    assert charset_of("text/plain") is None
    assert charset_of('text/plain; Charset="ISO-8859-1"') == "iso-8859-1"
    assert charset_of("text/plain;format=flowed;charset=utf-16") == "utf-16"
    assert charset_of("text/plain;charset=") is None
    assert charset_of("text/plain;charset") is None


def test_decode_text() -> None:
    assert decode_text("é".encode(), None) == "é"
    assert decode_text("é".encode(), "application/json") == "é"
    assert decode_text("é".encode("latin-1"), "text/plain;charset=latin-1") == "é"
    assert decode_text(b"\xff", "text/plain", errors="replace") == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        decode_text(b"\xff", "text/plain")
    with pytest.raises(ValueError, match="unknown charset"):
        decode_text(b"x", "text/plain;charset=klingon")


def test_encode_body() -> None:
    assert encode_body("é", None) == ("é".encode(), "text/plain;charset=utf-8")
    assert encode_body("é", "application/json") == ("é".encode(), "application/json")
    assert encode_body("é", "text/plain;charset=latin-1") == (
        b"\xe9",
        "text/plain;charset=latin-1",
    )
    assert encode_body(b"x", None) == (b"x", None)
    assert encode_body(bytearray(b"x"), "a/b") == (b"x", "a/b")
    assert encode_body(memoryview(b"x"), None) == (b"x", None)
    with pytest.raises(ValueError, match="unknown charset"):
        encode_body("x", "text/plain;charset=klingon")
    with pytest.raises(TypeError):
        encode_body(1, None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- frames


def test_id_counter() -> None:
    ids = IdCounter("r-")
    assert [ids.next() for _ in range(3)] == ["r-1", "r-2", "r-3"]


def test_build_connect() -> None:
    connect = build_connect(
        login="u",
        passcode="hunter2",
        versions=("1.1", "1.2"),
        heartbeats=(1, 2),
        headers={"client-id": "c"},
    )
    # No vhost: "/", the one vhost of a stock RabbitMQ (ActiveMQ ignores the header).
    assert connect.host == "/" == DEFAULT_VHOST
    assert connect.accept_version == ("1.1", "1.2")
    assert connect.heart_beat == (1, 2)
    assert connect.headers == (("client-id", "c"),)
    assert connect.passcode == "hunter2"
    assert "hunter2" not in repr(connect)
    assert build_connect(vhost="vh").host == "vh"
    with pytest.raises(ValueError, match="heart-beat, login"):
        build_connect(headers={"login": "x", "heart-beat": "1,1"})


def test_build_ack_per_version() -> None:
    message = Message(destination="/q", message_id="m", subscription="s", ack="a")
    assert build_ack(message, "1.2") == Ack(id="a", subscription="s")
    assert build_ack(message, "1.1") == Ack(id="m", subscription="s")
    nack = build_ack(message, "1.2", nack=True, transaction="t", receipt="r")
    assert isinstance(nack, Nack)
    assert (nack.transaction, nack.receipt) == ("t", "r")


# ------------------------------------------------------------------------- errors


def test_exceptions() -> None:
    error = Error(
        message="bad", body=b"why", content_type="text/plain", receipt_id="r", headers={"x": "1"}
    )
    broker = BrokerError.from_event(error)
    assert isinstance(broker, StompError)
    assert (broker.message, broker.body, broker.receipt_id) == ("bad", b"why", "r")
    assert broker.headers == (("x", "1"),)
    assert broker.text == "why"
    assert str(BrokerError.from_event(Error())) == "the broker sent ERROR"
    refused = ConnectFailed.from_error(error)
    assert refused.refused
    assert "bad" in refused.message
    assert refused.body == b"why"
    assert not ConnectFailed("timed out").refused
    timeout = ReceiptTimeout("r-1", 2.5)
    assert isinstance(timeout, TimeoutError)
    assert timeout.receipt_id == "r-1"
    assert "2.5" in str(timeout)
    assert str(broker) == "the broker sent ERROR: bad: why"
    assert str(refused) == "the broker refused the connection: bad: why"
    core_error = RemoteProtocolError("garbage")
    violation = ProtocolViolation(core_error)
    assert violation.error is core_error
    assert "garbage" in str(violation)


def test_close_reason() -> None:
    assert isinstance(close_reason(Error(message="x")), BrokerError)
    assert isinstance(close_reason(ConnectTimeout()), ConnectFailed)
    assert "heart-beat" in str(close_reason(HeartbeatTimeout()))
    assert "DISCONNECT" in str(close_reason(DisconnectTimeout()))
    assert "unexpectedly" in str(close_reason(ConnectionClosed()))
    clean = close_reason(ConnectionClosed(clean=True))
    assert isinstance(clean, ConnectionLost)
    assert "unexpectedly" not in str(clean)
    with pytest.raises(TypeError):
        close_reason(HeartbeatReceived())


# ------------------------------------------------------------------------- lifecycle


def test_reconnect_policy() -> None:
    policy = ReconnectPolicy()
    assert policy.attempts_max == FOREVER
    assert not policy.retry_first_connect
    schedule = policy.schedule(lambda: 0.0)
    assert schedule.next_delay() == pytest.approx(0.1)
    assert schedule.next_delay() == pytest.approx(0.15)
    backoff = ReconnectPolicy(initial=1, jitter=0.5, attempts_max=2).backoff(lambda: 1.0)
    assert backoff.delay(1) == pytest.approx(1.5)
    assert backoff.exhausted(2)
    with pytest.raises(ValueError, match="initial"):
        ReconnectPolicy(initial=-1)
    with pytest.raises(ValueError, match="attempts_max"):
        ReconnectPolicy(attempts_max=-2)


def test_state_change() -> None:
    change = StateChange(ClientState.RECONNECTING, Endpoint("a", 1), ConnectionLost("x"), 2)
    assert change.state is ClientState.RECONNECTING
    assert change.attempt == 2
    assert StateChange(ClientState.CLOSED).error is None


# ------------------------------------------------------------------------- received frames


def test_message_headers_first_occurrence_wins() -> None:
    event = Message(
        destination="/q",
        message_id="m1",
        subscription="s1",
        headers=(("x", "1"), ("x", "2"), ("destination", "/other")),
    )
    headers = message_headers(event)
    assert headers["destination"] == "/q"
    assert (headers["message-id"], headers["subscription"], headers["x"]) == ("m1", "s1", "1")


def test_ack_for_names_the_routed_subscription_only_when_missing() -> None:
    named = Message(destination="/q", message_id="m1", subscription="s1", ack="a1")
    ack = ack_for(named, "1.2", "other", receipt="r1")
    assert (type(ack), ack.id, ack.subscription, ack.receipt) == (Ack, "a1", "s1", "r1")
    bare = Message(destination="/q", message_id="m2")  # STOMP 1.0: no subscription header
    nack = ack_for(bare, "1.1", "sub-7", nack=True, transaction="tx-1")
    assert (type(nack), nack.id, nack.subscription, nack.transaction) == (
        Nack,
        "m2",
        "sub-7",
        "tx-1",
    )


def test_connection_lost_chains_its_cause() -> None:
    cause = OSError("reset")
    error = connection_lost("the connection was lost", cause)
    assert str(error) == "the connection was lost: reset"
    assert error.__cause__ is cause
    plain = connection_lost("closed", None)
    assert (str(plain), plain.__cause__) == ("closed", None)


class _Group(Exception):
    """What an ExceptionGroup (3.11+; exceptiongroup's backport on 3.10) looks like."""

    def __init__(self, message: str, exceptions: list[BaseException]) -> None:
        super().__init__(f"{message} ({len(exceptions)} sub-exceptions)")
        self.message = message
        self.exceptions = tuple(exceptions)


def _caused(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


def test_failure_reason_is_never_empty() -> None:
    """Issue 14.12: every connect failure says why, however the library wrapped it."""
    # trio: the ssl library's reason under an empty BrokenResourceError.
    tls = _caused(RuntimeError(), OSError("[SSL: CERTIFICATE_VERIFY_FAILED] verify failed"))
    assert failure_reason(tls) == "[SSL: CERTIFICATE_VERIFY_FAILED] verify failed"
    # trio: "all attempts failed" over a group with each address's refusal.
    group = _Group("all attempts failed", [ConnectionRefusedError("refused a")])
    assert (
        failure_reason(_caused(OSError("all attempts failed"), group))
        == "all attempts failed: refused a"
    )
    two = _Group("x", [OSError("refused a"), OSError("unreachable b")])
    assert failure_reason(two) == "x: refused a; unreachable b"
    # A cause that adds nothing new, and a bare exception: its own words, its type.
    assert failure_reason(_caused(OSError("reset"), OSError("reset"))) == "reset"
    assert failure_reason(ConnectionResetError()) == "ConnectionResetError"
    # A broker's ERROR: its header and the first line of its body.
    refused = BrokerError("Unknown destination", body=b"'/foo/bar' is not a valid destination.\n")
    assert str(connection_lost("the connection was lost", refused)) == (
        "the connection was lost: the broker sent ERROR: Unknown destination: "
        "'/foo/bar' is not a valid destination."
    )
    # asyncio's refusal names no reason; the errno does.
    asyncio_refusal = OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    assert failure_reason(asyncio_refusal).endswith(
        "Connect call failed ('127.0.0.1', 1) (connection refused)"
    )
    trio_refusal = OSError(errno.ECONNREFUSED, "Connection refused")
    assert failure_reason(trio_refusal) == "[Errno 111] Connection refused"
    failed = dial_failed("h:1", tls)
    assert str(failed) == "could not connect to h:1: [SSL: CERTIFICATE_VERIFY_FAILED] verify failed"
    assert failed.__cause__ is tls
    assert str(connection_lost("writing failed", tls)).endswith("verify failed")


def test_route_message_by_id_then_by_destination() -> None:
    @dataclass
    class Sub:
        destination: str

    first, second = Sub("/q/a"), Sub("/q/a")
    subs = {"s1": first, "s2": second, "s3": Sub("/q/b")}
    by_id = Message(destination="/q/a", message_id="m", subscription="s2")
    assert route_message(by_id, subs) is second
    unknown = Message(destination="/q/a", message_id="m", subscription="nope")
    assert route_message(unknown, subs) is None  # an id never falls back to the destination
    assert route_message(Message(destination="/q/a", message_id="m"), subs) is first
    assert route_message(Message(destination="/q/z", message_id="m"), subs) is None


def test_leftovers_tell_expected_frames_from_unhandled_ones() -> None:
    leftovers = Leftovers()
    leftovers.expect_receipt("r1")
    assert leftovers.receipt(Receipt(receipt_id="r1")) is None
    # Consumed: a second RECEIPT with that id is unexpected.
    assert leftovers.receipt(Receipt(receipt_id="r1")) == "RECEIPT 'r1' that nobody asked for"
    leftovers.unsubscribed("s1")
    in_flight = Message(destination="/q", message_id="m1", subscription="s1")
    assert leftovers.message(in_flight) is None
    assert leftovers.message(in_flight) is None  # several may be in flight
    stray = Message(destination="/q", message_id="m2", subscription="s9")
    assert leftovers.message(stray) == "MESSAGE 'm2' for unknown 's9'"
    old = Message(destination="/q", message_id="m3")
    assert leftovers.message(old) == "MESSAGE 'm3' for unknown '/q'"


# ------------------------------------------------------------------------- arguments


GOOD: dict[str, object] = {
    "connect_timeout": 10.0,
    "disconnect_timeout": 1,
    "receipt_timeout": 0.5,
    "subscription_buffer": 1,
    "reconnect": None,
    "on_unhandled": None,
}


def test_check_client_arguments_accepts_good_ones() -> None:
    check_client_arguments(**GOOD)  # type: ignore[arg-type]
    check_client_arguments(
        **{**GOOD, "reconnect": ReconnectPolicy(), "on_unhandled": print}  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("connect_timeout", 0, ValueError),
        ("disconnect_timeout", -1.0, ValueError),
        ("receipt_timeout", float("nan"), ValueError),
        ("receipt_timeout", float("inf"), ValueError),
        ("write_timeout", 0, ValueError),
        ("connect_timeout", True, ValueError),
        ("connect_timeout", "10", ValueError),
        ("subscription_buffer", 0, ValueError),
        ("subscription_buffer", 2.0, ValueError),
        ("subscription_buffer", True, ValueError),
        ("subscription_buffer_bytes", 0, ValueError),
        ("reconnect", {"initial": 1}, TypeError),
        ("on_unhandled", "log", TypeError),
    ],
)
def test_check_client_arguments_refuses(name: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=name):
        check_client_arguments(**{**GOOD, name: value})  # type: ignore[arg-type]


def test_check_subscribe_arguments() -> None:
    for ack in ACK_MODES:
        check_subscribe_arguments(ack, None)
    check_subscribe_arguments("auto", 1)
    with pytest.raises(ValueError, match="ack must be one of"):
        check_subscribe_arguments("individual", None)
    with pytest.raises(ValueError, match="buffer"):
        check_subscribe_arguments("auto", 0)


@pytest.mark.parametrize(
    ("message", "body", "text"),
    [
        # RabbitMQ's refusal of a wrong passcode: the header alone says little.
        (
            "Bad CONNECT",
            b"Access refused for user 'guest'\n",
            "Bad CONNECT: Access refused for user 'guest'",
        ),
        ("Bad CONNECT", b"\n\n  first\nsecond", "Bad CONNECT: first"),
        ("same", b"same\nmore", "same"),
        ("short", b"short and longer", "short and longer"),
        (None, b"only a body", "only a body"),
        ("only a header", b"", "only a header"),
        (None, "a str body", "a str body"),
        (None, b"", ""),
        ("m", b"x" * 400, "m: " + "x" * 300 + "..."),
    ],
)
def test_error_text_joins_the_header_and_the_bodys_first_line(
    message: str | None, body: bytes | str, text: str
) -> None:
    assert error_text(message, body) == text
