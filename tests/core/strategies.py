"""Hypothesis strategies for STOMP frames, reusable by any test module.

``header_names(version)`` / ``header_values(version)`` produce text the given version
can carry (``version=None`` or ``raw=True``: the unescaped form of CONNECT, STOMP and
CONNECTED, and of every frame before negotiation).  ``frames(version)`` produces frames
that serialize under that version and parse back to themselves.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from stomp_core._frame import Frame

__all__ = [
    "BODY_COMMANDS",
    "COMMANDS",
    "RAW_COMMANDS",
    "bodies",
    "chunkings",
    "frames",
    "header_names",
    "header_values",
    "headers",
]

#: Every command of STOMP 1.2, client and server side.
COMMANDS = (
    "CONNECT",
    "STOMP",
    "CONNECTED",
    "SEND",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ACK",
    "NACK",
    "BEGIN",
    "COMMIT",
    "ABORT",
    "DISCONNECT",
    "MESSAGE",
    "RECEIPT",
    "ERROR",
)
#: Commands whose headers are never escaped.
RAW_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})
#: Commands that may carry a body in STOMP 1.1 and 1.2.
BODY_COMMANDS = frozenset({"SEND", "MESSAGE", "ERROR"})

# The characters that matter to the grammar, drawn often so that escaping is exercised.
_SPECIALS = "\\:\n\r"


def _text(forbidden: str, *, min_size: int) -> st.SearchStrategy[str]:
    # Any Unicode except surrogates (not UTF-8 encodable) and the forbidden characters,
    # mixed with the grammar's special characters.
    allowed_specials = "".join(c for c in _SPECIALS if c not in forbidden)
    alphabet = st.characters(codec="utf-8", exclude_characters=forbidden + "\x00")
    if allowed_specials:
        alphabet = st.one_of(alphabet, st.sampled_from(allowed_specials))
    return st.text(alphabet, min_size=min_size, max_size=20)


def _forbidden(version: str | None, *, raw: bool, name: bool) -> str:
    if raw or version is None or version == "1.0":
        # No escaping: nothing that would break the line; no ':' in a name.
        return "\n\r:" if name else "\n\r"
    if version == "1.1":
        return "\r"  # 1.1 has no escape for CR
    return ""


def header_names(version: str | None, *, raw: bool = False) -> st.SearchStrategy[str]:
    """Non-empty header names ``version`` can carry (never ``content-length``)."""
    return _text(_forbidden(version, raw=raw, name=True), min_size=1).filter(
        lambda n: n != "content-length"
    )


def header_values(version: str | None, *, raw: bool = False) -> st.SearchStrategy[str]:
    """Header values ``version`` can carry (empty included)."""
    return _text(_forbidden(version, raw=raw, name=False), min_size=0)


def headers(
    version: str | None, *, raw: bool = False, max_size: int = 6
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A list of header pairs, repeats possible."""
    pair = st.tuples(header_names(version, raw=raw), header_values(version, raw=raw))
    return st.lists(pair, max_size=max_size)


def bodies() -> st.SearchStrategy[bytes]:
    """Bodies, often with NUL and EOL bytes in them."""
    return st.one_of(
        st.binary(max_size=64),
        st.lists(st.sampled_from([b"\x00", b"\n", b"\r\n", b"x", b"\\"]), max_size=8).map(b"".join),
    )


@st.composite
def frames(draw: st.DrawFn, version: str | None) -> Frame:
    """A frame that ``serialize_frame(frame, rules_for(version))`` accepts and that parses
    back to itself (``version=None``: before negotiation)."""
    command = draw(st.sampled_from(COMMANDS))
    raw = command in RAW_COMMANDS
    pairs = draw(headers(version, raw=raw))
    may_have_body = version in (None, "1.0") or command in BODY_COMMANDS
    body = draw(bodies()) if may_have_body else b""
    if b"\x00" in body or draw(st.booleans()):
        # The serializer would add content-length for a NUL body; add it here so that
        # the round trip is exact.  Its position among the headers varies.
        position = draw(st.integers(min_value=0, max_value=len(pairs)))
        pairs.insert(position, ("content-length", str(len(body))))
    return Frame(command, tuple(pairs), body)


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at hypothesis-chosen boundaries."""
    if not data:
        return [data]
    cuts = draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=12))
    points = sorted({0, len(data), *cuts})
    return [data[a:b] for a, b in itertools.pairwise(points)]
