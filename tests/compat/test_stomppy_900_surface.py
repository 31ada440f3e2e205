"""stomp.py 9.0.0's public surface, pinned: names, signatures, class hierarchy, listeners.

The data below was recorded from stomp.py 9.0.0's source (``pip install stomp.py==9.0.0``
in a throwaway virtual environment, then its modules read and introspected); this test
never imports stomp.py.  What it holds:

* ``OWN_NAMES``: the names each public module of stomp.py defines itself (functions,
  classes and assignments at module level, including those in ``try``/``if`` blocks;
  re-exports through ``from ... import *`` are left out).
* ``FUNCTIONS`` and ``CLASSES``: parameters, written ``name`` (positional), ``name=``
  (with a default), ``*args``, ``**kwargs``.  A stomp.py call must stay valid: see
  :func:`_accepts` for the rule.
* ``CLASSES`` also holds each class's stomp.py bases, in method resolution order: the
  subclass relation between any two of these classes must be stomp.py's (with the two
  documented exceptions of ``HIERARCHY_EXCEPTIONS``).
* ``INSTANCE_ATTRIBUTES``: what a freshly built connection (and its ``transport``) has.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

import stomp
from stomp.listener import ConnectionListener, HeartbeatListener

#: The names each stomp.py module defines (see the module docstring).
OWN_NAMES: dict[str, tuple[str, ...]] = {
    "stomp": (
        "Connection",
        "Connection10",
        "Connection11",
        "Connection12",
        "ConnectionListener",
        "PrintingListener",
        "StatsListener",
        "StompConnection10",
        "StompConnection11",
        "StompConnection12",
        "WSConnection",
        "WSStompConnection",
        "WaitingListener",
        "__version__",
        "adapter",
        "connect",
        "listener",
        "log",
        "tuple_version",
    ),
    "stomp.__main__": (
        "StompCLI",
        "SubscriptionInfo",
        "do_nothing_loop",
        "heartbeat_pattern",
        "main",
    ),
    "stomp.adapter": (
        "multicast",
        "ws",
    ),
    "stomp.adapter.multicast": (
        "MCAST_GRP",
        "MCAST_PORT",
        "MulticastConnection",
        "MulticastTransport",
    ),
    "stomp.adapter.ws": (
        "DEFAULT_SSL_VERSION",
        "LINUX_KEEPALIVE_AVAIL",
        "MAC_KEEPALIVE_AVAIL",
        "SSLError",
        "WSStompConnection",
        "WSTransport",
        "ssl",
    ),
    "stomp.colours": (
        "BOLD",
        "GREEN",
        "NO_COLOUR",
        "RED",
    ),
    "stomp.connect": (
        "BaseConnection",
        "StompConnection10",
        "StompConnection11",
        "StompConnection12",
    ),
    "stomp.constants": (
        "CMD_ABORT",
        "CMD_ACK",
        "CMD_BEGIN",
        "CMD_COMMIT",
        "CMD_CONNECT",
        "CMD_DISCONNECT",
        "CMD_NACK",
        "CMD_SEND",
        "CMD_STOMP",
        "CMD_SUBSCRIBE",
        "CMD_UNSUBSCRIBE",
        "HDR_ACCEPT_VERSION",
        "HDR_ACK",
        "HDR_CONTENT_LENGTH",
        "HDR_CONTENT_TYPE",
        "HDR_DESTINATION",
        "HDR_HEARTBEAT",
        "HDR_HOST",
        "HDR_ID",
        "HDR_LOGIN",
        "HDR_MESSAGE_ID",
        "HDR_PASSCODE",
        "HDR_RECEIPT",
        "HDR_SUBSCRIPTION",
        "HDR_TRANSACTION",
    ),
    "stomp.exception": (
        "ConnectFailedException",
        "ConnectionClosedException",
        "InterruptedException",
        "NotConnectedException",
        "StompException",
    ),
    "stomp.listener": (
        "ConnectionListener",
        "HeartbeatListener",
        "PrintingListener",
        "Publisher",
        "StatsListener",
        "TestListener",
        "WaitingListener",
        "exception",
        "utils",
    ),
    "stomp.log": (
        "DEBUG",
        "INFO",
        "debug",
        "error",
        "info",
        "isEnabledFor",
        "log_to_stdout",
        "setLevel",
        "verbose",
        "warning",
    ),
    "stomp.protocol": (
        "Protocol10",
        "Protocol11",
        "Protocol12",
    ),
    "stomp.transport": (
        "BaseTransport",
        "DEFAULT_SSL_VERSION",
        "LINUX_KEEPALIVE_AVAIL",
        "MAC_KEEPALIVE_AVAIL",
        "SSLError",
        "Transport",
        "exception",
        "ssl",
    ),
    "stomp.utils": (
        "ENC_NEWLINE",
        "ENC_NULL",
        "Frame",
        "HEADER_LINE_RE",
        "HEARTBEAT_FRAME",
        "LINE_END_RE",
        "LOCALHOST_NAMES",
        "NULL",
        "PASSCODE_RE",
        "PREAMBLE_END_RE",
        "PollableQueue",
        "calculate_heartbeats",
        "clean_headers",
        "clean_lines",
        "convert_frame",
        "decode",
        "default_create_thread",
        "encode",
        "get_errno",
        "get_uuid",
        "is_eol_default",
        "is_localhost",
        "join",
        "length",
        "merge_headers",
        "pack",
        "parse_frame",
        "parse_headers",
    ),
}

#: Module-level functions: their parameters after stomp.py's signature (see _accepts).
FUNCTIONS: dict[str, str] = {
    "stomp.__main__.do_nothing_loop": "",
    "stomp.__main__.main": "",
    "stomp.log.log_to_stdout": "verbose_logging=",
    "stomp.tuple_version": "",
    "stomp.utils.calculate_heartbeats": "shb, chb",
    "stomp.utils.clean_headers": "headers",
    "stomp.utils.clean_lines": "lines",
    "stomp.utils.convert_frame": "frame",
    "stomp.utils.decode": "byte_data, encoding=",
    "stomp.utils.default_create_thread": "callback",
    "stomp.utils.encode": "char_data, encoding=",
    "stomp.utils.get_errno": "e",
    "stomp.utils.get_uuid": "",
    "stomp.utils.is_eol_default": "c",
    "stomp.utils.is_localhost": "host_and_port",
    "stomp.utils.join": "chars=",
    "stomp.utils.length": "s",
    "stomp.utils.merge_headers": "header_map_list",
    "stomp.utils.pack": "pieces=",
    "stomp.utils.parse_frame": "frame",
    "stomp.utils.parse_headers": "lines, offset=",
}

#: Each class: its stomp.py base classes (method resolution order) and the methods its own
#: body defines, with their parameters (``self`` left out).
CLASSES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "stomp.__main__.StompCLI": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": (
                "host=, port=, user=, passcode=, ver=, prompt=, verbose=, heartbeats=, "
                "use_ssl=, ssl_key_file=, ssl_cert_file=, ssl_ca_file=, ssl_insecure=, "
                "stdin=, stdout="
            ),
            "check_ack_nack": "acknackfunc, args",
            "complete_send": "text, line",
            "complete_sendfile": "text, line",
            "complete_sendrec": "text, line",
            "complete_sendreply": "text, line",
            "complete_unsubscribe": "text, line",
            "default": "line",
            "do_EOF": "args",
            "do_abort": "args",
            "do_ack": "args",
            "do_begin": "args",
            "do_commit": "args",
            "do_exit": "args",
            "do_nack": "args",
            "do_quit": "args",
            "do_rollback": "args",
            "do_run": "args",
            "do_send": "args",
            "do_sendfile": "args",
            "do_sendrec": "args",
            "do_sendreply": "args",
            "do_stats": "args",
            "do_subscribe": "args",
            "do_unsubscribe": "args",
            "do_ver": "args",
            "do_version": "args",
            "emptyline": "",
            "help": "usage, description, required=, optional=",
            "help_EOF": "",
            "help_abort": "",
            "help_ack": "",
            "help_begin": "",
            "help_commit": "",
            "help_exit": "",
            "help_help": "",
            "help_nack": "",
            "help_quit": "",
            "help_rollback": "",
            "help_run": "",
            "help_send": "",
            "help_sendfile": "",
            "help_sendrec": "",
            "help_sendreply": "",
            "help_stats": "",
            "help_subscribe": "",
            "help_unsubscribe": "",
            "help_ver": "",
            "help_version": "",
            "on_connected": "frame",
            "on_connecting": "host_and_port",
            "on_disconnected": "",
            "on_error": "frame",
            "on_message": "frame",
            "on_receipt": "frame",
            "on_send": "frame",
        },
    ),
    "stomp.__main__.SubscriptionInfo": (
        (),
        {
            "__init__": "id, ack",
        },
    ),
    "stomp.adapter.multicast.MulticastConnection": (
        (
            "stomp.connect.BaseConnection",
            "stomp.listener.Publisher",
            "stomp.protocol.Protocol12",
            "stomp.protocol.Protocol11",
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": "encoding=",
            "connect": "username=, passcode=, wait=, headers=, **keyword_headers",
            "disconnect": "receipt=, headers=, **keyword_headers",
            "send_frame": "cmd, headers=, body=",
            "subscribe": "destination, id, ack=, headers=, **keyword_headers",
            "unsubscribe": "id, headers=, **keyword_headers",
        },
    ),
    "stomp.adapter.multicast.MulticastTransport": (
        (
            "stomp.transport.Transport",
            "stomp.transport.BaseTransport",
            "stomp.listener.Publisher",
        ),
        {
            "__init__": "encoding",
            "attempt_connection": "",
            "process_frame": "f, frame_str",
            "receive": "",
            "send": "encoded_frame",
            "stop": "",
        },
    ),
    "stomp.adapter.ws.WSStompConnection": (
        (
            "stomp.connect.StompConnection12",
            "stomp.connect.BaseConnection",
            "stomp.listener.Publisher",
            "stomp.protocol.Protocol12",
            "stomp.protocol.Protocol11",
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, heartbeats=, keepalive=, vhost=, auto_decode=, encoding=, "
                "auto_content_length=, heart_beat_receive_scale=, bind_host_port=, ws=, "
                "ws_path=, header=, binary_mode="
            ),
        },
    ),
    "stomp.adapter.ws.WSTransport": (
        (
            "stomp.transport.BaseTransport",
            "stomp.listener.Publisher",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, keepalive=, vhost=, auto_decode=, encoding=, recv_bytes=, "
                "is_eol_fc=, bind_host_port=, ws_path=, header=, binary_mode="
            ),
            "attempt_connection": "",
            "cleanup": "",
            "disconnect_socket": "",
            "get_ssl": "host_and_port=",
            "is_connected": "",
            "receive": "",
            "send": "encoded_frame",
            "set_ssl": (
                "for_hosts=, key_file=, cert_file=, ca_certs=, cert_validator=, "
                "ssl_version=, password="
            ),
        },
    ),
    "stomp.connect.BaseConnection": (
        ("stomp.listener.Publisher",),
        {
            "__enter__": "",
            "__exit__": "exc_type, exc_val, exc_tb",
            "__init__": "transport",
            "disconnect": "receipt=, headers=, **keyword_headers",
            "get_listener": "name",
            "get_ssl": "host_and_port=",
            "is_connected": "",
            "remove_listener": "name",
            "set_listener": "name, listener",
            "set_receipt": "receipt_id, value",
            "set_ssl": "*args, **kwargs",
        },
    ),
    "stomp.connect.StompConnection10": (
        (
            "stomp.connect.BaseConnection",
            "stomp.listener.Publisher",
            "stomp.protocol.Protocol10",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, keepalive=, auto_decode=, encoding=, auto_content_length=, "
                "bind_host_port="
            ),
            "connect": "*args, **kwargs",
            "disconnect": "receipt=, headers=, **keyword_headers",
        },
    ),
    "stomp.connect.StompConnection11": (
        (
            "stomp.connect.BaseConnection",
            "stomp.listener.Publisher",
            "stomp.protocol.Protocol11",
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, heartbeats=, keepalive=, vhost=, auto_decode=, encoding=, "
                "auto_content_length=, heart_beat_receive_scale=, bind_host_port="
            ),
            "connect": "*args, **kwargs",
            "disconnect": "receipt=, headers=, **keyword_headers",
        },
    ),
    "stomp.connect.StompConnection12": (
        (
            "stomp.connect.BaseConnection",
            "stomp.listener.Publisher",
            "stomp.protocol.Protocol12",
            "stomp.protocol.Protocol11",
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, heartbeats=, keepalive=, vhost=, auto_decode=, encoding=, "
                "auto_content_length=, heart_beat_receive_scale=, bind_host_port="
            ),
            "connect": "*args, **kwargs",
            "disconnect": "receipt=, headers=, **keyword_headers",
            "is_eol": "c",
        },
    ),
    "stomp.exception.ConnectFailedException": (
        ("stomp.exception.StompException",),
        {},
    ),
    "stomp.exception.ConnectionClosedException": (
        ("stomp.exception.StompException",),
        {},
    ),
    "stomp.exception.InterruptedException": (
        ("stomp.exception.StompException",),
        {},
    ),
    "stomp.exception.NotConnectedException": (
        ("stomp.exception.StompException",),
        {},
    ),
    "stomp.exception.StompException": (
        (),
        {},
    ),
    "stomp.listener.ConnectionListener": (
        (),
        {
            "on_before_message": "frame",
            "on_connected": "frame",
            "on_connecting": "host_and_port",
            "on_disconnected": "",
            "on_disconnecting": "",
            "on_error": "frame",
            "on_heartbeat": "",
            "on_heartbeat_timeout": "",
            "on_message": "frame",
            "on_receipt": "frame",
            "on_receiver_loop_completed": "frame",
            "on_send": "frame",
        },
    ),
    "stomp.listener.HeartbeatListener": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": "transport, heartbeats, heart_beat_receive_scale=",
            "on_connected": "frame",
            "on_disconnected": "",
            "on_disconnecting": "",
            "on_error": "*_",
            "on_heartbeat": "",
            "on_message": "frame",
            "on_receipt": "*_",
            "on_send": "frame",
        },
    ),
    "stomp.listener.PrintingListener": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": "print_to_log=",
            "on_before_message": "frame",
            "on_connected": "frame",
            "on_connecting": "host_and_port",
            "on_disconnected": "",
            "on_error": "frame",
            "on_heartbeat": "",
            "on_heartbeat_timeout": "",
            "on_message": "frame",
            "on_receipt": "frame",
            "on_send": "frame",
        },
    ),
    "stomp.listener.Publisher": (
        (),
        {
            "get_listener": "name",
            "remove_listener": "name",
            "set_listener": "name, listener",
        },
    ),
    "stomp.listener.StatsListener": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": "",
            "on_connecting": "host_and_port",
            "on_disconnected": "",
            "on_error": "frame",
            "on_heartbeat": "",
            "on_heartbeat_timeout": "",
            "on_message": "frame",
            "on_send": "frame",
        },
    ),
    "stomp.listener.TestListener": (
        (
            "stomp.listener.StatsListener",
            "stomp.listener.WaitingListener",
            "stomp.listener.PrintingListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": "receipt=, print_to_log=",
            "get_latest_message": "",
            "on_before_message": "frame",
            "on_connected": "frame",
            "on_connecting": "host_and_port",
            "on_disconnected": "",
            "on_error": "frame",
            "on_heartbeat": "",
            "on_heartbeat_timeout": "",
            "on_message": "frame",
            "on_receipt": "frame",
            "on_receiver_loop_completed": "frame",
            "on_send": "frame",
            "wait_for_heartbeat": "",
            "wait_for_message": "",
        },
    ),
    "stomp.listener.WaitingListener": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": "receipt",
            "on_disconnected": "",
            "on_receipt": "frame",
            "wait_on_disconnected": "",
            "wait_on_receipt": "",
        },
    ),
    "stomp.protocol.Protocol10": (
        ("stomp.listener.ConnectionListener",),
        {
            "__init__": "transport, auto_content_length=",
            "abort": "transaction, headers=, **keyword_headers",
            "ack": "id, transaction=, receipt=",
            "begin": "transaction=, headers=, **keyword_headers",
            "commit": "transaction=, headers=, **keyword_headers",
            "connect": "username=, passcode=, wait=, headers=, **keyword_headers",
            "disconnect": "receipt=, headers=, **keyword_headers",
            "send": "destination, body, content_type=, headers=, **keyword_headers",
            "send_frame": "cmd, headers=, body=",
            "subscribe": "destination, id=, ack=, headers=, **keyword_headers",
            "unsubscribe": "destination=, id=, headers=, **keyword_headers",
        },
    ),
    "stomp.protocol.Protocol11": (
        (
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": "transport, heartbeats=, auto_content_length=, heart_beat_receive_scale=",
            "abort": "transaction, headers=, **keyword_headers",
            "ack": "id, subscription, transaction=, receipt=",
            "begin": "transaction=, headers=, **keyword_headers",
            "commit": "transaction=, headers=, **keyword_headers",
            "connect": (
                "username=, passcode=, wait=, headers=, with_connect_command=, **keyword_headers"
            ),
            "disconnect": "receipt=, headers=, **keyword_headers",
            "nack": "id, subscription, transaction=, receipt=, **keyword_headers",
            "send": "destination, body, content_type=, headers=, **keyword_headers",
            "send_frame": "cmd, headers=, body=",
            "subscribe": "destination, id, ack=, headers=, **keyword_headers",
            "unsubscribe": "id, headers=, **keyword_headers",
        },
    ),
    "stomp.protocol.Protocol12": (
        (
            "stomp.protocol.Protocol11",
            "stomp.listener.HeartbeatListener",
            "stomp.listener.ConnectionListener",
        ),
        {
            "__init__": "transport, heartbeats=, auto_content_length=, heart_beat_receive_scale=",
            "ack": "id, transaction=, receipt=",
            "connect": (
                "username=, passcode=, wait=, headers=, with_connect_command=, **keyword_headers"
            ),
            "nack": "id, transaction=, receipt=, **keyword_headers",
        },
    ),
    "stomp.transport.BaseTransport": (
        ("stomp.listener.Publisher",),
        {
            "__init__": "auto_decode=, encoding=, is_eol_fc=",
            "attempt_connection": "",
            "cleanup": "",
            "disconnect_socket": "",
            "get_listener": "name",
            "is_connected": "",
            "notify": "frame_type, frame=",
            "override_threading": "create_thread_fc",
            "process_frame": "f, frame_str",
            "receive": "",
            "remove_listener": "name",
            "send": "encoded_frame",
            "set_connected": "connected",
            "set_listener": "name, listener",
            "set_receipt": "receipt_id, value",
            "start": "",
            "stop": "",
            "transmit": "frame",
            "wait_for_connection": "timeout=",
        },
    ),
    "stomp.transport.Transport": (
        (
            "stomp.transport.BaseTransport",
            "stomp.listener.Publisher",
        ),
        {
            "__init__": (
                "host_and_ports=, prefer_localhost=, try_loopback_connect=, "
                "reconnect_sleep_initial=, reconnect_sleep_increase=, "
                "reconnect_sleep_jitter=, reconnect_sleep_max=, reconnect_attempts_max=, "
                "timeout=, keepalive=, vhost=, auto_decode=, encoding=, recv_bytes=, "
                "is_eol_fc=, bind_host_port="
            ),
            "attempt_connection": "",
            "cleanup": "",
            "disconnect_socket": "",
            "get_ssl": "host_and_port=",
            "is_connected": "",
            "receive": "",
            "send": "encoded_frame",
            "set_ssl": (
                "for_hosts=, key_file=, cert_file=, ca_certs=, cert_validator=, "
                "ssl_version=, password=, verify="
            ),
            "shutdown_queue": "",
        },
    ),
    "stomp.utils.Frame": (
        (),
        {
            "__init__": "cmd, headers=, body=",
        },
    ),
    "stomp.utils.PollableQueue": (
        (),
        {
            "__init__": "",
            "fileno": "",
            "get": "",
            "put": "item",
            "shutdown": "",
        },
    ),
}

#: Subclass relations that differ from stomp.py's on purpose: our WebSocket transport is a
#: ``Transport`` (the same TCP/TLS code under a WebSocket layer; stomp.py's wrapped
#: websocket-client in a separate ``BaseTransport``), and our multicast classes are small
#: classes of their own (stomp.py's derived them from ``Transport`` and ``Protocol12``
#: and overrode nearly everything; ours is a ``ConnectionListener`` like stomp.py's).
HIERARCHY_EXCEPTIONS = {
    ("stomp.adapter.ws.WSTransport", "stomp.transport.Transport"),
    ("stomp.adapter.multicast.MulticastTransport", "stomp.transport.Transport"),
    ("stomp.adapter.multicast.MulticastConnection", "stomp.protocol.Protocol12"),
    ("stomp.adapter.multicast.MulticastConnection", "stomp.protocol.Protocol11"),
    ("stomp.adapter.multicast.MulticastConnection", "stomp.listener.HeartbeatListener"),
}

_CONNECTION = ("auto_content_length", "transport", "version")
_HEARTBEATING = (
    *_CONNECTION,
    "disconnecting",
    "heart_beat_receive_scale",
    "heartbeat_terminate_event",
    "heartbeat_thread",
    "heartbeats",
    "next_outbound_heartbeat",
    "received_heartbeat",
    "running",
)
_TRANSPORT = (
    "bind_host_port",
    "blocking",
    "connected",
    "connection_error",
    "create_thread_fc",
    "current_host_and_port",
    "disconnecting",
    "io_thread",
    "listeners",
    "notified_on_disconnect",
    "running",
    "sel",
    "send_queue",
    "socket",
    "vhost",
    # Private in stomp.py, but code (and stomp.py's own tests) reads the TLS settings here.
    "_Transport__ssl_params",
)
#: Instance attributes of a connection built with ``[("127.0.0.1", 1)]`` (not connected),
#: then of its ``transport``.
INSTANCE_ATTRIBUTES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stomp.connect.StompConnection10": (_CONNECTION, _TRANSPORT),
    "stomp.connect.StompConnection11": (_HEARTBEATING, _TRANSPORT),
    "stomp.connect.StompConnection12": (_HEARTBEATING, _TRANSPORT),
    "stomp.adapter.ws.WSStompConnection": (_HEARTBEATING, (*_TRANSPORT, "header", "ws_path")),
}


def _resolve(qualified: str) -> Any:
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _their_params(spec: str) -> list[tuple[str, str, bool]]:
    """``[(kind, name, has_default)]`` with kind ``pos``, ``kw``, ``*`` or ``**``."""
    params = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        if item.startswith("**"):
            params.append(("**", item[2:], False))
        elif item.startswith("*"):
            params.append(("*", item[1:], False))
        elif item.startswith(":"):
            params.append(("kw", item[1:].rstrip("="), item.endswith("=")))
        else:
            params.append(("pos", item.rstrip("="), item.endswith("=")))
    return params


def _accepts(ours: Callable[..., Any], spec: str, *, bound: bool) -> str | None:
    """Why a call valid for stomp.py's ``spec`` could fail on ``ours`` (``None``: it cannot).

    The rule: each of stomp.py's positional parameters is ours at the same position and
    under the same name (so calls by position and by keyword both work), optional where
    stomp.py's is; stomp.py's ``*args``/``**kwargs``/keyword-only ones are accepted too;
    any parameter we add is optional.  stomp.py's bare ``(*args, **kwargs)`` forwarders
    (``connect``, ``set_ssl`` on the connections) check nothing.
    """
    theirs = _their_params(spec)
    if [kind for kind, _name, _default in theirs] == ["*", "**"]:
        return None
    params = list(inspect.signature(ours).parameters.values())
    if bound and params:
        params = params[1:]  # self
    P = inspect.Parameter
    positional = [p for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    var_pos = any(p.kind is P.VAR_POSITIONAL for p in params)
    var_kw = any(p.kind is P.VAR_KEYWORD for p in params)
    by_name = {p.name: p for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}
    used = set()
    index = 0
    for kind, name, has_default in theirs:
        if kind == "pos":
            if index < len(positional):
                ours_param = positional[index]
                if ours_param.name != name:
                    return f"parameter {index + 1} is {ours_param.name!r}, stomp.py's is {name!r}"
                if has_default and ours_param.default is P.empty:
                    return f"{name!r} is optional in stomp.py"
                used.add(ours_param.name)
            elif not (var_pos and var_kw):
                return f"no parameter {name!r}"
            index += 1
        elif kind == "kw":
            if name in by_name:
                used.add(name)
                if has_default and by_name[name].default is P.empty:
                    return f"{name!r} is optional in stomp.py"
            elif not var_kw:
                return f"no keyword parameter {name!r}"
        elif kind == "*" and not var_pos:
            return "stomp.py takes any positional arguments (*args)"
        elif kind == "**" and not var_kw:
            return "stomp.py takes any keyword arguments (**kwargs)"
    for p in params:
        required = p.default is P.empty and p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)
        if required and p.name not in used:
            return f"{p.name!r} is required here, stomp.py has no such parameter"
    return None


def _effective_methods(qualified: str) -> dict[str, str]:
    """Every method of a class as stomp.py resolves it (the first class defining it wins)."""
    bases, _ = CLASSES[qualified]
    methods: dict[str, str] = {}
    for owner in (qualified, *bases):
        if owner in CLASSES:
            for name, spec in CLASSES[owner][1].items():
                methods.setdefault(name, spec)
    return methods


@pytest.mark.parametrize("module", sorted(OWN_NAMES))
def test_every_name_of_stomp_py_exists(module: str) -> None:
    found = importlib.import_module(module)
    missing = [name for name in OWN_NAMES[module] if not hasattr(found, name)]
    assert missing == [], f"{module} lacks {missing}"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_signatures_accept_stomp_py_calls(function: str) -> None:
    problem = _accepts(_resolve(function), FUNCTIONS[function], bound=False)
    assert problem is None, f"{function}: {problem}"


@pytest.mark.parametrize("qualified", sorted(CLASSES))
def test_method_signatures_accept_stomp_py_calls(qualified: str) -> None:
    cls = _resolve(qualified)
    problems = []
    for name, spec in sorted(_effective_methods(qualified).items()):
        method = getattr(cls, name, None)
        if method is None:
            problems.append(f"{name}: missing")
            continue
        bound = not isinstance(inspect.getattr_static(cls, name), staticmethod)
        problem = _accepts(method, spec, bound=bound)
        if problem is not None:
            problems.append(f"{name}: {problem}")
    assert problems == [], f"{qualified}: {problems}"


def test_the_class_hierarchy_is_stomp_py_s() -> None:
    differences = []
    for name, (bases, _) in CLASSES.items():
        for other in CLASSES:
            if other == name or (name, other) in HIERARCHY_EXCEPTIONS:
                continue
            expected = other in bases
            if issubclass(_resolve(name), _resolve(other)) != expected:
                differences.append(f"{name} {'should' if expected else 'must not'} be a {other}")
    assert differences == []
    # The case users meet first: a 1.2 connection is not a 1.1 connection.
    conn = stomp.Connection12([("127.0.0.1", 1)])
    assert not isinstance(conn, stomp.Connection11)
    assert not isinstance(stomp.Connection11([("127.0.0.1", 1)]), stomp.Connection10)


@pytest.mark.parametrize(
    ("cls", "heartbeating"),
    [
        (stomp.Connection10, False),
        (stomp.Connection11, True),
        (stomp.Connection12, True),
        (stomp.WSConnection, True),
    ],
)
def test_connections_are_their_own_protocol_listener(cls: type[Any], heartbeating: bool) -> None:
    conn = cls([("127.0.0.1", 1)])
    assert isinstance(conn, ConnectionListener)
    assert isinstance(conn, HeartbeatListener) is heartbeating
    assert conn.get_listener("protocol-listener") is conn
    assert conn.transport.listeners == {"protocol-listener": conn}


@pytest.mark.parametrize("qualified", sorted(INSTANCE_ATTRIBUTES))
def test_instance_attributes_of_connections_and_transports(qualified: str) -> None:
    conn = _resolve(qualified)([("127.0.0.1", 1)])
    own, transport = INSTANCE_ATTRIBUTES[qualified]
    assert [name for name in own if not hasattr(conn, name)] == []
    assert [name for name in transport if not hasattr(conn.transport, name)] == []


def test_star_import_works_without_the_websocket_extra() -> None:
    # A fresh interpreter in which wsproto cannot be imported.
    code = (
        "import sys; sys.modules['wsproto'] = None\n"
        "from stomp import *\n"
        "assert WSConnection.__name__ == 'WSStompConnection'\n"
        "try:\n"
        "    WSConnection([('127.0.0.1', 1)])\n"
        "except ImportError as exc:\n"
        "    assert 'wsproto' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('a WebSocket connection without wsproto')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
