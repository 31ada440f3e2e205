"""The frame serializer: conformance items 3, 19, 20, 23-26, 32, 35, 36 and 44."""

from __future__ import annotations

import pytest
from hypothesis import given

from stomp_core._errors import LocalProtocolError
from stomp_core._frame import Frame
from stomp_core._versions import VersionRules, rules_for
from stomp_core._writer import serialize_frame

from .strategies import frames

V10 = rules_for("1.0")
V11 = rules_for("1.1")
V12 = rules_for("1.2")
ALL_RULES = [None, V10, V11, V12]


@pytest.mark.parametrize("rules", ALL_RULES)
def test_layout_and_lf_only(rules: VersionRules | None) -> None:
    """Conformance 1 and 3: command, headers, blank line, body, NUL; LF EOLs only."""
    frame = Frame("SEND", (("destination", "/q"), ("x", "1")), b"body")
    assert serialize_frame(frame, rules) == b"SEND\ndestination:/q\nx:1\n\nbody\x00"
    assert serialize_frame(Frame("DISCONNECT"), rules) == b"DISCONNECT\n\n\x00"


def test_escaping_12() -> None:
    """Conformance 23: names and values, backslash, CR, LF and ':'."""
    frame = Frame("SEND", (("a:b", "c\\d\r\ne"),))
    assert serialize_frame(frame, V12) == b"SEND\na\\cb:c\\\\d\\r\\ne\n\n\x00"


def test_escaping_11_and_cr_refused() -> None:
    """Conformance 24."""
    frame = Frame("SEND", (("a:b", "c\\d\ne"),))
    assert serialize_frame(frame, V11) == b"SEND\na\\cb:c\\\\d\\ne\n\n\x00"
    with pytest.raises(LocalProtocolError, match="cannot encode CR"):
        serialize_frame(Frame("SEND", (("k", "a\rb"),)), V11)


def test_10_is_raw() -> None:
    """Conformance 25: no escaping; LF refused; raw ':' fine in a value, not in a name."""
    assert serialize_frame(Frame("SEND", (("k", "a:b\\c"),)), V10) == b"SEND\nk:a:b\\c\n\n\x00"
    with pytest.raises(
        LocalProtocolError, match=r"'k' cannot contain LF in its value \(found at index 1\)"
    ):
        serialize_frame(Frame("SEND", (("k", "a\nb"),)), V10)
    with pytest.raises(
        LocalProtocolError, match=r"'k\\r' cannot contain CR in its name \(found at index 1\)"
    ):
        serialize_frame(Frame("SEND", (("k\r", "v"),)), V10)
    with pytest.raises(
        LocalProtocolError, match=r"'k' cannot contain NUL in its value \(found at index 0\)"
    ):
        serialize_frame(Frame("SEND", (("k", "\x00\n"),)), V10)


@pytest.mark.parametrize("secret", ["hunter2\n", "hun\rter2", "hunter\x002"])
def test_refused_value_is_never_quoted(secret: str) -> None:
    """Issue 14.10: a passcode read from a file keeps its newline; the error names the
    header and the position, never the value (exception texts end up in logs)."""
    with pytest.raises(LocalProtocolError) as caught:
        serialize_frame(Frame("CONNECT", (("passcode", secret),)), V12)
    assert "hunter" not in str(caught.value)
    assert "hun" not in str(caught.value)
    assert "passcode" in str(caught.value)
    with pytest.raises(LocalProtocolError, match="cannot contain ':'"):
        serialize_frame(Frame("SEND", (("a:b", "v"),)), V10)


@pytest.mark.parametrize("rules", ALL_RULES)
@pytest.mark.parametrize("command", ["CONNECT", "STOMP", "CONNECTED"])
def test_connect_frames_are_raw(rules: VersionRules | None, command: str) -> None:
    """Conformance 26 and 32: CONNECT/STOMP/CONNECTED never escaped (passcode pa:ss)."""
    frame = Frame(command, (("passcode", "pa:ss\\"),))
    assert serialize_frame(frame, rules) == command.encode() + b"\npasscode:pa:ss\\\n\n\x00"
    for bad in (("k", "a\rb"), ("k", "a\nb"), ("k\n", "v"), ("a:b", "v"), ("k", "\x00")):
        with pytest.raises(LocalProtocolError, match="cannot contain"):
            serialize_frame(Frame(command, (bad,)), rules)


@pytest.mark.parametrize("rules", ALL_RULES)
def test_empty_header_name_refused(rules: VersionRules | None) -> None:
    """Conformance 11/20: the peer would reject a line with an empty name."""
    with pytest.raises(LocalProtocolError, match="name cannot be empty"):
        serialize_frame(Frame("SEND", (("", "v"),)), rules)


@pytest.mark.parametrize("rules", [V11, V12])
def test_nul_in_escaped_header_refused(rules: VersionRules) -> None:
    with pytest.raises(LocalProtocolError, match="NUL"):
        serialize_frame(Frame("SEND", (("k", "a\x00"),)), rules)


@pytest.mark.parametrize("command", ["", "SE\nND", "SEND\r", "SE\x00ND", "\x16\x03\x01", "A\x7f"])
def test_invalid_commands_refused(command: str) -> None:
    """Control characters break the frame or look like TLS to the reader (fuzz finding 1)."""
    with pytest.raises(LocalProtocolError, match="invalid command"):
        serialize_frame(Frame(command), V12)


@pytest.mark.parametrize("rules", [V11, V12])
@pytest.mark.parametrize("command", ["SUBSCRIBE", "ACK", "RECEIPT", "CONNECT", "DISCONNECT"])
def test_body_refused_on_other_frames(rules: VersionRules, command: str) -> None:
    """Conformance 19: only SEND, MESSAGE and ERROR may carry a body (1.1+)."""
    with pytest.raises(LocalProtocolError, match="cannot have a body"):
        serialize_frame(Frame(command, (), b"x"), rules)


@pytest.mark.parametrize("rules", [None, V10])
def test_body_allowed_anywhere_in_10(rules: VersionRules | None) -> None:
    assert serialize_frame(Frame("ACK", (), b"x"), rules) == b"ACK\n\nx\x00"


@pytest.mark.parametrize("command", ["SEND", "MESSAGE", "ERROR"])
def test_body_allowed_on_body_frames(command: str) -> None:
    assert serialize_frame(Frame(command, (), b"x"), V12).endswith(b"\n\nx\x00")


@pytest.mark.parametrize("rules", ALL_RULES)
def test_nul_in_body_adds_content_length(rules: VersionRules | None) -> None:
    """Conformance 35: without content-length the NUL would end the frame early."""
    out = serialize_frame(Frame("SEND", (("k", "v"),), b"a\x00b"), rules)
    assert out == b"SEND\nk:v\ncontent-length:3\n\na\x00b\x00"


def test_body_without_nul_gets_no_content_length() -> None:
    """Whether to add content-length otherwise is the caller's choice (conformance 34)."""
    assert serialize_frame(Frame("SEND", (), b"abc"), V12) == b"SEND\n\nabc\x00"


def test_matching_content_length_kept_as_is() -> None:
    frame = Frame("SEND", (("content-length", "3"), ("k", "v")), b"a\x00b")
    assert serialize_frame(frame, V12) == b"SEND\ncontent-length:3\nk:v\n\na\x00b\x00"
    frame = Frame("SEND", (("content-length", "0"),))
    assert serialize_frame(frame, V12) == b"SEND\ncontent-length:0\n\n\x00"


@pytest.mark.parametrize("value", ["4", "2", "", "-3", "three", "٣", "3 "])
def test_disagreeing_content_length_refused(value: str) -> None:
    """Conformance 36: a content-length that disagrees with the body is refused."""
    with pytest.raises(LocalProtocolError, match="does not match the body"):
        serialize_frame(Frame("SEND", (("content-length", value),), b"abc"), V12)


def test_a_content_length_of_thousands_of_digits_is_refused_not_a_crash() -> None:
    # Compared as digits: int() would raise ValueError past 4300 of them.
    with pytest.raises(LocalProtocolError, match="does not match the body"):
        serialize_frame(Frame("SEND", (("content-length", "9" * 5000),), b"abc"), V12)
    padded = Frame("SEND", (("content-length", "0" * 5000 + "3"),), b"abc")
    assert serialize_frame(padded, V12).endswith(b"\n\nabc\x00")


def test_every_content_length_must_agree() -> None:
    frame = Frame("SEND", (("content-length", "3"), ("content-length", "9")), b"abc")
    with pytest.raises(LocalProtocolError, match="'9' does not match"):
        serialize_frame(frame, V12)


def test_repeated_headers_in_order() -> None:
    """Conformance 44: repeated headers are written, in order."""
    frame = Frame("SEND", (("a", "1"), ("b", "2"), ("a", "3")))
    assert serialize_frame(frame, V12) == b"SEND\na:1\nb:2\na:3\n\n\x00"


def test_utf8_and_unencodable_text() -> None:
    """Conformance 21: UTF-8; a lone surrogate cannot be encoded."""
    assert serialize_frame(Frame("SEND", (("clé", "☃"),)), V12) == "SEND\nclé:☃\n\n\x00".encode()
    with pytest.raises(LocalProtocolError, match="not encodable as UTF-8"):
        serialize_frame(Frame("SEND", (("k", "\ud800"),)), V12)


@given(frames("1.2"))
def test_output_is_one_frame_12(frame: Frame) -> None:
    """The output holds exactly the frame: LF EOLs, ends with NUL (conformance 3)."""
    out = serialize_frame(frame, V12)
    assert out.endswith(b"\x00")
    head = out[: out.index(b"\n\n")]
    assert b"\r" not in head
    assert b"\x00" not in head
