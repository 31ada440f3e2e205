"""Broker addresses: URLs and ``(host, port)`` pairs, and whether to dial TLS or WebSocket."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "DEFAULT_WSS_PORT",
    "DEFAULT_WS_PORT",
    "Endpoint",
    "parse_hosts",
    "use_tls",
]

#: The IANA-registered STOMP port (RabbitMQ, ActiveMQ, Artemis all default to it).
DEFAULT_PORT = 61613
#: The conventional STOMP-over-TLS port (RabbitMQ ``stomp.listeners.ssl``, ActiveMQ ``stomp+ssl``).
DEFAULT_TLS_PORT = 61614

#: The default ports of ``ws://`` and ``wss://`` URLs (RFC 6455 section 3).
DEFAULT_WS_PORT = 80
DEFAULT_WSS_PORT = 443

#: URL scheme -> whether it asks for TLS.
_SCHEMES = {"stomp": False, "stomp+ssl": True, "stomp+tls": True, "ws": False, "wss": True}
_WEBSOCKET = ("ws", "wss")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One broker address.

    Args:
        host: host name or address (IPv6 without brackets).
        port: TCP port.
        tls: ``True`` for a ``stomp+ssl://`` or ``wss://`` URL, ``False`` for ``stomp://``
            or ``ws://``, ``None`` when given as a ``(host, port)`` pair (the driver's
            ``ssl`` argument decides).
        path: the WebSocket request path (STOMP over WebSocket), ``None`` for STOMP
            straight over TCP.
    """

    host: str
    port: int
    tls: bool | None = None
    path: str | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _parse_url(url: str) -> Endpoint:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise ValueError(f"bad broker URL {url!r}: {exc}") from None
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"bad broker URL {url!r}: the scheme must be one of {', '.join(sorted(_SCHEMES))}"
        )
    if parts.username is not None or parts.password is not None:
        # Credentials in URLs end up in logs and process listings.
        raise ValueError(
            f"bad broker URL for {parts.hostname}: put credentials in login=/passcode=, "
            "not in the URL"
        )
    websocket = parts.scheme in _WEBSOCKET
    if parts.fragment or (not websocket and (parts.path not in ("", "/") or parts.query)):
        raise ValueError(f"bad broker URL {url!r}: only scheme://host:port is understood")
    if not parts.hostname:
        raise ValueError(f"bad broker URL {url!r}: no host")
    tls = _SCHEMES[parts.scheme]
    if port is None:
        defaults = (
            (DEFAULT_WSS_PORT, DEFAULT_WS_PORT) if websocket else (DEFAULT_TLS_PORT, DEFAULT_PORT)
        )
        port = defaults[0] if tls else defaults[1]
    if not websocket:
        return Endpoint(parts.hostname, port, tls)
    # The request target of the handshake is the URL's path and query (RFC 6455 3).
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(parts.hostname, port, tls, path)


def _check_pair(entry: object, ws_path: str | None) -> Endpoint:
    if isinstance(entry, (str, bytes)) or not isinstance(entry, (tuple, list)) or len(entry) != 2:
        raise ValueError(f"each host must be a URL or a (host, port) pair, got {entry!r}")
    host, port = entry
    if not isinstance(host, str) or not host:
        raise ValueError(f"a host must be a non-empty str, got {host!r}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port <= 65535:
        raise ValueError(f"a port must be an int in 1..65535, got {port!r}")
    return Endpoint(host, port, None, ws_path)


def parse_hosts(
    hosts: str | Iterable[str | tuple[str, int]], *, ws_path: str | None = None
) -> list[Endpoint]:
    """The brokers to try, in order.

    Args:
        hosts: one URL (``"stomp://host:61613"``, ``"stomp+ssl://host:61614"``, IPv6 as
            ``"stomp://[::1]:61613"``), several URLs separated by commas, or a list of URLs
            and ``(host, port)`` pairs.  A URL without port gets 61613 (61614 for TLS).
            ``"ws://host:15674/ws"`` and ``"wss://..."`` speak STOMP over WebSocket
            (default ports 80 and 443), the URL's path being the request path.
        ws_path: the WebSocket request path for the ``(host, port)`` pairs (e.g.
            ``"/ws"``); ``None``: the pairs speak STOMP over TCP.

    Returns:
        One :class:`Endpoint` per entry, duplicates kept.

    Raises:
        ValueError: an empty list, an unknown scheme, credentials or a path in a URL
            (other than ``ws(s)://``), a malformed pair, an out-of-range port, or a
            ``ws_path`` not starting with ``/``.
    """
    if ws_path is not None and not ws_path.startswith("/"):
        raise ValueError(f"ws_path must start with '/', got {ws_path!r}")
    if isinstance(hosts, str):
        entries: list[str | tuple[str, int]] = [u for u in hosts.split(",") if u.strip()]
    elif isinstance(hosts, bytes):
        raise ValueError(f"hosts must be str, not bytes: {hosts!r}")
    else:
        entries = list(hosts)
    endpoints = [_parse_url(e) if isinstance(e, str) else _check_pair(e, ws_path) for e in entries]
    if not endpoints:
        raise ValueError("no broker given: hosts is empty")
    return endpoints


def use_tls(endpoint: Endpoint, tls: bool | None) -> bool:
    """Whether to dial ``endpoint`` over TLS.

    Args:
        endpoint: the broker.
        tls: the driver's ``ssl`` argument reduced to a bool (an ``SSLContext`` is
            ``True``), or ``None`` when the caller left it unset.

    Returns:
        ``tls`` if set, else what the URL asked for (plain for ``(host, port)`` pairs).

    Raises:
        ValueError: the URL asked for TLS (``stomp+ssl://``) and ``tls`` is ``False``:
            a silent downgrade to plain text is never done.
    """
    if tls is None:
        return bool(endpoint.tls)
    if endpoint.tls and not tls:
        raise ValueError(f"{endpoint} was given as stomp+ssl:// but ssl=False was passed")
    return tls
