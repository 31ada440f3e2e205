"""Header escaping per version: conformance items 23-30 and 33."""

from __future__ import annotations

import pytest
from hypothesis import given

from stomp_core._errors import LocalProtocolError, RemoteProtocolError
from stomp_core._headers import escape_header, unescape_header
from stomp_core._versions import rules_for

from .strategies import header_names, header_values

V10 = rules_for("1.0")
V11 = rules_for("1.1")
V12 = rules_for("1.2")


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("plain", "plain"),
        ("a:b", "a\\cb"),
        ("line1\nline2", "line1\\nline2"),
        ("back\\slash", "back\\\\slash"),
        ("cr\rhere", "cr\\rhere"),
        ("\\n", "\\\\n"),
        ("", ""),
    ],
)
def test_escape_12(text: str, wire: str) -> None:
    """Conformance 23: 1.2 escapes backslash, CR, LF and ':'."""
    assert escape_header(text, V12) == wire
    assert escape_header(text, V12, name=True) == wire
    assert unescape_header(wire, V12) == text


@pytest.mark.parametrize(
    ("text", "wire"),
    [("a:b", "a\\cb"), ("x\ny", "x\\ny"), ("b\\s", "b\\\\s"), ("ok", "ok")],
)
def test_escape_11(text: str, wire: str) -> None:
    """Conformance 24: 1.1 escapes backslash, LF and ':'."""
    assert escape_header(text, V11) == wire
    assert unescape_header(wire, V11) == text


def test_escape_11_refuses_cr() -> None:
    """Conformance 24: a CR cannot be represented in 1.1."""
    with pytest.raises(LocalProtocolError, match="cannot encode CR"):
        escape_header("a\rb", V11)


def test_escape_10_is_identity_but_refuses_line_breaks() -> None:
    """Conformance 25: 1.0 has no escaping; ':' is fine in a value, not in a name."""
    assert escape_header("a:b\\c", V10) == "a:b\\c"
    assert escape_header("name", V10, name=True) == "name"
    for bad in ("a\nb", "a\rb"):
        with pytest.raises(LocalProtocolError, match=r"STOMP 1\.0 cannot encode CR or LF"):
            escape_header(bad, V10)
    with pytest.raises(LocalProtocolError, match="':' in a header name"):
        escape_header("a:b", V10, name=True)


@pytest.mark.parametrize("rules", [V10, V11, V12])
def test_escape_refuses_nul(rules: object) -> None:
    """A NUL ends a frame; no version can carry it in a header (conformance 20)."""
    with pytest.raises(LocalProtocolError, match="NUL"):
        escape_header("a\x00b", rules)  # type: ignore[arg-type]


def test_unescape_is_one_left_to_right_pass() -> None:
    """Conformance 27: wire ``\\\\n`` is backslash + n, not backslash + LF."""
    assert unescape_header("\\\\n", V12) == "\\n"
    assert unescape_header("\\\\\\n", V12) == "\\\n"
    assert unescape_header("\\c\\c", V11) == "::"
    assert unescape_header("\\r", V12) == "\r"


@pytest.mark.parametrize("rules", [V11, V12])
def test_unescape_of_colons_only_and_of_colons_among_other_escapes(rules: object) -> None:
    """ActiveMQ's message ids hold only ``\\c``; a ``c`` after an escaped backslash is
    not one (conformance 27)."""
    wire = "ID\\cvm-1-2\\c510\\c-1"
    assert unescape_header(wire, rules) == "ID:vm-1-2:510:-1"  # type: ignore[arg-type]
    assert unescape_header("a\\\\c\\c", rules) == "a\\c:"  # type: ignore[arg-type]
    assert unescape_header("\\c\\n", rules) == ":\n"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wire", "rules", "shown"),
    [
        ("a\\tb", V12, "'\\\\t'"),
        ("trailing\\", V12, "'\\\\'"),
        ("a\\rb", V11, "'\\\\r'"),
        ("\\x", V11, "'\\\\x'"),
    ],
)
def test_unescape_undefined_escape_is_fatal(wire: str, rules: object, shown: str) -> None:
    """Conformance 28: undefined escapes (\\t, lone trailing \\, \\r in 1.1) are fatal."""
    with pytest.raises(RemoteProtocolError, match="undefined escape sequence") as info:
        unescape_header(wire, rules)  # type: ignore[arg-type]
    assert shown in str(info.value)


def test_unescape_10_is_identity() -> None:
    """1.0 has no escaping: a backslash is a backslash (conformance 25)."""
    assert unescape_header("a\\tb\\", V10) == "a\\tb\\"
    assert unescape_header("plain", V12) == "plain"


@given(header_values("1.2"))
def test_round_trip_values_12(text: str) -> None:
    """Conformance 33: decode(encode(h)) == h for everything 1.2 can represent."""
    assert unescape_header(escape_header(text, V12), V12) == text


@given(header_names("1.1"))
def test_round_trip_names_11(text: str) -> None:
    """Conformance 29 and 33: names are escaped and unescaped like values."""
    wire = escape_header(text, V11, name=True)
    assert "\n" not in wire
    assert ":" not in wire
    assert unescape_header(wire, V11) == text


@given(header_values("1.0"))
def test_round_trip_values_10(text: str) -> None:
    """Conformance 33 for 1.0: representable values pass through unchanged."""
    assert escape_header(text, V10) == text
    assert unescape_header(text, V10) == text
