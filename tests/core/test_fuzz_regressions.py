"""Regression tests for what the fuzz harnesses found, and a replay of their seeds.

Every crash a harness in ``fuzz/`` finds becomes a test here with its minimised input
(see ``fuzz/README.md``).  A finding that is a core bug not yet fixed is marked
``xfail(strict=True)``: the fix makes it pass, strict mode then fails the run, and the
marker (and the harness's matching ``known_bug`` entry) is removed with the fix.

The seed corpus is replayed through the harnesses' invariant checks too, so that the
checks themselves run in every test run, without atheris.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stomp_core import (
    CLIENT,
    SERVER,
    Error,
    Frame,
    LocalProtocolError,
    Message,
    RemoteProtocolError,
    Send,
    State,
)
from stomp_core._versions import rules_for
from stomp_core._writer import serialize_frame

from .helpers import ConnectionPair, drain

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
# The invariant checks live next to the harnesses and import each other by plain name.
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))

from _parser_check import check_parser  # noqa: E402
from _roundtrip_check import check_roundtrip, parse_one  # noqa: E402
from _state_check import check_state  # noqa: E402


def _seeds(harness: str) -> list[Path]:
    return sorted((FUZZ / "corpus" / harness).iterdir())


# --- the harnesses' invariants over their seed corpora ------------------------------


@pytest.mark.parametrize("role", [CLIENT, SERVER], ids=["client", "server"])
def test_parser_seeds_hold_the_invariant(role: object) -> None:
    seeds = _seeds("parser")
    assert len(seeds) > 100
    parsed_frames = 0
    for seed in seeds:
        outcome = check_parser(role, seed.read_bytes())  # type: ignore[arg-type]
        parsed_frames += len(outcome.frames())
    assert parsed_frames > 200  # the seeds are mostly valid frames, not noise


def test_roundtrip_seeds_hold_the_invariant() -> None:
    for seed in _seeds("roundtrip"):
        check_roundtrip(seed.read_bytes())


def test_state_seeds_hold_the_invariant() -> None:
    worlds = {seed.name: check_state(seed.read_bytes()) for seed in _seeds("state")}
    for version in range(3):
        session = worlds[f"seed-session-{version}"]
        assert session.client.state is session.server.state is State.CLOSED
        assert not session.tainted
    assert worlds["seed-extension-frame"].tainted


def test_saved_crash_inputs_hold_the_invariant() -> None:
    # fuzz/regressions/<harness>-<what>: every crash file a run produced.  Those that
    # hit a core bug still open pass through the harness's known_bug filter.
    checks: dict[str, Callable[[bytes], object]] = {
        "parser": lambda data: [check_parser(role, data) for role in (CLIENT, SERVER)],
        "roundtrip": check_roundtrip,
        "state": check_state,
    }
    saved = sorted((FUZZ / "regressions").iterdir())
    assert saved
    for path in saved:
        checks[path.name.split("-", 1)[0]](path.read_bytes())


# --- findings -----------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "1.0", "1.1", "1.2"])
def test_serializer_never_writes_a_command_our_reader_refuses(version: str | None) -> None:
    # Minimised input: QAD/QBYDAQGbAw== (Frame("\x16\x03\x01\x01", (), b"")).
    rules = rules_for(version) if version else None
    frame = Frame("\x16\x03\x01")
    try:
        data = serialize_frame(frame, rules)
    except LocalProtocolError:
        return  # refusing it is a fix too
    assert parse_one(data, rules) == frame


def test_extension_command_starting_with_0x16_is_refused_locally() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    with pytest.raises(LocalProtocolError):
        pair.client.send(Frame("\x16X"), now=0)


def test_server_refuses_to_send_a_12_message_without_subscription() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    with pytest.raises(LocalProtocolError):
        pair.server.send(Message(destination="/q", message_id="m1"), now=0)
    assert pair.server.state is State.CONNECTED


def test_client_refuses_a_12_message_without_subscription() -> None:
    # The receiving half of finding 2, which is the intended behaviour (conformance 94).
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"MESSAGE\ndestination:/q\nmessage-id:m1\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="subscription"):
        drain(pair.client)
    assert pair.client.state is State.ERROR


def test_an_event_refuses_an_extra_content_length_header() -> None:
    # Finding 5 (roundtrip): Error(content_length=False, headers=(("content-length",
    # "0"),)) went out with that header, came back as content_length=True without the
    # extra header, and so did not round-trip.  The content_length field is the one way.
    for event_type in (Error, Message, Send):
        arguments: dict[str, Any] = {"headers": (("x", "1"), ("content-length", "0"))}
        if event_type is Message:
            arguments |= {"destination": "/q", "message_id": "m", "subscription": "s"}
        elif event_type is Send:
            arguments |= {"destination": "/q"}
        with pytest.raises(LocalProtocolError, match="set the content_length field"):
            event_type(**arguments)
