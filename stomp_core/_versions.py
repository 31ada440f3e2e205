"""Protocol versions and the rules that differ between them, as data.

Every per-version fact lives here, in the small tables of :class:`VersionRules`, so
that the parser, the serializer, the conversions and the state machine never grow
scattered ``if version == "1.2"``: they ask the negotiated version's rules instead.
The command list is written once, in :data:`COMMANDS`; every other command set in the
core is derived from it.
"""

from __future__ import annotations

from types import MappingProxyType

from ._errors import LocalProtocolError
from ._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ALL_COMMANDS",
    "COMMANDS",
    "IMPLICIT_VERSION",
    "RULES",
    "SUPPORTED_VERSIONS",
    "VersionRules",
    "accept_versions",
    "check_versions",
    "negotiate_version",
    "rules_for",
]

#: Every version this library speaks, in increasing order.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2")

#: The version of a peer that names none.  STOMP 1.0 has no negotiation, so a CONNECT
#: without ``accept-version`` "means that the client only supports version 1.0" and a
#: CONNECTED without ``version`` comes from a 1.0 server (STOMP 1.1 and 1.2 "Protocol
#: Negotiation").  For the same reason a CONNECT offering only 1.0 and a 1.0 CONNECTED
#: leave those headers out (conformance 50, 54).
IMPLICIT_VERSION = "1.0"

#: Every STOMP command, written once: ``command -> (who sends it, first version)``.
#: A command is legal in a version from its first version on; the state tables
#: (``_state.py``), the serializer's check of raw commands and each version's command
#: sets below are all derived from this table.
COMMANDS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        # STOMP 1.0 opens a session with CONNECT; "Client Commands" lists the rest.
        "CONNECT": ("client", "1.0"),
        # STOMP 1.1 "CONNECT or STOMP Frame": servers "MUST handle a STOMP frame in the
        # same manner as a CONNECT frame"; 1.0 servers do not know it (conformance 53).
        "STOMP": ("client", "1.1"),
        "SEND": ("client", "1.0"),
        "SUBSCRIBE": ("client", "1.0"),
        "UNSUBSCRIBE": ("client", "1.0"),
        "BEGIN": ("client", "1.0"),
        "COMMIT": ("client", "1.0"),
        "ABORT": ("client", "1.0"),
        "ACK": ("client", "1.0"),
        # STOMP 1.1 "Changes in the Protocol": "NACK frames for negative acknowledgment";
        # asking to NACK in a 1.0 session fails locally (conformance 7).
        "NACK": ("client", "1.1"),
        "DISCONNECT": ("client", "1.0"),
        # STOMP 1.0 "Server Frames", plus CONNECTED; the same four in every version
        # (conformance 8).
        "CONNECTED": ("server", "1.0"),
        "MESSAGE": ("server", "1.0"),
        "RECEIPT": ("server", "1.0"),
        "ERROR": ("server", "1.0"),
    }
)

#: Every STOMP command of any version; any other command line is an extension frame.
ALL_COMMANDS: frozenset[str] = frozenset(COMMANDS)


def _commands(sender: str, version: str) -> frozenset[str]:
    # The commands ``sender`` may use in ``version``: those that exist by then.
    level = SUPPORTED_VERSIONS.index(version)
    return frozenset(
        command
        for command, (who, since) in COMMANDS.items()
        if who == sender and SUPPORTED_VERSIONS.index(since) <= level
    )


class VersionRules(Record):
    """What one protocol version allows.

    Attributes:
        version: ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        escape: header escaping table (character -> escape sequence); empty for 1.0,
            which has no escaping (spec 1.1 "Value Encoding", 1.2 adds ``\\r``).
        unescape: the inverse table (the character after the backslash -> character).
        crlf: whether an EOL may be CR LF (1.2 "Augmented BNF": ``EOL = [CR] LF``).
        client_commands: the commands a client may send (from :data:`COMMANDS`).
        server_commands: the commands a server may send (from :data:`COMMANDS`).
        ack_id_header: the ACK/NACK header naming the message (1.2 ``id``, else
            ``message-id``).
        ack_names_message_ack: an ACK/NACK names the MESSAGE by its ``ack`` header
            rather than its ``message-id`` (1.2 "ACK": the ``id`` header matches "the
            ack header of the MESSAGE being acknowledged").
        ack_needs_subscription: ACK/NACK carry ``subscription`` (1.1 only).
        subscribe_needs_id: SUBSCRIBE/UNSUBSCRIBE require ``id`` (1.1+).
        message_needs_subscription: MESSAGE carries ``subscription`` (1.2 "MESSAGE":
            it "MUST also contain" one; 1.1 only says it "will be set").
        connect_needs_host: CONNECT requires ``host``, the virtual host (1.1 and 1.2
            "CONNECT or STOMP Frame": clients "MUST set" it; conformance 51).
        ack_modes: the SUBSCRIBE ``ack`` values the version defines.
        heart_beats: the version defines heart-beating (1.1+).
        body_only_on: the commands that may carry a body, or ``None`` when the version
            has no such rule (1.0).
        websocket_subprotocol: the WebSocket sub-protocol that selects this version
            (the names RabbitMQ, ActiveMQ and stomp.js use; conformance 104).
    """

    __slots__ = (
        "ack_id_header",
        "ack_modes",
        "ack_names_message_ack",
        "ack_needs_subscription",
        "body_only_on",
        "client_commands",
        "connect_needs_host",
        "crlf",
        "escape",
        "heart_beats",
        "message_needs_subscription",
        "server_commands",
        "subscribe_needs_id",
        "unescape",
        "version",
        "websocket_subprotocol",
    )
    __match_args__ = (
        "version",
        "escape",
        "unescape",
        "crlf",
        "client_commands",
        "server_commands",
        "ack_id_header",
        "ack_names_message_ack",
        "ack_needs_subscription",
        "subscribe_needs_id",
        "message_needs_subscription",
        "connect_needs_host",
        "ack_modes",
        "heart_beats",
        "body_only_on",
        "websocket_subprotocol",
    )

    version: str
    escape: dict[str, str]
    unescape: dict[str, str]
    crlf: bool
    client_commands: frozenset[str]
    server_commands: frozenset[str]
    ack_id_header: str
    ack_names_message_ack: bool
    ack_needs_subscription: bool
    subscribe_needs_id: bool
    message_needs_subscription: bool
    connect_needs_host: bool
    ack_modes: frozenset[str]
    heart_beats: bool
    body_only_on: frozenset[str] | None
    websocket_subprotocol: str

    def __init__(
        self,
        version: str,
        escape: dict[str, str],
        unescape: dict[str, str],
        crlf: bool,
        client_commands: frozenset[str],
        server_commands: frozenset[str],
        ack_id_header: str,
        ack_names_message_ack: bool,
        ack_needs_subscription: bool,
        subscribe_needs_id: bool,
        message_needs_subscription: bool,
        connect_needs_host: bool,
        ack_modes: frozenset[str],
        heart_beats: bool,
        body_only_on: frozenset[str] | None,
        websocket_subprotocol: str,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "version", version)
        set_field(self, "escape", escape)
        set_field(self, "unescape", unescape)
        set_field(self, "crlf", crlf)
        set_field(self, "client_commands", client_commands)
        set_field(self, "server_commands", server_commands)
        set_field(self, "ack_id_header", ack_id_header)
        set_field(self, "ack_names_message_ack", ack_names_message_ack)
        set_field(self, "ack_needs_subscription", ack_needs_subscription)
        set_field(self, "subscribe_needs_id", subscribe_needs_id)
        set_field(self, "message_needs_subscription", message_needs_subscription)
        set_field(self, "connect_needs_host", connect_needs_host)
        set_field(self, "ack_modes", ack_modes)
        set_field(self, "heart_beats", heart_beats)
        set_field(self, "body_only_on", body_only_on)
        set_field(self, "websocket_subprotocol", websocket_subprotocol)


_ESCAPE_11 = {"\\": "\\\\", "\n": "\\n", ":": "\\c"}
_ESCAPE_12 = {**_ESCAPE_11, "\r": "\\r"}
# STOMP 1.1 and 1.2 "Body": "Only the SEND, MESSAGE, and ERROR frames MAY have a body".
_BODY_ONLY_ON = frozenset({"SEND", "MESSAGE", "ERROR"})

_RULES = {
    "1.0": VersionRules(
        version="1.0",
        escape={},
        unescape={},
        crlf=False,
        client_commands=_commands("client", "1.0"),
        server_commands=_commands("server", "1.0"),
        ack_id_header="message-id",
        ack_names_message_ack=False,
        ack_needs_subscription=False,
        # STOMP 1.0 "SUBSCRIBE": the id is optional; a destination names the subscription.
        subscribe_needs_id=False,
        message_needs_subscription=False,
        connect_needs_host=False,
        # STOMP 1.0 "SUBSCRIBE": ack is "auto" or "client" (conformance 75).
        ack_modes=frozenset({"auto", "client"}),
        heart_beats=False,
        body_only_on=None,
        websocket_subprotocol="v10.stomp",
    ),
    "1.1": VersionRules(
        version="1.1",
        escape=_ESCAPE_11,
        unescape={"\\": "\\", "n": "\n", "c": ":"},
        crlf=False,
        client_commands=_commands("client", "1.1"),
        server_commands=_commands("server", "1.1"),
        ack_id_header="message-id",
        ack_names_message_ack=False,
        # STOMP 1.1 "ACK": "message-id ... and subscription" are both REQUIRED.
        ack_needs_subscription=True,
        subscribe_needs_id=True,
        message_needs_subscription=False,
        connect_needs_host=True,
        ack_modes=frozenset({"auto", "client", "client-individual"}),
        heart_beats=True,
        body_only_on=_BODY_ONLY_ON,
        websocket_subprotocol="v11.stomp",
    ),
    "1.2": VersionRules(
        version="1.2",
        escape=_ESCAPE_12,
        unescape={"\\": "\\", "n": "\n", "c": ":", "r": "\r"},
        crlf=True,
        client_commands=_commands("client", "1.2"),
        server_commands=_commands("server", "1.2"),
        ack_id_header="id",
        ack_names_message_ack=True,
        ack_needs_subscription=False,
        subscribe_needs_id=True,
        message_needs_subscription=True,
        connect_needs_host=True,
        ack_modes=frozenset({"auto", "client", "client-individual"}),
        heart_beats=True,
        body_only_on=_BODY_ONLY_ON,
        websocket_subprotocol="v12.stomp",
    ),
}

#: The rules of every supported version, by version string (read-only).
RULES: Mapping[str, VersionRules] = MappingProxyType(_RULES)


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


def accept_versions(offered: tuple[str, ...]) -> tuple[str, ...]:
    """``offered`` as a CONNECT's ``accept-version`` must be: known versions, increasing.

    STOMP 1.1 and 1.2 "Protocol Negotiation": the header is "a comma separated list of
    incrementing STOMP protocol versions" (conformance 49).

    Raises:
        LocalProtocolError: a version this library does not speak.
    """
    for version in offered:
        rules_for(version)
    return tuple(sorted(set(offered), key=SUPPORTED_VERSIONS.index))


def negotiate_version(offered: tuple[str, ...], supported: tuple[str, ...]) -> str | None:
    """The highest version in both lists, or ``None`` (spec 1.2 "Protocol Negotiation")."""
    common = set(offered) & set(supported)
    return max(common, key=SUPPORTED_VERSIONS.index) if common else None
