"""The raw Frame and header normalisation."""

from __future__ import annotations

from stomp_core import Frame
from stomp_core._frame import normalize_headers


def test_frame_lookups_keep_order_and_repeats() -> None:
    """conformance 42-43: the first occurrence wins; all stay visible."""
    frame = Frame("MESSAGE", (("a", "1"), ("b", "2"), ("a", "3")), b"")
    assert frame.get("a") == "1"
    assert frame.get("zz", "d") == "d"
    assert frame.get_all("a") == ["1", "3"]


def test_normalize_headers() -> None:
    assert normalize_headers(None) == ()
    assert normalize_headers({"x": "1"}) == (("x", "1"),)
    assert normalize_headers([("x", "1"), ("x", "2")]) == (("x", "1"), ("x", "2"))
