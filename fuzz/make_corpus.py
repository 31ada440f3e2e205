"""Write the seed corpus of every harness into ``fuzz/corpus/``.

The seeds are hand-written wire bytes (not produced by the serializer under test), so a
serializer bug cannot silently shape the corpus.  Run from the repository root::

    python fuzz/make_corpus.py

It rewrites the ``seed-*`` files of ``fuzz/corpus/{parser,roundtrip,state}/``
deterministically; they are committed, and this script documents where each one comes
from.  The other files there are inputs merged in from long runs (README.md).

Input layouts (see each harness's docstring):

* parser: ``[mode][k][2k split bytes][stream]``; ``mode`` picks the version/limits set.
* roundtrip: a byte program read by ``fuzz/_cursor.py``.
* state: an action program read by ``fuzz/_cursor.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

# Parser modes (low three bits of the first byte; see fuzz_parser.py).
READER_10, READER_11, READER_12, READER_NONE = 0, 1, 2, 3
CONN_FRESH, CONN_10, CONN_11, CONN_12 = 4, 5, 6, 7
VERSION_MODES = {
    "1.0": (READER_10, CONN_10),
    "1.1": (READER_11, CONN_11),
    "1.2": (READER_12, CONN_12),
}


def frame(
    command: str, headers: list[tuple[str, str]], body: bytes = b"", eol: bytes = b"\n"
) -> bytes:
    """A frame written out by hand: command, raw header lines, blank line, body, NUL."""
    out = command.encode() + eol
    for name, value in headers:
        out += name.encode() + b":" + value.encode() + eol
    return out + eol + body + b"\x00"


def client_frames(version: str) -> dict[str, bytes]:
    """Every client frame of ``version``, valid on a connected session."""
    v10 = version == "1.0"
    sub_id = [] if v10 else [("id", "0")]
    ack_id = "message-id" if version != "1.2" else "id"
    ack_sub = [("subscription", "0")] if version == "1.1" else []
    # In session order, so that the whole stream is valid on a connected server.
    frames = {
        "subscribe": frame("SUBSCRIBE", [("destination", "/queue/a"), *sub_id, ("ack", "client")]),
        "subscribe-auto": frame("SUBSCRIBE", [("destination", "/queue/b"), ("id", "1")]),
        "begin": frame("BEGIN", [("transaction", "tx1")]),
        "send": frame("SEND", [("destination", "/queue/a"), ("content-length", "5")], b"hello"),
        "send-nul-body": frame(
            "SEND",
            [
                ("destination", "/queue/a"),
                ("content-type", "application/octet-stream"),
                ("content-length", "4"),
            ],
            b"a\x00b\x00",
        ),
        "send-uncounted": frame("SEND", [("destination", "/topic/t")], b"text body"),
        "send-tx-receipt": frame(
            "SEND", [("destination", "/queue/a"), ("transaction", "tx1"), ("receipt", "r1")]
        ),
        "ack": frame("ACK", [(ack_id, "m1"), *ack_sub]),
        "repeated-header": frame(
            "SEND", [("destination", "/queue/a"), ("x", "1"), ("x", "2"), ("destination", "/b")]
        ),
        "empty-value": frame("SEND", [("destination", "/queue/a"), ("empty", "")]),
    }
    if not v10:
        frames["nack"] = frame("NACK", [(ack_id, "m1"), *ack_sub, ("transaction", "tx1")])
        frames["escapes"] = frame(
            "SEND", [("destination", "/queue/a"), ("k\\cey", "a\\nb\\\\c\\cd")]
        )
        frames["utf8"] = frame(
            "SEND", [("destination", "/queue/\u00e9t\u00e9"), ("\u2603", "\u2764")]
        )
    if version == "1.2":
        frames["escape-cr"] = frame("SEND", [("destination", "/queue/a"), ("cr", "x\\ry")])
        frames["send-crlf"] = frame(
            "SEND", [("destination", "/queue/a"), ("content-length", "2")], b"\r\n", eol=b"\r\n"
        )
        frames["subscribe-crlf"] = frame(
            "SUBSCRIBE",
            [("destination", "/q"), ("id", "7"), ("ack", "client-individual")],
            eol=b"\r\n",
        )
    else:
        frames["trailing-cr-is-data"] = frame("SEND", [("destination", "/queue/a\r")])
    frames["commit"] = frame("COMMIT", [("transaction", "tx1"), ("receipt", "r2")])
    frames["begin-2"] = frame("BEGIN", [("transaction", "tx2")])
    frames["abort"] = frame("ABORT", [("transaction", "tx2")])
    frames["unsubscribe"] = frame("UNSUBSCRIBE", sub_id or [("destination", "/queue/a")])
    frames["disconnect"] = frame("DISCONNECT", [("receipt", "bye")])
    return frames


def server_frames(version: str) -> dict[str, bytes]:
    """Every server frame of ``version`` (CONNECTED excluded), valid on a connected session."""
    sub = [("subscription", "0")] if version != "1.0" else []
    ack = [("ack", "a1")] if version == "1.2" else []
    frames = {
        "message": frame(
            "MESSAGE",
            [
                ("destination", "/queue/a"),
                ("message-id", "m1"),
                *sub,
                *ack,
                ("content-length", "5"),
            ],
            b"hello",
        ),
        "message-nul-body": frame(
            "MESSAGE",
            [("destination", "/queue/a"), ("message-id", "m2"), *sub, ("content-length", "3")],
            b"\x00\x00\x00",
        ),
        "message-uncounted": frame(
            "MESSAGE", [("destination", "/topic/t"), ("message-id", "m3"), *sub], b"abc"
        ),
        "receipt": frame("RECEIPT", [("receipt-id", "r1")]),
        "error": frame(
            "ERROR",
            [("message", "bad"), ("content-type", "text/plain"), ("content-length", "4")],
            b"oops",
        ),
        "error-receipt": frame("ERROR", [("message", "no"), ("receipt-id", "r2")]),
    }
    if version != "1.0":
        frames["message-escapes"] = frame(
            "MESSAGE",
            [("destination", "/q\\c1"), ("message-id", "m\\n4"), *sub, ("x\\\\y", "z")],
        )
    if version == "1.2":
        frames["message-crlf"] = frame(
            "MESSAGE", [("destination", "/q"), ("message-id", "m5"), *sub, *ack], b"x", eol=b"\r\n"
        )
    # ERROR closes the session: last, so the whole stream is valid on a connected client.
    frames["error"] = frames.pop("error")
    frames["error-receipt"] = frames.pop("error-receipt")
    return frames


def connect_frames() -> dict[str, bytes]:
    """CONNECT/STOMP and CONNECTED in each version's dialect."""
    return {
        "connect-10": frame("CONNECT", [("login", "guest"), ("passcode", "a:b\\c")]),
        "connect-11": frame(
            "CONNECT", [("accept-version", "1.1"), ("host", "/"), ("heart-beat", "1000,1000")]
        ),
        "connect-12": frame(
            "STOMP", [("accept-version", "1.0,1.1,1.2"), ("host", "/"), ("heart-beat", "0,500")]
        ),
        "connect-12-crlf": frame(
            "CONNECT", [("accept-version", "1.2"), ("host", "/")], eol=b"\r\n"
        ),
        "connected-10": frame("CONNECTED", [("session", "s-1")]),
        "connected-11": frame(
            "CONNECTED", [("version", "1.1"), ("heart-beat", "1000,1000"), ("server", "x/1")]
        ),
        "connected-12": frame(
            "CONNECTED", [("version", "1.2"), ("heart-beat", "500,0"), ("session", "s:1")]
        ),
    }


def parser_input(mode: int, stream: bytes, splits: tuple[int, ...] = ()) -> bytes:
    """``[mode][k][splits as big-endian u16][stream]``, the parser harness layout."""
    head = bytes([mode, len(splits)])
    for split in splits:
        head += split.to_bytes(2, "big")
    return head + stream


def parser_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    hb = b"\n\r\n\n"
    for version, (reader_mode, conn_mode) in VERSION_MODES.items():
        tag = version.replace(".", "")
        for side, frames in (
            ("client", client_frames(version)),
            ("server", server_frames(version)),
        ):
            for name, data in frames.items():
                seeds[f"v{tag}-{side}-{name}"] = parser_input(reader_mode, data)
                seeds[f"conn{tag}-{side}-{name}"] = parser_input(conn_mode, data)
            stream = (b"\n" if version == "1.0" else hb).join(frames.values()) + b"\n\n"
            seeds[f"v{tag}-{side}-all"] = parser_input(reader_mode, stream, (3, 17, 40))
            seeds[f"conn{tag}-{side}-all"] = parser_input(conn_mode, stream, (1, 2, 60, 61))
            # Small limits (bits 3-4 of the mode byte) exercise the limit checks.
            seeds[f"conn{tag}-{side}-all-small-limits"] = parser_input(conn_mode | 0x08, stream)
            seeds[f"v{tag}-{side}-all-tiny-limits"] = parser_input(reader_mode | 0x18, stream)
    for name, data in connect_frames().items():
        seeds[f"none-{name}"] = parser_input(READER_NONE, data)
        seeds[f"fresh-{name}"] = parser_input(CONN_FRESH, data)
    # Whole sessions for a fresh connection: handshake first, then traffic.
    client_session = (
        connect_frames()["connect-12"] + b"\n".join(client_frames("1.2").values()) + b"\r\n"
    )
    server_session = connect_frames()["connected-12"] + b"\n".join(server_frames("1.2").values())
    seeds["fresh-client-session-12"] = parser_input(CONN_FRESH, client_session, (5, 80))
    seeds["fresh-server-session-12"] = parser_input(CONN_FRESH, server_session, (9, 33))
    seeds["fresh-client-session-10"] = parser_input(
        CONN_FRESH, connect_frames()["connect-10"] + b"".join(client_frames("1.0").values())
    )
    seeds["fresh-server-session-11"] = parser_input(
        CONN_FRESH, connect_frames()["connected-11"] + b"".join(server_frames("1.1").values())
    )
    for version, (_reader, conn_mode) in VERSION_MODES.items():
        plain = frame("DISCONNECT", [])
        seeds[f"conn{version.replace('.', '')}-client-disconnect-plain"] = parser_input(
            conn_mode, plain
        )
    # Small copy thresholds (bits 5-6 of the mode byte): counted bodies collected in
    # chunks and copied through a memoryview, split anywhere.
    for version, (reader_mode, conn_mode) in VERSION_MODES.items():
        tag = version.replace(".", "")
        stream = b"\n".join(server_frames(version).values())
        for bits in (0x20, 0x40, 0x60):
            seeds[f"v{tag}-server-all-thresholds-{bits >> 5}"] = parser_input(
                reader_mode | bits, stream, (20, 21, 90, 130)
            )
            seeds[f"conn{tag}-server-all-thresholds-{bits >> 5}"] = parser_input(
                conn_mode | bits, stream, (7, 64, 65, 200)
            )
    # A counted body beyond the default large-body threshold (256 KiB), truncated: the
    # reader starts collecting it and EOF ends it mid-frame.  Default limits (0x10).
    big = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:0\ncontent-length:300000\n\n"
    seeds["conn12-server-large-body-truncated"] = parser_input(
        CONN_12 | 0x10, big + b"x" * 300, (80, 81, 200)
    )
    seeds["v12-server-large-body-truncated"] = parser_input(READER_12 | 0x10, big + b"y" * 50)
    seeds["heartbeats-only"] = parser_input(READER_12, b"\n\r\n\n\n\r\n", (1, 2))
    seeds["heartbeats-conn"] = parser_input(CONN_11, b"\n\n\n", (1,))
    return seeds


def roundtrip_seeds() -> dict[str, bytes]:
    # The round-trip program: [version][kind][command idx][n headers]{[len]name[len]value}
    # [len]body; see fuzz_roundtrip.py.  A handful of shapes is enough: the fuzzer mutates.
    def prog(
        version: int, kind: int, cmd: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> bytes:
        out = bytes([version, kind, cmd, len(headers)])
        for name, value in headers:
            out += bytes([len(name)]) + name + bytes([len(value)]) + value
        return out + bytes([len(body)]) + body

    return {
        "frame-send": prog(2, 0, 1, [(b"destination", b"/q"), (b"a:b", b"c\\d\ne")], b"body"),
        "frame-send-nul": prog(1, 0, 1, [(b"destination", b"/q")], b"a\x00b"),
        "frame-connect": prog(0, 0, 0, [(b"login", b"u"), (b"passcode", b"p:w")], b""),
        "frame-message-cr": prog(2, 0, 11, [(b"k\r", b"v\r")], b"x"),
        "event-send": prog(2, 1, 1, [(b"x", b"y")], b"hello\x00"),
        "event-subscribe": prog(1, 1, 2, [(b"prefetch", b"1")], b""),
        "event-ack": prog(2, 1, 4, [], b""),
        "event-message": prog(0, 1, 11, [(b"k", b"v")], b"m"),
        "event-connect": prog(2, 1, 0, [(b"x", b"1")], b""),
        "event-error": prog(1, 1, 13, [], b"details"),
    }


def state_seeds() -> dict[str, bytes]:
    # Action programs for fuzz_state.py, written with the harness's own opcode table
    # so that they stay valid when actions are added.  Arguments: see _state_check.py.
    from _state_check import ACTIONS

    op = {action.__name__.lstrip("_"): index for index, action in enumerate(ACTIONS)}

    def act(name: str, *args: int, data: bytes = b"") -> bytes:
        return bytes([op[name], *args]) + data

    everything = act("to_server", 255) + act("to_client", 255)
    seeds = {}
    for version in range(3):  # _VERSION_SETS[0..2] = 1.0, 1.1, 1.2 alone
        handshake = (
            act("connect", version, 1, 1)  # heart-beat 100,100; host
            + act("to_server", 255)
            + act("connected", 1, 1)  # heart-beat 100,100; the proposed version
            + act("to_client", 255)
        )
        traffic = (
            act("subscribe", 0, 0, 1, 4, 0)  # /q/0, id 0, ack client, no receipt
            + act("send", 0, 2, 4, 5, data=b"hello" + bytes([1, 0]))
            + act("begin", 0, 4)  # t0
            + act("to_server", 7)
            + act("to_server", 255)
            + act("message", 0, 0, 0, 0, 3, data=b"abc" + bytes([1, 0]))
            + act("to_client", 3)
            + act("to_client", 255)
            + act("ack", 0, 0, 0, 0, 4)  # ACK in t0
            + act("finish", 1, 0, 0)  # COMMIT t0 with receipt r0
            + act("unsubscribe", 1)  # id 0
            + act("to_server", 255)
            + act("receipt", 1)
            + act("to_client", 255)
            + act("tick", 1)
            + act("client_timer")
            + act("server_timer")
            + act("disconnect", 1)  # receipt r1
            + act("to_server", 255)
            + act("receipt", 1)
            + everything
            + act("client_closes")
            + act("server_closes")
            + everything
        )
        seeds[f"session-{version}"] = handshake + traffic
        seeds[f"heartbeat-timeout-{version}"] = (
            handshake + act("tick", 255) + act("client_timer") + act("server_timer")
        )
        seeds[f"heartbeats-{version}"] = (
            handshake
            + (act("tick", 1) + act("client_timer") + act("server_timer") + everything) * 4
        )
        seeds[f"back-pressure-{version}"] = handshake + (
            act("client_pause")
            + act("message", 0, 0, 0, 0, 0, data=bytes([1, 0]))
            + act("tick", 4)
            + act("client_timer")
            + act("server_timer")
            + everything
            + act("client_pause")  # resume
            + act("to_client", 255)
            + act("tick", 1)
            + act("client_timer")
        )
        seeds[f"byte-by-byte-{version}"] = (
            act("connect", version, 0, 1)
            + act("to_server", 1) * 60
            + act("connected", 0, 1)
            + act("to_client", 1) * 60
        )
    seeds["connect-timeout"] = act("connect", 3, 0, 1) + act("tick", 255) + act("client_timer")
    seeds["server-error"] = (
        act("connect", 3, 0, 1) + act("to_server", 255) + act("error", 1, 4, 2, data=b"no")
    ) + everything
    seeds["send-failed"] = act("connect", 3, 0, 1) + act("client_write_fails") + everything
    seeds["extension-frame"] = (
        act("connect", 3, 0, 1)
        + act("to_server", 255)
        + act("connected", 0, 1)
        + everything
        + act("raw_frame", 4, 0, 1, 0)  # X-EXT, one header, no body
        + everything
    )
    return seeds


def write(directory: Path, seeds: dict[str, bytes]) -> None:
    # Only the hand-written seeds are rewritten; inputs merged in from long runs
    # (named by their SHA-1, see README.md) stay.
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("seed-*"):
        old.unlink()
    seen: set[str] = set()
    for name, data in sorted(seeds.items()):
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            continue  # identical seeds add nothing
        seen.add(digest)
        (directory / f"seed-{name}").write_bytes(data)


def main() -> None:
    write(CORPUS / "parser", parser_seeds())
    write(CORPUS / "roundtrip", roundtrip_seeds())
    write(CORPUS / "state", state_seeds())
    for sub in ("parser", "roundtrip", "state"):
        print(f"{sub}: {len(list((CORPUS / sub).iterdir()))} seeds")


if __name__ == "__main__":
    main()
