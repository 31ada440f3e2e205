"""Checks of the arguments both async drivers take, run before anything is sent."""

from __future__ import annotations

import math
from typing import Literal

from ._lifecycle import ReconnectPolicy
from ._routing import UnhandledHook

__all__ = ["ACK_MODES", "AckMode", "check_client_arguments", "check_subscribe_arguments"]

#: A SUBSCRIBE ``ack`` mode, as a type: a typo (``"client-individul"``) is a type error.
AckMode = Literal["auto", "client", "client-individual"]
#: The SUBSCRIBE ``ack`` modes (spec 1.2 "SUBSCRIBE ack Header"; 1.0 lacks the last).
ACK_MODES: tuple[AckMode, ...] = ("auto", "client", "client-individual")


def _check_seconds(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf  # NaN fails too
    ):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _check_buffer(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def check_client_arguments(
    *,
    connect_timeout: float,
    disconnect_timeout: float,
    receipt_timeout: float,
    subscription_buffer: int,
    write_timeout: float = 30.0,
    subscription_buffer_bytes: int = 1,
    reconnect: ReconnectPolicy | None,
    on_unhandled: UnhandledHook | None,
) -> None:
    """Check the ``open_connection`` arguments both async drivers share (not ``ssl``,
    whose type lives in the ``ssl`` module the core never imports).

    Raises:
        ValueError: a timeout that is not a positive finite number of seconds, or a
            ``subscription_buffer`` or ``subscription_buffer_bytes`` that is not an
            int >= 1.
        TypeError: ``reconnect`` is not a :class:`ReconnectPolicy` (or ``None``), or
            ``on_unhandled`` is not callable (or ``None``).
    """
    _check_seconds("connect_timeout", connect_timeout)
    _check_seconds("disconnect_timeout", disconnect_timeout)
    _check_seconds("receipt_timeout", receipt_timeout)
    _check_seconds("write_timeout", write_timeout)
    _check_buffer("subscription_buffer", subscription_buffer)
    _check_buffer("subscription_buffer_bytes", subscription_buffer_bytes)
    if reconnect is not None and not isinstance(reconnect, ReconnectPolicy):
        raise TypeError(f"reconnect must be a ReconnectPolicy or None, got {reconnect!r}")
    if on_unhandled is not None and not callable(on_unhandled):
        raise TypeError(f"on_unhandled must be callable or None, got {on_unhandled!r}")


def check_subscribe_arguments(ack: str, buffer: int | None) -> None:
    """Check ``subscribe(ack=..., buffer=...)`` before anything is sent.

    Raises:
        ValueError: an unknown ack mode, or a ``buffer`` that is not an int >= 1.
    """
    if ack not in ACK_MODES:
        raise ValueError(f"ack must be one of {', '.join(ACK_MODES)}, got {ack!r}")
    if buffer is not None:
        _check_buffer("buffer", buffer)
