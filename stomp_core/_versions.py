"""Protocol versions and the rules that differ between them, as data.

Every per-version rule lives in the small tables of :class:`VersionRules` so that the
parser, the serializer and the state machine never grow scattered ``if version ==``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import LocalProtocolError

__all__ = [
    "SUPPORTED_VERSIONS",
    "VersionRules",
    "check_versions",
    "negotiate_version",
    "rules_for",
]

#: Every version this library speaks, in increasing order.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2")

_CLIENT_COMMANDS_10 = frozenset(
    {"CONNECT", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN", "COMMIT", "ABORT", "ACK", "DISCONNECT"}
)
_CLIENT_COMMANDS_11 = _CLIENT_COMMANDS_10 | {"NACK", "STOMP"}
_SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})


@dataclass(frozen=True, slots=True)
class VersionRules:
    """What one protocol version allows.

    Attributes:
        version: ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        escape: header escaping table (character -> escape sequence); empty for 1.0,
            which has no escaping (spec 1.1 "Value Encoding", 1.2 adds ``\\r``).
        unescape: the inverse table (the character after the backslash -> character).
        crlf: whether an EOL may be CR LF (1.2 "Augmented BNF": ``EOL = [CR] LF``).
        client_commands: the commands a client may send.
        server_commands: the commands a server may send.
        ack_id_header: the ACK/NACK header naming the message (1.2 ``id``, else
            ``message-id``).
        ack_needs_subscription: ACK/NACK carry ``subscription`` (1.1 only).
        subscribe_needs_id: SUBSCRIBE/UNSUBSCRIBE require ``id`` (1.1+).
        ack_modes: the SUBSCRIBE ``ack`` values the version defines.
        heart_beats: the version defines heart-beating (1.1+).
        body_only_on: the commands that may carry a body, or ``None`` when the version
            has no such rule (1.0).
    """

    version: str
    escape: dict[str, str]
    unescape: dict[str, str]
    crlf: bool
    client_commands: frozenset[str]
    server_commands: frozenset[str]
    ack_id_header: str
    ack_needs_subscription: bool
    subscribe_needs_id: bool
    ack_modes: frozenset[str]
    heart_beats: bool
    body_only_on: frozenset[str] | None


_ESCAPE_11 = {"\\": "\\\\", "\n": "\\n", ":": "\\c"}
_ESCAPE_12 = {**_ESCAPE_11, "\r": "\\r"}

_RULES = {
    "1.0": VersionRules(
        version="1.0",
        escape={},
        unescape={},
        crlf=False,
        client_commands=_CLIENT_COMMANDS_10,
        server_commands=_SERVER_COMMANDS,
        ack_id_header="message-id",
        ack_needs_subscription=False,
        subscribe_needs_id=False,
        ack_modes=frozenset({"auto", "client"}),
        heart_beats=False,
        body_only_on=None,
    ),
    "1.1": VersionRules(
        version="1.1",
        escape=_ESCAPE_11,
        unescape={"\\": "\\", "n": "\n", "c": ":"},
        crlf=False,
        client_commands=_CLIENT_COMMANDS_11,
        server_commands=_SERVER_COMMANDS,
        ack_id_header="message-id",
        ack_needs_subscription=True,
        subscribe_needs_id=True,
        ack_modes=frozenset({"auto", "client", "client-individual"}),
        heart_beats=True,
        body_only_on=frozenset({"SEND", "MESSAGE", "ERROR"}),
    ),
    "1.2": VersionRules(
        version="1.2",
        escape=_ESCAPE_12,
        unescape={"\\": "\\", "n": "\n", "c": ":", "r": "\r"},
        crlf=True,
        client_commands=_CLIENT_COMMANDS_11,
        server_commands=_SERVER_COMMANDS,
        ack_id_header="id",
        ack_needs_subscription=False,
        subscribe_needs_id=True,
        ack_modes=frozenset({"auto", "client", "client-individual"}),
        heart_beats=True,
        body_only_on=frozenset({"SEND", "MESSAGE", "ERROR"}),
    ),
}


def rules_for(version: str) -> VersionRules:
    """Return the rules of ``version`` (``"1.0"``, ``"1.1"`` or ``"1.2"``)."""
    try:
        return _RULES[version]
    except KeyError:
        raise LocalProtocolError(f"unsupported STOMP version {version!r}") from None


def check_versions(versions: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate a list of versions and return it sorted, without duplicates."""
    if isinstance(versions, str):
        versions = [v.strip() for v in versions.split(",")]
    result = tuple(sorted(set(versions)))
    if not result:
        raise LocalProtocolError("at least one STOMP version must be offered")
    for v in result:
        rules_for(v)
    return result


def negotiate_version(offered: tuple[str, ...], supported: tuple[str, ...]) -> str | None:
    """The highest version in both lists, or ``None`` (spec 1.2 "Protocol Negotiation")."""
    common = set(offered) & set(supported)
    return max(common, key=SUPPORTED_VERSIONS.index) if common else None
