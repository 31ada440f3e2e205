"""Config, Limits and version tables."""

from __future__ import annotations

import pytest

from stomp_core import NEED_DATA, Config, Limits, LocalProtocolError
from stomp_core._versions import check_versions, negotiate_version, rules_for


def test_config_defaults() -> None:
    config = Config()
    assert config.versions == ("1.0", "1.1", "1.2")
    assert config.heartbeat_tolerance == 1.5
    assert config.error_ends_session is True


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"limits": 3}, "Limits"),
        ({"heartbeat_tolerance": 0.5}, ">= 1"),
        ({"heartbeat_tolerance": "2"}, "positive number"),
        ({"heartbeat_send_factor": 1.5}, "<= 1"),
        ({"heartbeat_send_factor": True}, "positive number"),
        ({"connect_timeout": 0}, "positive number"),
        ({"disconnect_timeout": -1.0}, "positive number"),
        ({"versions": ()}, "at least one"),
        ({"versions": ("1.3",)}, "unsupported"),
        ({"error_ends_session": 0}, "bool"),
    ],
)
def test_config_validation(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        Config(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["max_frame_size", "max_header_count", "max_pending_receipts"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_limits_validation(name: str, value: object) -> None:
    with pytest.raises(LocalProtocolError, match=name):
        Limits(**{name: value})  # type: ignore[arg-type]


def test_versions() -> None:
    assert check_versions("1.2, 1.0") == ("1.0", "1.2")
    assert check_versions(["1.1", "1.1"]) == ("1.1",)
    assert negotiate_version(("1.0", "1.1"), ("1.1", "1.2")) == "1.1"
    assert negotiate_version(("1.0",), ("1.2",)) is None
    assert rules_for("1.2").ack_id_header == "id"
    with pytest.raises(LocalProtocolError):
        rules_for("9")


def test_sentinel_repr() -> None:
    assert repr(NEED_DATA) == "NEED_DATA"
    assert type(NEED_DATA) is NEED_DATA
