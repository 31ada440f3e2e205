"""Records (_record.py): events, frames and settings behave as frozen dataclasses.

They stopped being dataclasses for import time (issue 13); everything users could do
with the dataclasses must still work.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from stomp_core import (
    CLIENT,
    Config,
    Connect,
    Connected,
    Connection,
    Frame,
    FrameEvent,
    HeartbeatReceived,
    Limits,
    MetricsSnapshot,
    Send,
    Subscribe,
)
from stomp_core._record import Record, field_names, replace
from stomp_core._versions import RULES

RECORDS = [
    Send(destination="/q", body=b"x", receipt="r", headers=(("k", "v"),)),
    Connect(host="/", login="u", passcode="secret", heart_beat=(1, 2)),
    Connected(version="1.2", received_headers=(("version", "1.2"),)),
    Frame("SEND", (("destination", "/q"),), b"body"),
    Config(heartbeat_tolerance=2.0, limits=Limits(max_header_count=5)),
    Limits(max_frame_size=10),
    HeartbeatReceived(),
]


def test_fields_in_dataclass_order_with_their_defaults() -> None:
    send = dataclasses.fields(Send)
    assert [f.name for f in send] == [
        "headers",
        "destination",
        "body",
        "content_type",
        "transaction",
        "receipt",
        "content_length",
    ]
    assert [f.default for f in send][:3] == [(), dataclasses.MISSING, b""]
    assert all(f.kw_only for f in send)
    assert [f.name for f in dataclasses.fields(Frame)] == ["command", "headers", "body"]
    assert not any(f.kw_only for f in dataclasses.fields(Frame))
    assert dataclasses.fields(Config)[1].default == Limits()
    assert dataclasses.is_dataclass(Send)
    assert dataclasses.is_dataclass(RECORDS[0])
    assert dataclasses.fields(HeartbeatReceived) == ()


def test_repr_and_compare_flags() -> None:
    (passcode,) = [f for f in dataclasses.fields(Connect) if f.name == "passcode"]
    assert not passcode.repr
    assert passcode.compare
    (received,) = [f for f in dataclasses.fields(Connected) if f.name == "received_headers"]
    assert not received.repr
    assert not received.compare
    assert "secret" not in repr(RECORDS[1])
    assert Connected(version="1.2") == RECORDS[2]
    assert hash(Connected(version="1.2")) == hash(RECORDS[2])


def test_asdict_and_replace() -> None:
    assert dataclasses.asdict(Limits(max_frame_size=10))["max_frame_size"] == 10
    snapshot = MetricsSnapshot(**dict.fromkeys(field_names(MetricsSnapshot), 0))
    assert dataclasses.asdict(snapshot)["frames_sent"] == 0
    config = dataclasses.replace(Config(), connect_timeout=None)
    assert config.connect_timeout is None
    assert config.versions == Config().versions
    frame = dataclasses.replace(RECORDS[3], body=b"other")
    assert frame == Frame("SEND", (("destination", "/q"),), b"other")
    with pytest.raises(Exception, match="heartbeat_tolerance"):
        dataclasses.replace(Config(), heartbeat_tolerance=0.5)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_frozen(record: object) -> None:
    name = (field_names(type(record)) or ("anything",))[0]
    with pytest.raises(dataclasses.FrozenInstanceError, match=name):
        setattr(record, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(record, name)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_copy_and_pickle(record: object) -> None:
    for twin in (copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
        assert twin == record
        assert type(twin) is type(record)
        assert repr(twin) == repr(record)


def test_construction_is_keyword_only_except_for_frames() -> None:
    with pytest.raises(TypeError):
        Subscribe("/q")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Limits(10)  # type: ignore[misc]
    with pytest.raises(TypeError):
        HeartbeatReceived(x=1)  # type: ignore[call-arg]
    assert Frame("X") == Frame(command="X", headers=(), body=b"")
    assert FrameEvent(headers={"k": "v"}).headers == (("k", "v"),)  # type: ignore[arg-type]


def test_pattern_matching() -> None:
    match RECORDS[3]:
        case Frame("SEND", _, body):
            assert body == b"body"
        case _:  # pragma: no cover - the case above matches
            pytest.fail("positional pattern on Frame")
    match RECORDS[0]:
        case Send(destination="/q", receipt=receipt):
            assert receipt == "r"
        case _:  # pragma: no cover - the case above matches
            pytest.fail("keyword pattern on Send")
    assert Send.__match_args__ == ()
    assert RULES["1.2"].__match_args__[0] == "version"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _TaggedConnect(Connect):
    """An application's dataclass subclass of an event, with a field of its own."""

    tag: str = "t"
    note: ClassVar[str] = "not a field"


def test_application_dataclass_subclass() -> None:
    event = _TaggedConnect(accept_version=("1.2", "1.1"), host="/", tag="mine")
    assert [f.name for f in dataclasses.fields(event)][-1] == "tag"
    ordered = replace(event, accept_version=("1.1", "1.2"))
    assert type(ordered) is _TaggedConnect
    assert ordered.tag == "mine"
    assert ordered.accept_version == ("1.1", "1.2")
    # The connection orders accept-version itself (conformance 49), keeping the class.
    client = Connection(CLIENT, Config())
    client.send(event, now=0)
    assert b"accept-version:1.1,1.2\n" in client.data_to_send(now=0)


def test_replace_on_a_plain_record() -> None:
    assert replace(RECORDS[0], receipt=None) == Send(
        destination="/q", body=b"x", headers=(("k", "v"),)
    )


class _PlainSend(Send):
    """An application's subclass that is not a dataclass: Send's fields, no more."""

    note: str = "a class attribute, not a field"


def test_fields_come_from_slots_in_annotation_order() -> None:
    class Partly(Record):
        __slots__ = ("a", "b")
        b: int

    assert field_names(Partly) == ("b", "a")
    assert field_names(_PlainSend) == field_names(Send)
    send = _PlainSend(destination="/q")
    assert send == _PlainSend(destination="/q")
    assert send != _PlainSend(destination="/other")
    assert repr(send).startswith("_PlainSend(headers=(), destination='/q'")
