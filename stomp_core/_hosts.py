"""Candidate hosts: the order in which a driver tries the brokers it was given.

A pure policy shared by every driver.  It resolves no names: which names mean "this
machine" is an input (``local_names``), because finding them needs the socket module
(stomp.py uses ``gethostname()``, ``gethostbyname(gethostname())`` and
``getfqdn(gethostname())``), and the core imports no socket.

The rules are stomp.py's (``Transport.__init__``, parameters ``prefer_localhost`` and
``try_loopback_connect``):

1. No list given: ``[("localhost", 61613)]``.
2. ``prefer_localhost``: a stable sort moves the entries whose host is local to the
   front, keeping the given order within each group.
3. ``try_loopback_connect``: for each local entry ``(host, port)``, a ``("127.0.0.1",
   port)`` twin is added unless ``("127.0.0.1", port)`` or ``("localhost", port)`` is
   already in the list.  So ``localhost`` itself never gets a twin; the machine's own
   name or address does, and the loopback interface is tried before it.
4. The result is the twins first, then the (possibly sorted) list.

Deliberate differences from stomp.py:

* host names compare without regard to case (DNS names are case-insensitive,
  RFC 4343), so ``"LocalHost"`` is local too;
* two local entries with the same port get one loopback twin, not two;
* an empty list, a malformed entry or a port outside 0..65535 raises
  :class:`ValueError` at once (stomp.py looped forever on an empty list).

An auto-added ``127.0.0.1`` twin is a new ``(host, port)`` pair: drivers that key TLS
settings by the exact pair (as stomp.py's ``set_ssl`` does) should apply the settings of
the entry it stands for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

__all__ = [
    "DEFAULT_HOST_AND_PORTS",
    "LOCALHOST_NAMES",
    "LOOPBACK_ADDRESS",
    "candidate_hosts",
    "is_local_host",
]

#: What stomp.py connects to when given no hosts.
DEFAULT_HOST_AND_PORTS: tuple[tuple[str, int], ...] = (("localhost", 61613),)

#: The names that always mean this machine; drivers add the machine's own names.
LOCALHOST_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1")

#: The host of an auto-added loopback twin.
LOOPBACK_ADDRESS = "127.0.0.1"

# A twin is pointless when one of these is already listed with the same port.
_ALREADY_LOOPBACK = frozenset({LOOPBACK_ADDRESS, "localhost"})


def is_local_host(host: str, local_names: Collection[str]) -> bool:
    """Whether ``host`` names this machine, i.e. is one of ``local_names`` (any case).

    Args:
        host: a host name or address as given by the user.
        local_names: the names that mean this machine (at least
            :data:`LOCALHOST_NAMES`; drivers add the host name, its address and FQDN).
    """
    folded = host.lower()
    return any(folded == name.lower() for name in local_names)


def _normalize(host_and_ports: Iterable[tuple[str, int]] | None) -> list[tuple[str, int]]:
    if host_and_ports is None:
        return list(DEFAULT_HOST_AND_PORTS)
    if isinstance(host_and_ports, (str, bytes)):
        raise ValueError(
            f"host_and_ports must be a list of (host, port) pairs, got {host_and_ports!r}"
        )
    result: list[tuple[str, int]] = []
    for entry in host_and_ports:
        # A str is a sequence too ("ab" unpacks into two), so refuse it explicitly.
        if (
            isinstance(entry, (str, bytes))
            or not isinstance(entry, (tuple, list))
            or len(entry) != 2
        ):
            raise ValueError(f"each host must be a (host, port) pair, got {entry!r}")
        host, port = entry
        if not isinstance(host, str) or not host:
            raise ValueError(f"a host must be a non-empty str, got {host!r}")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"a port must be an int in 0..65535, got {port!r}")
        result.append((host, port))
    if not result:
        raise ValueError("host_and_ports must name at least one (host, port)")
    return result


def candidate_hosts(
    host_and_ports: Iterable[tuple[str, int]] | None,
    *,
    prefer_localhost: bool = True,
    try_loopback_connect: bool = True,
    local_names: Collection[str] = LOCALHOST_NAMES,
) -> list[tuple[str, int]]:
    """The ``(host, port)`` pairs to try, in order (stomp.py's rules; see the module doc).

    Args:
        host_and_ports: the brokers given by the user (pairs as tuples or lists), or
            ``None`` for ``[("localhost", 61613)]``.
        prefer_localhost: move local hosts to the front.
        try_loopback_connect: add a ``127.0.0.1`` twin for local hosts not already
            reachable through ``127.0.0.1`` or ``localhost`` on the same port.
        local_names: the names that mean this machine (see :func:`is_local_host`).

    Returns:
        A new list of ``(host, port)`` tuples; duplicates given by the user are kept.

    Raises:
        ValueError: the list is empty, an entry is not a ``(str, int)`` pair, a host is
            empty, or a port is outside 0..65535.
    """
    hosts = _normalize(host_and_ports)
    if isinstance(local_names, str):
        # A lone name would be searched character by character.
        raise ValueError(f"local_names must be a collection of names, got {local_names!r}")
    if prefer_localhost:
        # list.sort is stable: the order within each group is the user's.
        hosts.sort(key=lambda entry: not is_local_host(entry[0], local_names))
    twins: list[tuple[str, int]] = []
    if try_loopback_connect:
        on_loopback = {port for host, port in hosts if host.lower() in _ALREADY_LOOPBACK}
        for host, port in hosts:
            if is_local_host(host, local_names) and port not in on_loopback:
                twins.append((LOOPBACK_ADDRESS, port))
                on_loopback.add(port)  # one twin per port
    return twins + hosts
