"""The frame parser: conformance sections A, B and D (parsing side).

Every parse runs at least two ways (whole, and byte by byte) through ``parse()``, and
the property tests add hypothesis-chosen chunk boundaries.  Frames (and errors) must be
identical however the input is split; heart-beats may not be: a run split across feeds
is several HEARTBEATs, and EOLs after a frame's NUL are padding when they arrive with the
frame, heart-beats when fed after it was taken.  So splits are compared on frames, and
the whole parse pins the HEARTBEATs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core._errors import RemoteProtocolError
from stomp_core._frame import Frame
from stomp_core._limits import Limits
from stomp_core._reader import HEARTBEAT, FrameReader
from stomp_core._versions import VersionRules, rules_for
from stomp_core._writer import serialize_frame

from .strategies import chunkings, frames

V10 = rules_for("1.0")
V11 = rules_for("1.1")
V12 = rules_for("1.2")
Item = Frame | type[HEARTBEAT]


def collapse(items: list[Item]) -> list[Item]:
    """Consecutive HEARTBEATs as one (a run split across feeds may yield several)."""
    out: list[Item] = []
    for item in items:
        if not (item is HEARTBEAT and out and out[-1] is HEARTBEAT):
            out.append(item)
    return out


def frames_only(items: list[Item]) -> list[Frame]:
    """The frames, without HEARTBEATs (which depend on the split)."""
    return [item for item in items if isinstance(item, Frame)]


def read_chunks(
    chunks: list[bytes],
    rules: VersionRules | None = None,
    limits: Limits | None = None,
    negotiate: VersionRules | None = None,
) -> tuple[list[Item], FrameReader]:
    """Feed ``chunks`` one by one, pulling every item after each.

    ``negotiate``: rules to set once a CONNECT, STOMP or CONNECTED frame came out,
    the way the connection does.
    """
    reader = FrameReader(limits or Limits())
    reader.rules = rules
    items: list[Item] = []
    for chunk in chunks:
        reader.feed(chunk)
        while (item := reader.next_frame()) is not None:
            items.append(item)
            if (
                negotiate is not None
                and isinstance(item, Frame)
                and item.command in ("CONNECT", "STOMP", "CONNECTED")
            ):
                reader.rules = negotiate
    return collapse(items), reader


def parse(
    data: bytes,
    rules: VersionRules | None = None,
    limits: Limits | None = None,
    negotiate: VersionRules | None = None,
) -> list[Item]:
    """Parse ``data`` whole, byte by byte and in 3- and 7-byte chunks; all must agree
    (conformance 17; the property tests add hypothesis-chosen boundaries)."""
    whole, reader = read_chunks([data], rules, limits, negotiate)
    for chunks in split_ways(data):
        other, reader2 = read_chunks(chunks, rules, limits, negotiate)
        assert frames_only(other) == frames_only(whole)
        assert reader2.buffered == reader.buffered
    return whole


def split_ways(data: bytes) -> list[list[bytes]]:
    """``data`` cut into 1-, 3- and 7-byte chunks."""
    return [[data[i : i + n] for i in range(0, len(data), n)] for n in (1, 3, 7)]


def frames_of(data: bytes, rules: VersionRules | None = None) -> list[Frame]:
    return [item for item in parse(data, rules) if isinstance(item, Frame)]


def expect_error(
    data: bytes,
    match: str,
    rules: VersionRules | None = None,
    limits: Limits | None = None,
    negotiate: VersionRules | None = None,
) -> list[Item]:
    """``data`` must fail (whole, byte by byte, in 3- and 7-byte chunks) with ``match``
    in the message.

    Returns what was delivered before the error (the same every way).
    """
    delivered = []
    for chunks in [[data], *split_ways(data)]:
        reader = FrameReader(limits or Limits())
        reader.rules = rules
        items: list[Item] = []
        with pytest.raises(RemoteProtocolError, match=match):  # noqa: PT012 - the loop is the point
            for chunk in chunks:
                reader.feed(chunk)
                while (item := reader.next_frame()) is not None:
                    items.append(item)
                    if isinstance(item, Frame) and negotiate is not None:
                        reader.rules = negotiate
        # Sticky: every later call raises again, and new data is ignored.
        reader.feed(b"SEND\n\n\x00")
        with pytest.raises(RemoteProtocolError, match=match):
            reader.next_frame()
        assert reader.buffered == 0
        delivered.append(collapse(items))
    assert all(frames_only(items) == frames_only(delivered[0]) for items in delivered)
    return delivered[0]  # the whole parse


# -- A. frame grammar -----------------------------------------------------------------


def test_minimal_frames() -> None:
    """Conformance 1: command EOL *(header EOL) EOL body NUL."""
    assert frames_of(b"DISCONNECT\n\n\x00") == [Frame("DISCONNECT")]
    assert frames_of(b"SEND\ndestination:/q\n\nhello\x00") == [
        Frame("SEND", (("destination", "/q"),), b"hello")
    ]


@pytest.mark.parametrize("rules", [None, V12])
def test_crlf_accepted_before_negotiation_and_in_12(rules: VersionRules | None) -> None:
    """Conformance 2: in 1.2 (and before negotiation) EOL may be CR LF; the CR is stripped."""
    data = b"MESSAGE\r\ndestination:/q\r\nk:v\n\r\nbody\x00"
    assert frames_of(data, rules) == [
        Frame("MESSAGE", (("destination", "/q"), ("k", "v")), b"body")
    ]
    # A value ending in CR followed by CR LF keeps the first CR... only as an escape in
    # 1.2, so a raw one is an error there; before negotiation it is data.
    if rules is None:
        assert frames_of(b"CONNECT\r\nk:v\r\r\n\r\n\x00") == [Frame("CONNECT", (("k", "v\r"),))]


@pytest.mark.parametrize("rules", [V10, V11])
def test_cr_before_lf_is_value_data_in_10_and_11(rules: VersionRules) -> None:
    """Conformance 2: a 1.0/1.1 parser must not strip CR: it is part of the value."""
    assert frames_of(b"MESSAGE\nk:v\r\n\nbody\x00", rules) == [
        Frame("MESSAGE", (("k", "v\r"),), b"body")
    ]
    # The command line keeps it too (the connection then rejects the unknown command).
    assert frames_of(b"SEND\r\nk:v\n\n\x00", rules) == [Frame("SEND\r", (("k", "v"),))]


@pytest.mark.parametrize("rules", [V10, V11])
def test_crlf_blank_line_before_12_is_an_error(rules: VersionRules) -> None:
    """Conformance 2: before 1.2 a line made of a lone CR is a header without ':'."""
    expect_error(b"MESSAGE\nk:v\r\n\r\n\x00", "lone CR", rules)


def test_raw_cr_inside_a_12_line_is_an_error() -> None:
    """Spec 1.2 BNF: header octets exclude CR; it must be sent as \\r."""
    expect_error(b"MESSAGE\nk:a\rb\n\n\x00", "raw CR", V12)


@pytest.mark.parametrize("rules", [None, V10, V11, V12])
def test_eols_after_nul_and_between_frames_are_heartbeats(rules: VersionRules | None) -> None:
    """Conformance 4 and 5: EOL runs are skipped, never frames.  A run before any frame
    is a HEARTBEAT; the EOLs right after a NUL, arriving with their frame, are padding
    (spec 1.2 "Frames": "MAY be followed by any number of EOLs")."""
    data = b"\n\n\r\nRECEIPT\nreceipt-id:1\n\n\x00\n\n\r\n\nRECEIPT\nreceipt-id:2\n\n\x00\n"
    assert parse(data, rules) == [
        HEARTBEAT,
        Frame("RECEIPT", (("receipt-id", "1"),)),
        Frame("RECEIPT", (("receipt-id", "2"),)),
    ]


RECEIPT_BYTES = b"RECEIPT\nreceipt-id:1\n\n\x00"
RECEIPT = Frame("RECEIPT", (("receipt-id", "1"),))


@pytest.mark.parametrize("padding", [b"\n", b"\r\n", b"\n\n"])
@pytest.mark.parametrize("rules", [None, V12])
def test_padding_that_arrives_with_its_frame_is_no_heartbeat(
    padding: bytes, rules: VersionRules | None
) -> None:
    """What RabbitMQ and ActiveMQ write after every frame (NUL LF, in the same write)
    is no heart-beat, however the frame itself was split, as long as the padding comes
    with the NUL; an EOL fed after the frame was taken is one (stomp.py: an EOL read into
    an empty buffer is a heart-beat)."""
    data = RECEIPT_BYTES + padding
    nul = len(RECEIPT_BYTES)
    for cut in range(nul):  # anywhere in the frame: the NUL and the padding together
        assert read_chunks([data[:cut], data[cut:]], rules)[0] == [RECEIPT]
    # Split between the NUL and its padding: the padding arrives later, a heart-beat.
    assert read_chunks([data[:nul], data[nul:]], rules)[0] == [RECEIPT, HEARTBEAT]
    # An idle broker's heart-beat after the padding, and one from a broker that pads not.
    assert read_chunks([data, b"\n"], rules)[0] == [RECEIPT, HEARTBEAT]
    assert read_chunks([RECEIPT_BYTES, b"\n"], rules)[0] == [RECEIPT, HEARTBEAT]


def test_padding_cr_lf_split_after_the_cr_is_still_padding() -> None:
    """A CR after a NUL waits for its LF; the pair is padding even across feeds."""
    assert read_chunks([RECEIPT_BYTES + b"\r", b"\n"], V12)[0] == [RECEIPT]
    assert read_chunks([RECEIPT_BYTES + b"\n\r", b"\n"], V12)[0] == [RECEIPT]


def test_eols_fed_before_the_frame_was_taken_are_its_padding() -> None:
    """Parsing is lazy: bytes fed while the frame is still buffered arrived with it."""
    reader = FrameReader(Limits())
    reader.feed(RECEIPT_BYTES)
    reader.feed(b"\n")
    assert reader.next_frame() == RECEIPT
    assert reader.next_frame() is None
    reader.feed(b"\n")  # now the frame was taken: a heart-beat
    assert reader.next_frame() is HEARTBEAT
    assert reader.buffered == 0


def test_a_cr_after_a_nul_that_is_no_cr_lf_is_not_padding() -> None:
    """Padding is an EOL; a CR followed by something else starts the next command."""
    assert frames_of(b"SEND\n\na\x00\rX\n\n\x00") == [Frame("SEND", (), b"a"), Frame("\rX")]


def test_heartbeats_coalesced_with_the_next_frame_do_not_lose_it() -> None:
    """Conformance 5 regression (stomp.py drops the MESSAGE after "\\n\\n" in one read)."""
    message = b"MESSAGE\ndestination:/q\nmessage-id:7\nsubscription:0\n\nhi\x00"
    for eols in (b"\n", b"\n\n", b"\r\n", b"\r\n\r\n", b"\n\r\n\n"):
        assert parse(eols + message, V12) == [
            HEARTBEAT,
            Frame(
                "MESSAGE",
                (("destination", "/q"), ("message-id", "7"), ("subscription", "0")),
                b"hi",
            ),
        ]


def test_one_heartbeat_per_available_run() -> None:
    reader = FrameReader(Limits())
    reader.feed(b"\n\n\n")
    assert reader.next_frame() is HEARTBEAT
    assert reader.next_frame() is None
    assert reader.buffered == 0
    assert not reader.in_frame


def test_lone_cr_waits_for_more_data() -> None:
    """A CR at the end of the buffer may be the start of a CR LF heart-beat."""
    reader = FrameReader(Limits())
    reader.feed(b"\r")
    assert reader.next_frame() is None
    assert reader.next_frame() is None  # still waiting, nothing rescanned
    assert not reader.in_frame  # only EOL bytes: a clean EOF here
    reader.feed(b"\n")
    assert reader.next_frame() is HEARTBEAT
    assert reader.next_frame() is None


def test_cr_not_followed_by_lf_starts_a_command() -> None:
    assert frames_of(b"\rX\n\n\x00") == [Frame("\rX")]


def test_commands_are_returned_as_is() -> None:
    """Conformance 6: commands are case-sensitive; the connection validates them."""
    assert frames_of(b"send\n\n\x00") == [Frame("send")]
    assert frames_of(b"FOO-BAR\nk:v\n\nbody\x00") == [Frame("FOO-BAR", (("k", "v"),), b"body")]


def test_header_split_at_first_colon() -> None:
    """Conformance 9: everything after the first raw ':' is the value."""
    assert frames_of(b"MESSAGE\nmessage-id:ID:host-1:2:3\n\n\x00", V10) == [
        Frame("MESSAGE", (("message-id", "ID:host-1:2:3"),))
    ]
    # CONNECTED values may contain raw ':' in 1.1/1.2 too, and are not unescaped.
    assert frames_of(b"CONNECTED\nserver:Broker/1.0 (x:y\\c)\n\n\x00", V12) == [
        Frame("CONNECTED", (("server", "Broker/1.0 (x:y\\c)"),))
    ]
    # Lenient: a raw ':' in an escaped frame's value is kept.
    assert frames_of(b"MESSAGE\nk:a:b\n\n\x00", V12) == [Frame("MESSAGE", (("k", "a:b"),))]


def test_header_names_are_case_sensitive() -> None:
    """Conformance 10: Content-Length is not content-length (the NUL ends the body)."""
    assert frames_of(b"MESSAGE\nContent-Length:1\n\nabc\x00", V12) == [
        Frame("MESSAGE", (("Content-Length", "1"),), b"abc")
    ]


@pytest.mark.parametrize(
    ("line", "gist"),
    [
        (b"no-colon", "header line without ':'"),
        (b":value", "empty name"),
        (b"", "header line without ':'"),
    ],
)
def test_bad_header_lines(line: bytes, gist: str) -> None:
    """Conformance 11: a line without ':' or with an empty name is a protocol error."""
    if line:
        expect_error(b"SEND\na:1\n" + line + b"\nb:2\n\n\x00", gist, V12)
    else:
        # An empty line ends the head, so use one made of a lone CR (1.1).
        expect_error(b"SEND\na:1\n\r\n\n\x00", "lone CR", V11)


def test_bad_last_header_line() -> None:
    expect_error(b"SEND\na:1\nbad\n\n\x00", "header line without ':': 'bad'", V12)


def test_empty_values_are_legal_and_nothing_is_trimmed() -> None:
    """Conformance 12 and 13."""
    assert frames_of(b"SEND\nempty:\n padded : value \n\n\x00", V12) == [
        Frame("SEND", (("empty", ""), (" padded ", " value ")))
    ]
    assert frames_of(b"CONNECT\nlogin: user\n\n\x00", V10) == [
        Frame("CONNECT", (("login", " user"),))
    ]


def test_body_without_content_length_ends_at_first_nul() -> None:
    """Conformance 14."""
    assert parse(b"SEND\n\nab\x00cd\n\n\x00", V10) == [Frame("SEND", (), b"ab"), Frame("cd")]


def test_counted_body_may_contain_nul_and_eols() -> None:
    """Conformance 15: exactly N octets whatever they contain."""
    body = b"\x00\n\n\r\nSEND\n\n\x00"
    data = b"MESSAGE\ncontent-length:%d\n\n%s\x00" % (len(body), body)
    assert frames_of(data, V12) == [Frame("MESSAGE", (("content-length", str(len(body))),), body)]


def test_counted_body_zero_length() -> None:
    assert frames_of(b"RECEIPT\ncontent-length:0\n\n\x00", V12) == [
        Frame("RECEIPT", (("content-length", "0"),))
    ]


@pytest.mark.parametrize("after", [b"x", b"\n", b"\x01"])
def test_counted_body_must_be_followed_by_nul(after: bytes) -> None:
    """Conformance 15: the next octet after N body octets MUST be NUL."""
    expect_error(
        b"MESSAGE\ncontent-length:2\n\nab" + after + b"\x00",
        f"not followed by NUL \\(got byte 0x{after[0]:02x}\\)",
        V12,
    )


@pytest.mark.parametrize("value", [b"-1", b"+1", b" 1", b"1 ", b"", b"0x10", b"1e3", b"\xd9\xa1"])
def test_invalid_content_length(value: bytes) -> None:
    """Conformance 16: a non-negative decimal integer or a protocol error (no fall-back)."""
    expect_error(b"MESSAGE\ncontent-length:" + value + b"\n\nab\x00", "invalid content-length", V12)


def test_first_content_length_wins_and_repeats_are_kept() -> None:
    """Conformance 42 and 43: the first occurrence counts; all stay, in wire order."""
    data = b"MESSAGE\na:1\ncontent-length:3\nA:x\na:2\ncontent-length:1\n\nx\x00y\x00"
    (frame,) = frames_of(data, V12)
    assert frame.body == b"x\x00y"
    assert frame.headers == (
        ("a", "1"),
        ("content-length", "3"),
        ("A", "x"),
        ("a", "2"),
        ("content-length", "1"),
    )
    assert frame.get("a") == "1"
    assert frame.get_all("a") == ["1", "2"]


def test_leading_zeros_in_content_length() -> None:
    assert frames_of(b"MESSAGE\ncontent-length:003\n\nabc\x00", V12)[0].body == b"abc"


@pytest.mark.parametrize("rules", [V11, V12])
@pytest.mark.parametrize("command", [b"RECEIPT", b"CONNECTED", b"SUBSCRIBE", b"ACK"])
def test_body_forbidden_on_other_frames(rules: VersionRules, command: bytes) -> None:
    """Conformance 19: only SEND, MESSAGE and ERROR may carry a body (1.1+)."""
    expect_error(command + b"\nk:v\n\nbody\x00", "must not have a body", rules)
    expect_error(command + b"\ncontent-length:1\n\nb\x00", "must not have a body", rules)


def test_body_forbidden_is_detected_before_the_nul() -> None:
    reader = FrameReader(Limits())
    reader.rules = V12
    reader.feed(b"RECEIPT\nreceipt-id:1\n\n")
    assert reader.next_frame() is None
    reader.feed(b"x")
    with pytest.raises(RemoteProtocolError, match="must not have a body"):
        reader.next_frame()


def test_body_forbidden_when_body_and_nul_arrive_together() -> None:
    reader = FrameReader(Limits())
    reader.rules = V12
    reader.feed(b"RECEIPT\nreceipt-id:1\n\n")
    assert reader.next_frame() is None
    reader.feed(b"x\x00")
    with pytest.raises(RemoteProtocolError, match="must not have a body"):
        reader.next_frame()


def test_body_forbidden_counted_detected_before_the_body() -> None:
    reader = FrameReader(Limits())
    reader.rules = V11
    reader.feed(b"RECEIPT\ncontent-length:1000\n\n")
    with pytest.raises(RemoteProtocolError, match="must not have a body"):
        reader.next_frame()


@pytest.mark.parametrize("rules", [None, V10])
def test_body_allowed_anywhere_in_10_and_before_negotiation(rules: VersionRules | None) -> None:
    """Conformance 19: 1.0 has no such rule."""
    assert frames_of(b"RECEIPT\nreceipt-id:1\n\nbody\x00", rules) == [
        Frame("RECEIPT", (("receipt-id", "1"),), b"body")
    ]


def test_empty_bodies_allowed_on_every_frame() -> None:
    assert frames_of(b"ACK\nid:1\n\n\x00", V12) == [Frame("ACK", (("id", "1"),))]
    assert frames_of(b"ACK\ncontent-length:0\n\n\x00", V12)[0].body == b""


def test_tls_client_hello_on_plain_port() -> None:
    """A TLS handshake byte where a command should start fails at once, saying why."""
    reader = FrameReader(Limits())
    reader.feed(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    with pytest.raises(RemoteProtocolError, match="TLS handshake"):
        reader.next_frame()
    expect_error(b"\x16", "TLS handshake")


def test_trailing_data_stays_buffered() -> None:
    """h11 style: what follows a frame waits for the next call."""
    reader = FrameReader(Limits())
    reader.feed(b"SEND\n\nhi\x00SUBSCRIBE\nid:")
    assert reader.next_frame() == Frame("SEND", (), b"hi")
    assert reader.buffered == len(b"SUBSCRIBE\nid:")
    assert reader.in_frame
    assert reader.next_frame() is None
    reader.feed(b"1\n\n\x00")
    assert reader.next_frame() == Frame("SUBSCRIBE", (("id", "1"),))
    assert reader.next_frame() is None
    assert reader.buffered == 0
    assert not reader.in_frame


def test_in_frame_while_body_is_incomplete() -> None:
    reader = FrameReader(Limits())
    reader.feed(b"SEND\ncontent-length:5\n\nab")
    assert reader.next_frame() is None
    assert reader.in_frame
    assert reader.buffered == len(b"SEND\ncontent-length:5\n\nab")
    reader.feed(b"cde")
    assert reader.next_frame() is None  # the NUL is still missing
    reader.feed(b"\x00")
    assert reader.next_frame() == Frame("SEND", (("content-length", "5"),), b"abcde")


def test_feed_accepts_bytearray_and_memoryview() -> None:
    reader = FrameReader(Limits())
    reader.feed(bytearray(b"SEND\n\n"))
    reader.feed(memoryview(b"x\x00"))
    assert reader.next_frame() == Frame("SEND", (), b"x")


def test_empty_feed_and_calls_on_empty_buffer() -> None:
    reader = FrameReader(Limits())
    assert reader.next_frame() is None
    reader.feed(b"")
    assert reader.next_frame() is None
    assert reader.rules is None


# -- B. encoding and escaping ---------------------------------------------------------


def test_utf8_headers() -> None:
    """Conformance 21."""
    data = "MESSAGE\nclé:välue ☃\n\n\x00".encode()
    assert frames_of(data, V12) == [Frame("MESSAGE", (("clé", "välue ☃"),))]


@pytest.mark.parametrize(
    "data",
    [b"MESSAGE\nk:\xff\n\n\x00", b"MESS\xc3AGE\n\n\x00", b"MESSAGE\n\xed\xa0\x80:v\n\n\x00"],
)
def test_invalid_utf8_is_an_error(data: bytes) -> None:
    """Conformance 22: invalid UTF-8 in the command or a header is a protocol error."""
    expect_error(data, "invalid UTF-8", V12)


def test_unescaping_12() -> None:
    """Conformance 27, 29, 30: names and values, one pass, after the split on raw ':'."""
    data = b"MESSAGE\nk\\cx:a\\\\nb\\c\\r\\n\\\\\n\n\x00"
    assert frames_of(data, V12) == [Frame("MESSAGE", (("k:x", "a\\nb:\r\n\\"),))]


def test_unescaping_11() -> None:
    assert frames_of(b"MESSAGE\na\\nb:c\\cd\n\n\x00", V11) == [Frame("MESSAGE", (("a\nb", "c:d"),))]


@pytest.mark.parametrize(
    ("data", "rules"),
    [
        (b"MESSAGE\nk:a\\tb\n\n\x00", V12),
        (b"MESSAGE\nk:trailing\\\n\n\x00", V12),
        (b"MESSAGE\nk:a\\rb\n\n\x00", V11),
        (b"MESSAGE\nk\\t:v\n\n\x00", V11),
    ],
)
def test_undefined_escapes_are_fatal(data: bytes, rules: VersionRules) -> None:
    """Conformance 28."""
    expect_error(data, "undefined escape sequence", rules)


def test_no_unescaping_in_10() -> None:
    assert frames_of(b"MESSAGE\nk:a\\tb\\c\n\n\x00", V10) == [
        Frame("MESSAGE", (("k", "a\\tb\\c"),))
    ]


@pytest.mark.parametrize("command", [b"CONNECT", b"STOMP", b"CONNECTED"])
def test_connect_frames_never_unescaped(command: bytes) -> None:
    """Conformance 26: CONNECT, STOMP and CONNECTED go raw, even after negotiation."""
    data = command + b"\npasscode:pa\\ss\\c:x\n\n\x00"
    expected = [Frame(command.decode(), (("passcode", "pa\\ss\\c:x"),))]
    assert frames_of(data, None) == expected
    assert frames_of(data, V12) == expected


def test_error_unescaped_after_negotiation_raw_before() -> None:
    """Conformance 31 and 32: ERROR is unescaped once a version is negotiated; an
    ERROR before CONNECTED is read raw."""
    assert frames_of(b"ERROR\nmessage:a\\cb\n\n\x00", None) == [
        Frame("ERROR", (("message", "a\\cb"),))
    ]
    data = b"CONNECTED\nversion:1.2\n\n\x00ERROR\nmessage:a\\cb\\tc\n\n\x00"
    expect_error(data, "undefined escape", None, negotiate=V12)
    data = b"CONNECTED\nversion:1.2\n\n\x00ERROR\nmessage:a\\cb\n\n\x00"
    assert parse(data, None, negotiate=V12) == [
        Frame("CONNECTED", (("version", "1.2"),)),
        Frame("ERROR", (("message", "a:b"),)),
    ]


def test_rules_switch_crlf_handling() -> None:
    """After negotiating 1.1, CR LF is no longer an EOL inside frames."""
    data = b"CONNECTED\r\nversion:1.1\r\n\r\n\x00\r\nMESSAGE\nk:v\r\n\n\x00"
    assert parse(data, None, negotiate=V11) == [
        Frame("CONNECTED", (("version", "1.1"),)),
        # CR LF after a NUL is still padding in 1.1 (a CR can never start a command)
        Frame("MESSAGE", (("k", "v\r"),)),
    ]


# -- NUL and missing blank line -------------------------------------------------------


def test_nul_inside_head_is_an_error() -> None:
    """A frame without its blank line ("SEND\\n\\x00") is refused, not waited on."""
    expect_error(b"SEND\n\x00", "NUL inside a command or header line")
    expect_error(b"SEND\nk:v\x00\n\n\x00", "NUL inside a command or header line")
    expect_error(b"SE\x00ND\n\n\x00", "NUL inside a command or header line")


def test_nul_in_head_detected_before_blank_line() -> None:
    reader = FrameReader(Limits())
    reader.feed(b"DISCONNECT\n\x00")
    with pytest.raises(RemoteProtocolError, match="NUL inside"):
        reader.next_frame()


# -- D. limits --------------------------------------------------------------------------


def feed_until_error(reader: FrameReader, chunks: list[bytes], match: str) -> int:
    """Feed chunk by chunk; return how many bytes were fed when the error came."""
    fed = 0
    with pytest.raises(RemoteProtocolError, match=match):  # noqa: PT012 - the loop is the point
        for chunk in chunks:
            reader.feed(chunk)
            fed += len(chunk)
            while reader.next_frame() is not None:
                pass
    return fed


def test_header_line_limit_while_incomplete() -> None:
    """Conformance 45: an endless header line fails once it passes the limit."""
    limits = Limits(max_header_line=100)
    reader = FrameReader(limits)
    chunks = [b"SEND\nk:"] + [b"v" * 10] * 1000
    fed = feed_until_error(reader, chunks, "longer than max_header_line=100")
    assert fed <= len(b"SEND\nk:") + 110
    # An endless command line too.
    fed = feed_until_error(FrameReader(limits), [b"S"] * 1000, "max_header_line=100")
    assert fed == 102


def test_header_line_limit_on_complete_lines() -> None:
    limits = Limits(max_header_line=10)
    ok = b"SEND\n" + b"k:" + b"v" * 8 + b"\n\n\x00"
    assert parse(ok, V12, limits)[0] == Frame("SEND", (("k", "v" * 8),))
    # CR LF: the CR is part of the EOL, not of the line.
    ok_crlf = b"SEND\r\n" + b"k:" + b"v" * 8 + b"\r\n\r\n\x00"
    assert parse(ok_crlf, V12, limits)[0] == Frame("SEND", (("k", "v" * 8),))
    long_line = b"SEND\n" + b"k:" + b"v" * 9 + b"\n\n\x00"
    expect_error(long_line, "line of 11 bytes exceeds max_header_line=10", V12, limits)
    # Several complete lines arriving in one chunk, one of them too long.
    reader = FrameReader(limits)
    reader.feed(b"SEND\na:1\nk:" + b"v" * 20 + b"\nb:2\n")
    with pytest.raises(RemoteProtocolError, match="line of 22 bytes"):
        reader.next_frame()


def test_header_count_limit_while_incomplete() -> None:
    """Conformance 45: endless headers fail once there are too many."""
    limits = Limits(max_header_count=5)
    reader = FrameReader(limits)
    fed = feed_until_error(reader, [b"SEND\n"] + [b"k:v\n"] * 100, "max_header_count=5")
    assert fed == len(b"SEND\n") + 6 * len(b"k:v\n")


def test_header_count_limit_on_complete_frame() -> None:
    limits = Limits(max_header_count=2)
    assert len(parse(b"SEND\na:1\nb:2\n\n\x00", V12, limits)[0].headers) == 2  # type: ignore[union-attr]
    expect_error(b"SEND\na:1\nb:2\nc:3\n\n\x00", "more than max_header_count=2", V12, limits)


def test_frame_size_limit_on_content_length() -> None:
    """Conformance 45, 46: a content-length above the limit fails before any body."""
    limits = Limits(max_frame_size=1000)
    reader = FrameReader(limits)
    reader.feed(b"MESSAGE\ncontent-length:999999999999\n\n")
    with pytest.raises(RemoteProtocolError, match="exceeds max_frame_size=1000"):
        reader.next_frame()
    # Just at the limit is fine (the size excludes the NUL).
    head = b"MESSAGE\ncontent-length:%d\n\n"
    size = 1000 - len(head % 999)
    data = head % size + b"x" * size + b"\x00"
    assert len(data) - 1 == 1000
    assert parse(data, V12, limits)[0].body == b"x" * size  # type: ignore[union-attr]
    expect_error(head % (size + 1) + b"x" * (size + 1) + b"\x00", "max_frame_size", V12, limits)


def test_counted_body_is_never_preallocated() -> None:
    """Conformance 46: a large content-length under the limit holds only what arrived."""
    reader = FrameReader(Limits())
    reader.feed(b"MESSAGE\ncontent-length:60000000\n\nab")
    assert reader.next_frame() is None
    assert reader.buffered < 100


def test_frame_size_limit_on_nul_body_while_incomplete() -> None:
    """Conformance 45: a NUL-terminated body growing past the limit fails at once."""
    limits = Limits(max_frame_size=1000)
    reader = FrameReader(limits)
    chunks = [b"SEND\n\n"] + [b"x" * 100] * 100
    fed = feed_until_error(reader, chunks, "max_frame_size=1000 and still no NUL")
    assert fed <= 1100
    # Complete but too large in one chunk.
    expect_error(b"SEND\n\n" + b"x" * 1000 + b"\x00", "max_frame_size=1000", V12, limits)


def test_frame_size_limit_on_head() -> None:
    limits = Limits(max_frame_size=50, max_header_line=1000)
    reader = FrameReader(limits)
    fed = feed_until_error(
        reader, [b"SEND\n"] + [b"k:v\n"] * 100, "head longer than max_frame_size"
    )
    assert fed <= 60


# -- large counted bodies (collected as chunks) -----------------------------------------


@pytest.mark.parametrize("chunk_size", [1000, 65536, 300_001])
def test_large_counted_body_in_chunks(chunk_size: int) -> None:
    body = bytes(range(256)) * 2000  # 512000 bytes, NULs included
    first = b"MESSAGE\ncontent-length:%d\n\n%s\x00\n" % (len(body), body)
    data = first + b"RECEIPT\nreceipt-id:9\n\n\x00"
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    items, reader = read_chunks(chunks, V12)
    assert items == [
        Frame("MESSAGE", (("content-length", str(len(body))),), body),
        Frame("RECEIPT", (("receipt-id", "9"),)),  # the LF after the NUL: padding
    ]
    assert reader.buffered == 0


def test_large_counted_body_reports_buffered_and_accepts_views() -> None:
    body = b"z" * 400_000
    reader = FrameReader(Limits())
    reader.feed(b"SEND\ncontent-length:400000\n\n" + body[:1000])
    assert reader.next_frame() is None
    assert reader.buffered == 1000
    reader.feed(memoryview(body)[1000:200_000])
    reader.feed(bytearray(body[200_000:]))
    assert reader.buffered == 400_000
    assert reader.in_frame
    assert reader.next_frame() is None  # the NUL is missing
    reader.feed(memoryview(b"\x00SEND"))
    assert reader.next_frame() == Frame("SEND", (("content-length", "400000"),), body)
    assert reader.buffered == 4


def test_large_counted_body_without_nul() -> None:
    body = b"z" * 300_000
    data = b"SEND\ncontent-length:300000\n\n" + body + b"!"
    reader = FrameReader(Limits())
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    feed_until_error(reader, chunks, "content-length 300000 is not followed by NUL")
    assert reader.buffered == 0


def test_large_nul_body_is_copied_out_once() -> None:
    """A NUL-terminated body larger than 64 KiB (the memoryview copy path)."""
    body = b"q" * 100_000
    assert frames_of(b"SEND\n\n" + body + b"\x00") == [Frame("SEND", (), body)]
    reader = FrameReader(Limits())
    reader.feed(b"SEND\ncontent-length:100000\n\n" + body + b"\x00")
    assert reader.next_frame() == Frame("SEND", (("content-length", "100000"),), body)


# -- chunking properties and round trips ------------------------------------------------

SAMPLE_STREAMS = [
    b"\r\n\nCONNECTED\r\nversion:1.2\r\nheart-beat:0,0\r\n\r\n\x00\n",
    b"MESSAGE\ndestination:/q\nmessage-id:ID:a:1\ncontent-length:5\n\na\x00\r\nb\x00\n\n"
    b"MESSAGE\nk\\c:v\\\\\n\nplain\x00\r\n",
    b"ERROR\nmessage:bad\\nthing\n\nline1\nline2\x00RECEIPT\nreceipt-id:77\n\n\x00",
]


@given(st.data())
def test_any_chunking_gives_the_same_items(data: st.DataObject) -> None:
    """Conformance 17: split at any byte boundary, identical results."""
    stream = b"".join(SAMPLE_STREAMS)
    expected, _ = read_chunks([stream], None, negotiate=V12)
    chunks = data.draw(chunkings(stream))
    assert frames_only(read_chunks(chunks, None, negotiate=V12)[0]) == frames_only(expected)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", None])
def test_round_trip_examples(version: str | None) -> None:
    rules = rules_for(version) if version else None
    frame = Frame("SEND", (("destination", "/q"), ("k", "v")), b"body")
    assert parse(serialize_frame(frame, rules), rules) == [frame]


def _round_trip(version: str | None, frame_list: list[Frame], data: st.DataObject) -> None:
    rules = rules_for(version) if version else None
    stream = b"".join(serialize_frame(f, rules) + b"\n" * (i % 2) for i, f in enumerate(frame_list))
    chunks = data.draw(chunkings(stream))
    items, reader = read_chunks(chunks, rules)
    assert [i for i in items if isinstance(i, Frame)] == frame_list
    assert reader.buffered == 0


@given(st.lists(frames("1.2"), max_size=4), st.data())
def test_round_trip_12(frame_list: list[Frame], data: st.DataObject) -> None:
    """Conformance 33 (1.2): parse(serialize(f)) == f under any chunking."""
    _round_trip("1.2", frame_list, data)


@given(st.lists(frames("1.1"), max_size=4), st.data())
def test_round_trip_11(frame_list: list[Frame], data: st.DataObject) -> None:
    """Conformance 33 (1.1)."""
    _round_trip("1.1", frame_list, data)


@given(st.lists(frames("1.0"), max_size=4), st.data())
def test_round_trip_10(frame_list: list[Frame], data: st.DataObject) -> None:
    """Conformance 33 (1.0)."""
    _round_trip("1.0", frame_list, data)


@given(st.lists(frames(None), max_size=4), st.data())
def test_round_trip_before_negotiation(frame_list: list[Frame], data: st.DataObject) -> None:
    """Conformance 32: before negotiation everything is raw both ways."""
    _round_trip(None, frame_list, data)


@given(st.binary(max_size=200), st.data())
def test_garbage_gives_items_or_remote_protocol_error(raw: bytes, data: st.DataObject) -> None:
    """The fuzz invariant: items or RemoteProtocolError, the same whatever the chunking."""
    rules = data.draw(st.sampled_from([None, V10, V11, V12]))

    def outcome(chunks: list[bytes]) -> tuple[list[Item], str | None]:
        reader = FrameReader(Limits(max_frame_size=150, max_header_line=60, max_header_count=5))
        reader.rules = rules
        items: list[Item] = []
        try:
            for chunk in chunks:
                reader.feed(chunk)
                while (item := reader.next_frame()) is not None:
                    items.append(item)
        except RemoteProtocolError:
            return collapse(items), "error"
        return collapse(items), None

    whole = outcome([raw])
    chunked = outcome(data.draw(chunkings(raw)))
    # Limits may fire at a different point of an invalid stream, but frames delivered
    # before an error are a prefix of the same sequence, and clean runs agree exactly.
    if whole[1] is None and chunked[1] is None:
        assert whole == chunked
    else:
        shorter, longer = sorted((whole[0], chunked[0]), key=len)
        assert longer[: len(shorter)] == shorter


# -- batching and the header-line cache -------------------------------------------------


def test_batch_stops_before_a_bad_frame_and_reports_it_in_order() -> None:
    """Frames before a bad one are delivered first; then the error (sticky)."""
    delivered = expect_error(
        b"SEND\n\na\x00\n\nSEND\n\nb\x00SEND\nbad\n\n\x00", "header line without ':'", V12
    )
    assert delivered == [Frame("SEND", (), b"a"), Frame("SEND", (), b"b")]


def test_batch_stops_at_a_tls_byte_and_an_incomplete_frame() -> None:
    assert expect_error(b"SEND\n\na\x00\x16\x03", "TLS handshake", V12) == [Frame("SEND", (), b"a")]
    items, reader = read_chunks([b"SEND\n\na\x00SEND\ncontent-length:3\n\nb"], V12)
    assert items == [Frame("SEND", (), b"a")]
    assert reader.in_frame
    reader.feed(b"cd\x00")
    assert reader.next_frame() == Frame("SEND", (("content-length", "3"),), b"bcd")


@pytest.mark.parametrize("split", [False, True])
def test_cr_after_nul_that_is_not_an_eol(split: bool) -> None:
    """A CR not followed by LF after a NUL starts the next command (kept as data in 1.0)."""
    first = b"SEND\ncontent-length:1\n\na"
    rest = b"\x00\rX\n\n\x00\r"
    chunks = [first, rest] if split else [first + rest]
    items, reader = read_chunks(chunks, V10)
    assert items == [Frame("SEND", (("content-length", "1"),), b"a"), Frame("\rX")]
    assert reader.buffered == 1  # the final lone CR waits for a possible LF
    assert not reader.in_frame


def test_header_line_cache_mixed_hits_long_lines_and_churn() -> None:
    """Cached and uncached lines mix; long lines are not cached; the cache stays bounded."""
    long_value = "v" * 200
    stream = b"".join(
        b"MESSAGE\ndestination:/q\nmessage-id:%d\nseq:%d\nlong:%s\n\n\x00"
        % (i, i, long_value.encode())
        for i in range(600)
    )
    items, reader = read_chunks([stream], V12)
    assert len(items) == 600
    assert items[599] == Frame(
        "MESSAGE",
        (("destination", "/q"), ("message-id", "599"), ("seq", "599"), ("long", long_value)),
    )
    assert len(reader._line_cache) <= 512
    # Per-message headers are not cached; repeated ones are.
    assert "destination:/q" in reader._line_cache
    assert not any(line.startswith("message-id:") for line in reader._line_cache)
    assert all(len(line) <= 128 for line in reader._line_cache)
    # A cached line that is bad in another frame cannot exist: only valid lines are cached.
    assert expect_error(b"SEND\nk:v\n\n\x00SEND\nk:v\nkv\n\n\x00", "without ':'", V12) == [
        Frame("SEND", (("k", "v"),))
    ]


def test_content_length_cache_is_bounded_and_keeps_the_checks() -> None:
    """Valid content-length values are remembered, a bounded number of them; each frame
    still gets its own length, and an invalid value fails after valid ones (conformance
    16) and is never remembered."""
    sizes = [*range(100), 5, 0, 99]
    stream = b"".join(b"MESSAGE\ncontent-length:%d\n\n%s\x00" % (n, b"x" * n) for n in sizes)
    items, reader = read_chunks([stream], V12)
    assert items == [Frame("MESSAGE", (("content-length", str(n)),), b"x" * n) for n in sizes]
    assert 0 < len(reader._lengths) <= 64
    assert all(reader._lengths[value] == int(value) for value in reader._lengths)
    good = b"MESSAGE\ncontent-length:1\n\na\x00"
    delivered = expect_error(good * 2 + b"MESSAGE\ncontent-length:+1\n\na\x00", "invalid", V12)
    assert delivered == [Frame("MESSAGE", (("content-length", "1"),), b"a")] * 2


def test_a_content_length_of_thousands_of_digits_is_a_protocol_error() -> None:
    """More digits than ``max_frame_size`` has is a frame too large, said as such (int()
    would raise ValueError past 4300 digits, out of the parser); leading zeros do not
    count (conformance 16: a decimal integer)."""
    good = b"MESSAGE\ncontent-length:1\n\na\x00"
    huge = b"MESSAGE\ncontent-length:" + b"9" * 5000 + b"\n\na\x00"
    delivered = expect_error(good + huge, "content-length of 5000 digits exceeds", V12)
    assert delivered == [Frame("MESSAGE", (("content-length", "1"),), b"a")]
    padded = b"MESSAGE\ncontent-length:" + b"0" * 5000 + b"1\n\na\x00"
    items, _ = read_chunks([padded], V12)
    assert items == [Frame("MESSAGE", (("content-length", "0" * 5000 + "1"),), b"a")]
    # At the limit's own number of digits, the frame-size check decides.
    limits = Limits(max_frame_size=999)
    expect_error(b"MESSAGE\ncontent-length:1000\n\n\x00", "4 digits exceeds", V12, limits)
    expect_error(b"MESSAGE\ncontent-length:999\n\n\x00", "content-length 999", V12, limits)


def test_escaped_header_lines_are_decoded_in_every_frame_never_cached() -> None:
    """A line with a backslash is unescaped each time it comes (spec 1.2 "Value
    Encoding"), in a batch too; CONNECTED keeps the same line raw (conformance 26), and
    neither use leaks into the other through the header-line cache."""
    line = b"tag:a\\cb\\\\\\nc\n"
    stream = (
        b"CONNECTED\nversion:1.2\n"
        + line
        + b"\n\x00"
        + b"".join(b"MESSAGE\nmessage-id:%d\n" % i + line + b"\n\x00" for i in range(3))
    )
    items, reader = read_chunks([stream], V12)
    assert items[0] == Frame("CONNECTED", (("version", "1.2"), ("tag", "a\\cb\\\\\\nc")))
    for i, item in enumerate(items[1:]):
        assert item == Frame("MESSAGE", (("message-id", str(i)), ("tag", "a:b\\\nc")))
    assert not any("\\" in cached for cached in reader._line_cache)
    # Under 1.0 nothing is unescaped, each time.
    assert (
        parse(b"MESSAGE\n" + line + b"\n\x00" + b"MESSAGE\n" + line + b"\n\x00", V10)
        == [Frame("MESSAGE", (("tag", "a\\cb\\\\\\nc"),))] * 2
    )


@pytest.mark.parametrize("rules", [V11, V12])
def test_colon_only_escapes_and_their_look_alikes_in_a_batch(rules: VersionRules) -> None:
    """ActiveMQ's ids (only \\c escapes) take a shortcut; values where a backslash is
    not the start of a \\c must still decode left to right (spec 1.2 "Value
    Encoding"), in the first frame of a read and in later ones."""
    values = [
        (b"ID\\cvm-1-2\\c510\\c-1", "ID:vm-1-2:510:-1"),  # \c only
        (b"a\\\\cb", "a\\cb"),  # an escaped backslash, then a plain c
        (b"\\c\\\\", ":\\"),  # \c, then an escaped backslash
        (b"x\\\\\\c", "x\\:"),  # an escaped backslash, then \c
    ]
    stream = b"".join(b"MESSAGE\nmessage-id:" + raw + b"\n\n\x00" for raw, _ in values * 2)
    expected = [Frame("MESSAGE", (("message-id", decoded),)) for _, decoded in values * 2]
    assert frames_of(stream, rules) == expected
    # A \c before an undefined sequence: still the fatal error (conformance 28).
    expect_error(b"MESSAGE\nk:v\n\n\x00MESSAGE\nk:a\\cb\\tc\n\n\x00", "undefined escape", rules)


def batched(data: bytes, rules: VersionRules, limits: Limits | None = None) -> list[Frame]:
    """The frames of ``data`` fed at once, checking that one call parsed them all."""
    reader = FrameReader(limits or Limits())
    reader.rules = rules
    reader.feed(data)
    first = reader.next_frame()
    assert isinstance(first, Frame)
    frames = [first, *(reader.next_frame() for _ in range(len(reader._ready)))]
    assert reader.buffered == 0  # nothing was left for a second parse
    assert reader.next_frame() is None
    return frames  # type: ignore[return-value]


def test_crs_in_later_heads_of_a_batch() -> None:
    """A later head's blank line is found before its CRs are looked at: where a CR
    LF ends the head (spec 1.2 "Augmented BNF": EOL = [CR] LF) and an LF LF follows
    in the body, the head still ends at the first blank line, in the same batch."""
    first = b"MESSAGE\nk:v\n\na\x00\n"
    crlf = b"MESSAGE\r\nk:v\r\n\r\nb\n\nc\x00\n"  # an LF LF in the body
    mixed = b"MESSAGE\r\nk:v\n\nd\x00\n"  # CR LF, then LF LF: the first blank line
    assert batched(first + crlf + mixed + crlf, V12) == [
        Frame("MESSAGE", (("k", "v"),), body) for body in (b"a", b"b\n\nc", b"d", b"b\n\nc")
    ]
    # Before 1.2 a CR before an LF is value data, the head found is the right one.
    assert batched(first + b"MESSAGE\nk:v\r\n\nb\x00" + first, V11) == [
        Frame("MESSAGE", (("k", "v"),), b"a"),
        Frame("MESSAGE", (("k", "v\r"),), b"b"),
        Frame("MESSAGE", (("k", "v"),), b"a"),
    ]
    # ... and a lone-CR line before an LF LF is still the error, after the frame before it.
    assert expect_error(first + b"MESSAGE\nk:v\n\r\nb\n\n\x00", "lone CR", V11) == [
        Frame("MESSAGE", (("k", "v"),), b"a")
    ]


def test_later_heads_longer_than_a_line_in_a_batch() -> None:
    """A later head longer than max_header_line is searched the thorough way; its lines
    are checked one by one (conformance 45), CR LF or not."""
    limits = Limits(max_header_line=20)
    long_head = b"MESSAGE\r\n" + b"".join(b"k%d:%s\r\n" % (i, b"v" * 15) for i in range(3))
    headers = tuple((f"k{i}", "v" * 15) for i in range(3))
    # The body's line is longer than a header line may be: never checked as one.
    body = b"b" * 30 + b"\n\n"
    assert batched(b"MESSAGE\n\na\x00" + long_head + b"\r\n" + body + b"\x00", V12, limits) == [
        Frame("MESSAGE", (), b"a"),
        Frame("MESSAGE", headers, body),
    ]
    too_long = b"MESSAGE\nk:" + b"v" * 20 + b"\n\n\x00"
    assert expect_error(b"MESSAGE\n\na\x00" + too_long, "max_header_line=20", V12, limits) == [
        Frame("MESSAGE", (), b"a")
    ]


def test_parsed_frames_are_ordinary_frames() -> None:
    """The parser fills Frame's slots directly; the result must be a normal Frame."""
    import dataclasses

    (frame,) = frames_of(b"SEND\nk:v\n\nbody\x00", V12)
    expected = Frame("SEND", (("k", "v"),), b"body")
    assert type(frame) is Frame
    assert frame == expected
    assert hash(frame) == hash(expected)
    assert repr(frame) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.command = "X"  # type: ignore[misc]


def test_single_lf_after_nul_and_longer_runs_in_a_batch() -> None:
    data = b"SEND\n\na\x00\nSEND\n\nb\x00\n\nSEND\n\nc\x00\r\nSEND\n\nd\x00\n\r\n"
    # All of it padding: it came with the frames (one feed).
    assert parse(data, V12) == [Frame("SEND", (), body) for body in (b"a", b"b", b"c", b"d")]


def test_searches_resume_where_they_stopped() -> None:
    """Conformance 18 (structure; speed is the benchmark's job): a NUL-ended body fed
    byte by byte is scanned once, and a counted body is not scanned at all."""
    reader = FrameReader(Limits())
    reader.feed(b"SEND\n\n")
    assert reader.next_frame() is None
    for _ in range(1000):
        reader.feed(b"x")
        assert reader.next_frame() is None
        assert reader._scan == reader.buffered  # the next search starts at the end
    reader = FrameReader(Limits())
    reader.feed(b"SEND\ncontent-length:1000\n\n")
    assert reader.next_frame() is None
    assert reader._need == len(b"SEND\ncontent-length:1000\n\n") + 1001
