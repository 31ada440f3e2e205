"""Socket options: TCP keep-alive as stomp.py's ``keepalive`` argument describes it."""

from __future__ import annotations

import socket
import sys

from . import logging

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "LINUX_KEEPALIVE_AVAIL",
    "MAC_KEEPALIVE_AVAIL",
    "apply_keepalive",
    "check_keepalive",
    "use_kernel_timeouts",
]

LINUX_KEEPALIVE_AVAIL = all(
    hasattr(socket, name)
    for name in ("SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT")
)
MAC_KEEPALIVE_AVAIL = hasattr(socket, "SO_KEEPALIVE") and hasattr(socket, "IPPROTO_TCP")
# macOS names the idle-interval option TCP_KEEPALIVE (0x10); Python exposes it there.
_MAC_TCP_KEEPALIVE = getattr(socket, "TCP_KEEPALIVE", 0x10)


def apply_keepalive(sock: socket.socket, keepalive: Any) -> None:
    """Turn TCP keep-alive on as ``keepalive`` asks (see :func:`check_keepalive`)."""
    if not keepalive:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if keepalive is True:
        return
    if keepalive[0] == "linux" and LINUX_KEEPALIVE_AVAIL:
        for option, value in zip(
            ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT"), keepalive[1:], strict=False
        ):
            if value is not None:
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    elif keepalive[0] == "mac" and keepalive[1] is not None:
        # stomp.py mis-wired this call and never applied the interval.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, _MAC_TCP_KEEPALIVE, keepalive[1])
        except OSError:
            logging.warning("TCP keep-alive interval not supported on this system")


def check_keepalive(keepalive: Any) -> None:
    """Refuse a malformed ``keepalive`` argument with ``ValueError``."""
    if keepalive is None or isinstance(keepalive, bool):
        return
    if isinstance(keepalive, tuple) and keepalive:
        if (keepalive[0] == "linux" and len(keepalive) == 4) or (
            keepalive[0] == "mac" and len(keepalive) == 2
        ):
            values = keepalive[1:]
        else:
            values = None
        if values is not None and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0) for v in values
        ):
            return
    raise ValueError(
        "keepalive must be None, a bool, ('linux', idle, intvl, cnt) or ('mac', intvl), "
        f"got {keepalive!r}"
    )


def use_kernel_timeouts(sock: socket.socket, seconds: float) -> bool:
    """Bound ``sock``'s blocking sends and receives in the kernel; whether it could.

    With a Python-level timeout every ``send``/``recv`` first waits in ``poll()``: one
    more system call per frame.  ``SO_SNDTIMEO``/``SO_RCVTIMEO`` bound the same waits
    at no cost: a send that makes no progress for ``seconds`` fails with ``EAGAIN``
    (:class:`BlockingIOError`).  On success the socket is left in blocking mode; where
    the options cannot be set (not Linux or macOS with 64-bit ``timeval``) it is left
    as it was and ``False`` is returned.
    """
    import struct  # here, once per connection, not with the package (issue 13)

    if sys.platform not in ("linux", "darwin") or struct.calcsize("@l") != 8:
        return False
    timeval = _timeval(seconds)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    except OSError:
        return False
    sock.settimeout(None)
    return True


def set_kernel_send_timeout(sock: socket.socket, seconds: float) -> None:
    """Change the ``SO_SNDTIMEO`` that :func:`use_kernel_timeouts` set (at least 1 ms).

    A zero ``timeval`` would mean "no timeout at all", hence the floor.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(max(seconds, 0.001)))


def _timeval(seconds: float) -> bytes:
    # Only after use_kernel_timeouts imported struct; a partial write's path, not a frame's.
    import struct

    whole = int(seconds)
    return struct.pack("@ll", whole, int((seconds - whole) * 1_000_000))
