"""Tests of stomp_core._hosts: stomp.py's candidate host ordering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core._hosts import (
    DEFAULT_HOST_AND_PORTS,
    LOCALHOST_NAMES,
    LOOPBACK_ADDRESS,
    candidate_hosts,
    is_local_host,
)

# What a driver passes on a machine called "myhost" (stomp.py's LOCALHOST_NAMES scan).
LOCAL = (*LOCALHOST_NAMES, "myhost", "myhost.example.org", "192.0.2.7")


def test_constants() -> None:
    assert DEFAULT_HOST_AND_PORTS == (("localhost", 61613),)
    assert LOCALHOST_NAMES == ("localhost", "127.0.0.1")
    assert LOOPBACK_ADDRESS == "127.0.0.1"


# --- is_local_host ----------------------------------------------------------------


def test_is_local_host_membership() -> None:
    assert is_local_host("localhost", LOCALHOST_NAMES)
    assert is_local_host("127.0.0.1", LOCALHOST_NAMES)
    assert not is_local_host("myhost", LOCALHOST_NAMES)
    assert is_local_host("myhost", LOCAL)
    assert not is_local_host("broker", LOCAL)
    assert not is_local_host("localhost", ())


def test_is_local_host_ignores_case() -> None:
    # DNS names are case-insensitive (RFC 4343); stomp.py compared exactly.
    assert is_local_host("LocalHost", LOCALHOST_NAMES)
    assert is_local_host("myhost", ("MYHOST",))


# --- the rules --------------------------------------------------------------------


def test_no_hosts_means_localhost_61613() -> None:
    # localhost is itself on loopback, so it gets no twin.
    assert candidate_hosts(None, local_names=LOCAL) == [("localhost", 61613)]
    assert candidate_hosts(None) == [("localhost", 61613)]


def test_defaults_prefer_local_and_add_loopback_twin() -> None:
    given_hosts = [("broker1", 61613), ("myhost", 61613)]
    assert candidate_hosts(given_hosts, local_names=LOCAL) == [
        ("127.0.0.1", 61613),
        ("myhost", 61613),
        ("broker1", 61613),
    ]


def test_prefer_localhost_only() -> None:
    given_hosts = [("broker1", 61613), ("myhost", 61613)]
    assert candidate_hosts(
        given_hosts, prefer_localhost=True, try_loopback_connect=False, local_names=LOCAL
    ) == [("myhost", 61613), ("broker1", 61613)]


def test_loopback_only_keeps_given_order_after_the_twins() -> None:
    given_hosts = [("broker1", 61613), ("myhost", 61614)]
    assert candidate_hosts(
        given_hosts, prefer_localhost=False, try_loopback_connect=True, local_names=LOCAL
    ) == [("127.0.0.1", 61614), ("broker1", 61613), ("myhost", 61614)]


def test_neither_rule_returns_a_copy_of_the_list() -> None:
    given_hosts = [("broker1", 1), ("myhost", 2), ("localhost", 3)]
    result = candidate_hosts(
        given_hosts, prefer_localhost=False, try_loopback_connect=False, local_names=LOCAL
    )
    assert result == given_hosts
    assert result is not given_hosts


def test_the_sort_is_stable() -> None:
    given_hosts = [("a", 1), ("localhost", 2), ("b", 3), ("127.0.0.1", 4), ("c", 5)]
    assert candidate_hosts(given_hosts, local_names=LOCAL) == [
        ("localhost", 2),
        ("127.0.0.1", 4),
        ("a", 1),
        ("b", 3),
        ("c", 5),
    ]


def test_the_input_list_is_not_modified() -> None:
    given_hosts = [("a", 1), ("localhost", 2)]
    candidate_hosts(given_hosts, local_names=LOCAL)
    assert given_hosts == [("a", 1), ("localhost", 2)]


def test_no_twin_when_loopback_already_listed_for_that_port() -> None:
    assert candidate_hosts([("myhost", 1), ("127.0.0.1", 1)], local_names=LOCAL) == [
        ("myhost", 1),
        ("127.0.0.1", 1),
    ]
    # ... the same via localhost, listed after it and not local-sorted.
    assert candidate_hosts(
        [("myhost", 1), ("broker", 9), ("localhost", 1)],
        prefer_localhost=False,
        local_names=LOCAL,
    ) == [("myhost", 1), ("broker", 9), ("localhost", 1)]


def test_loopback_on_another_port_does_not_count() -> None:
    assert candidate_hosts([("localhost", 2), ("myhost", 1)], local_names=LOCAL) == [
        ("127.0.0.1", 1),
        ("localhost", 2),
        ("myhost", 1),
    ]


def test_non_local_hosts_never_get_a_twin() -> None:
    assert candidate_hosts([("broker", 1)], local_names=LOCAL) == [("broker", 1)]
    # Without the machine's own names, "myhost" is just a remote host.
    assert candidate_hosts([("myhost", 1)], local_names=LOCALHOST_NAMES) == [("myhost", 1)]
    assert candidate_hosts([("myhost", 1)]) == [("myhost", 1)]


def test_one_twin_per_port() -> None:
    # stomp.py would add ("127.0.0.1", 1) twice here.
    given_hosts = [("myhost", 1), ("192.0.2.7", 1), ("myhost.example.org", 2)]
    assert candidate_hosts(given_hosts, local_names=LOCAL) == [
        ("127.0.0.1", 1),
        ("127.0.0.1", 2),
        *given_hosts,
    ]


def test_case_is_ignored_for_local_and_loopback_names() -> None:
    assert candidate_hosts([("b", 1), ("MyHost", 1)], local_names=LOCAL) == [
        ("127.0.0.1", 1),
        ("MyHost", 1),
        ("b", 1),
    ]
    assert candidate_hosts([("myhost", 1), ("LOCALHOST", 1)], local_names=LOCAL) == [
        ("myhost", 1),
        ("LOCALHOST", 1),
    ]


def test_user_duplicates_are_kept() -> None:
    assert candidate_hosts([("b", 1), ("b", 1)], local_names=LOCAL) == [("b", 1), ("b", 1)]


def test_lists_and_iterators_are_accepted() -> None:
    def gen() -> Iterator[tuple[str, int]]:
        yield ("b", 1)
        yield ("myhost", 2)

    assert candidate_hosts(gen(), local_names=LOCAL) == [
        ("127.0.0.1", 2),
        ("myhost", 2),
        ("b", 1),
    ]
    pairs_as_lists = [["b", 1]]
    result = candidate_hosts(pairs_as_lists, local_names=LOCAL)  # type: ignore[arg-type]
    assert result == [("b", 1)]
    assert isinstance(result[0], tuple)


@pytest.mark.parametrize("port", [0, 65535])
def test_port_bounds_are_inclusive(port: int) -> None:
    assert candidate_hosts([("b", port)]) == [("b", port)]


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "match"),
    [
        ([], "at least one"),
        ((), "at least one"),
        ("localhost:61613", r"list of \(host, port\) pairs"),
        (b"localhost", r"list of \(host, port\) pairs"),
        (["ab"], r"\(host, port\) pair"),
        ([("a",)], r"\(host, port\) pair"),
        ([("a", 1, 2)], r"\(host, port\) pair"),
        ([None], r"\(host, port\) pair"),
        ([(1, 2)], "non-empty str"),
        ([("", 2)], "non-empty str"),
        ([(b"a", 2)], "non-empty str"),
        ([("a", -1)], "0..65535"),
        ([("a", 65536)], "0..65535"),
        ([("a", True)], "0..65535"),
        ([("a", "61613")], "0..65535"),
        ([("a", 1.0)], "0..65535"),
        ([("a", 1), ("b", 70000)], "0..65535"),
    ],
)
def test_bad_host_lists_are_refused(hosts: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        candidate_hosts(hosts)  # type: ignore[arg-type]


def test_a_lone_local_name_is_refused() -> None:
    with pytest.raises(ValueError, match="local_names"):
        candidate_hosts([("a", 1)], local_names="myhost")


# --- properties -------------------------------------------------------------------

host_names = st.sampled_from(["localhost", "127.0.0.1", "myhost", "MYHOST", "192.0.2.7", "b", "c"])
pairs = st.tuples(host_names, st.integers(1, 4))


@given(hosts=st.lists(pairs, min_size=1, max_size=10), prefer=st.booleans(), loop=st.booleans())
def test_ordering_properties(hosts: list[tuple[str, int]], prefer: bool, loop: bool) -> None:
    result = candidate_hosts(
        hosts, prefer_localhost=prefer, try_loopback_connect=loop, local_names=LOCAL
    )
    twins, rest = result[: len(result) - len(hosts)], result[len(result) - len(hosts) :]

    # Every given entry is kept, nothing else is added except twins in front.
    assert sorted(rest) == sorted(hosts)
    local = [h for h in hosts if is_local_host(h[0], LOCAL)]
    remote = [h for h in hosts if not is_local_host(h[0], LOCAL)]
    assert rest == (local + remote if prefer else hosts)

    # Twins: only when asked, 127.0.0.1, one per port, only for local ports that had
    # no loopback entry.
    if not loop:
        assert twins == []
    assert all(host == LOOPBACK_ADDRESS for host, _ in twins)
    twin_ports = [port for _, port in twins]
    assert len(set(twin_ports)) == len(twin_ports)
    covered = {port for host, port in hosts if host.lower() in ("localhost", "127.0.0.1")}
    expected_ports = {port for _, port in local} - covered if loop else set()
    assert set(twin_ports) == expected_ports
