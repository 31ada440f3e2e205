"""stomp.utils: stomp.py's helpers, with its behaviour (and without its bugs)."""

from __future__ import annotations

import importlib
import os
import threading

import pytest

import stomp.utils as utils
from stomp import constants
from stomp.utils import Frame


def test_star_import_gives_what_stomppy_tests_use() -> None:
    namespace: dict[str, object] = {}
    exec("from stomp.utils import *", namespace)
    for name in ("re", "socket", "threading", "uuid", "os", "copy", "encode", "get_uuid", "Frame"):
        assert name in namespace, name
    for name in constants.__all__:
        assert namespace[name] == getattr(constants, name)
    for name in utils.__all__:
        assert hasattr(utils, name), name


def test_is_localhost() -> None:
    assert utils.is_localhost(("localhost", 8000)) == 1
    assert utils.is_localhost(("127.0.0.1", 8000)) == 1
    assert utils.is_localhost(("192.0.2.1", 8000)) == 2


def test_hostname_scan_can_be_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "1")
    try:
        importlib.reload(utils)
        assert utils.LOCALHOST_NAMES == ["localhost", "127.0.0.1"]
    finally:
        monkeypatch.delenv("STOMP_SKIP_HOSTNAME_SCAN")
        importlib.reload(utils)
    assert utils.LOCALHOST_NAMES[:2] == ["localhost", "127.0.0.1"]


def test_convert_frame_exact_bytes() -> None:
    frame = Frame("SEND", {"destination": "/q", "b": "2", "a": None, "content-length": 3}, "é")
    assert utils.pack(utils.convert_frame(frame)) == (
        b"SEND\nb:2\ncontent-length:2\ndestination:/q\n\n\xc3\xa9\x00"
    )
    # The caller's frame is not rewritten (stomp.py mutated content-length in place).
    assert frame.headers["content-length"] == 3


def test_convert_frame_tuple_values_heartbeat_and_spaces() -> None:
    frame = Frame("SEND", {"x": ("1", "2"), "y": " spaced "}, b"")
    assert utils.pack(utils.convert_frame(frame)) == b"SEND\nx:1\nx:2\ny: spaced \n\n\x00"
    assert utils.pack(utils.convert_frame(Frame(None))) == b"\n"


def test_convert_frame_encoding() -> None:
    frame = Frame("SEND", {"content-length": 0}, "hé")
    data = utils.pack(utils.convert_frame(frame, encoding="utf-16-le"))
    assert data == b"SEND\ncontent-length:4\n\nh\x00\xe9\x00\x00"


def test_parse_headers() -> None:
    lines = ["a:1", "a:2", "b:x\\cy\\nz\\\\w\\rv", "no colon", "c: spaced ", "d:\\t", "e\\c:1"]
    assert utils.parse_headers(lines) == {
        "a": "1",
        "b": "x:y\nz\\w\rv",
        "c": " spaced ",
        "d": "\\t",
        "e:": "1",
    }
    assert utils.parse_headers(["X", "a:1"], offset=1) == {"a": "1"}


def test_unescape_is_one_pass() -> None:
    # "\\\\n" is an escaped backslash followed by "n", not a backslash and a newline.
    assert utils.parse_headers(["k:\\\\n"]) == {"k": "\\n"}


def test_parse_frame() -> None:
    frame = utils.parse_frame(b"\n\nMESSAGE\r\ndestination:/q\r\n\r\nbody\x00x")
    assert frame is not None
    assert frame.cmd == "MESSAGE"
    assert frame.headers == {"destination": "/q"}
    assert frame.body == b"body\x00x"
    no_body = utils.parse_frame(b"RECEIPT\nreceipt-id:1")
    assert no_body is not None
    assert no_body.headers == {"receipt-id": "1"}
    assert no_body.body == b""
    no_headers = utils.parse_frame(b"CONNECTED\n\n")
    assert no_headers is not None
    assert (no_headers.cmd, no_headers.headers) == ("CONNECTED", {})
    assert utils.parse_frame(b"\n") is utils.HEARTBEAT_FRAME
    assert utils.parse_frame(b"\r\n") is utils.HEARTBEAT_FRAME
    assert utils.parse_frame(b"") is None


def test_frame_defaults_are_not_shared_and_original_headers_kept() -> None:
    a, b = Frame("SEND"), Frame("SEND")
    a.headers["x"] = "1"
    assert b.headers == {}
    c = Frame("MESSAGE", {"k": "v"}, "b")
    c.headers["k"] = "changed"
    assert c.original_headers == {"k": "v"}
    assert str(c) == "{cmd=MESSAGE,headers=[{'k': 'changed'}],body=b}"


def test_frame_str_masks_passcode() -> None:
    frame = Frame("CONNECT", {"login": "u", "passcode": "s3cret"})
    assert "s3cret" not in str(frame)
    assert "s3cret" not in repr(frame)


def test_encode_decode_pack_join() -> None:
    assert utils.encode("é") == b"\xc3\xa9"
    assert utils.encode(b"\xff") == b"\xff"
    assert utils.encode("é", "latin-1") == b"\xe9"
    with pytest.raises(TypeError):
        utils.encode(1)  # type: ignore[arg-type]
    assert utils.decode(None) is None
    assert utils.decode(b"\xc3\xa9") == "é"
    assert utils.decode(b"\xff") == "\ufffd"
    assert utils.decode(b"\xe9", "latin-1") == "é"
    assert utils.pack([b"a", b"b"]) == b"ab"
    assert utils.pack() == b""
    assert utils.join([b"a", b"\xc3\xa9"]) == "aé"


def test_merge_and_clean_headers() -> None:
    assert utils.merge_headers([{"a": 1}, None, {"a": 2, "b": 3}]) == {"a": 2, "b": 3}
    headers = {"login": "u", "passcode": "p"}
    cleaned = utils.clean_headers(headers)
    assert cleaned == {"login": "u", "passcode": "********"}
    assert headers["passcode"] == "p"
    plain = {"a": "1"}
    assert utils.clean_headers(plain) is plain


def test_clean_lines_masks_with_and_without_space() -> None:
    assert "secret" not in utils.clean_lines("CONNECT\npasscode:secret\n\n")
    assert utils.clean_lines(["a", "passcode: secret", "b"]) == "['a', 'passcode:********', 'b']"
    assert "secret" not in utils.clean_lines([b"CONNECT\npasscode:secret\nlogin:x\n"])
    assert "login:x" in utils.clean_lines([b"CONNECT\npasscode:secret\nlogin:x\n"])


def test_calculate_heartbeats() -> None:
    assert utils.calculate_heartbeats(("0", "0"), (0, 0)) == (0, 0)
    assert utils.calculate_heartbeats(("1000", "2000"), (500, 300)) == (2000, 1000)
    assert utils.calculate_heartbeats(("1000", "0"), (500, 300)) == (0, 1000)
    assert utils.calculate_heartbeats(("0", "2000"), (500, 300)) == (2000, 0)
    assert utils.calculate_heartbeats((100, 100), (0, 300)) == (0, 300)
    assert utils.calculate_heartbeats(map(str, (5000, 3000)), (3000, 5000)) == (3000, 5000)


def test_small_helpers() -> None:
    assert utils.length(None) == 0
    assert utils.length("abc") == 3
    assert len(utils.get_uuid()) == 36
    assert utils.get_uuid() != utils.get_uuid()
    assert utils.get_errno(OSError(5, "x")) == 5
    assert utils.get_errno(Exception(7)) == 7
    assert utils.get_errno(Exception()) is None
    assert utils.is_eol_default(b"\n")
    assert not utils.is_eol_default(b"\r\n")


def test_default_create_thread() -> None:
    done = threading.Event()
    thread = utils.default_create_thread(done.set)
    assert thread.daemon
    assert done.wait(5)
    thread.join(5)
    assert not thread.is_alive()


def test_regexes() -> None:
    assert utils.PREAMBLE_END_RE.search(b"a\r\n\r\nb") is not None
    assert utils.LINE_END_RE.split("a\r\nb\nc") == ["a", "b", "c"]
    match = utils.HEADER_LINE_RE.match("k:v:w")
    assert match is not None
    assert (match.group("key"), match.group("value")) == ("k", "v:w")
    assert utils.NULL == utils.ENC_NULL == b"\x00"
    assert utils.ENC_NEWLINE == b"\n"
    assert os.environ is utils.os.environ
