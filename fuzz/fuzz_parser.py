#!/usr/bin/env python3
"""atheris harness: the STOMP parser in one role, every version (issue 8).

Run (from the repository root; ``--role`` is ours and is removed before libFuzzer sees
the arguments)::

    python fuzz/fuzz_parser.py --role=client fuzz/work/parser-client fuzz/corpus/parser \\
        -dict=fuzz/stomp.dict -max_total_time=3600

``STOMP_FUZZ_ROLE=server`` in the environment does the same as ``--role=server``.
The input layout and the invariant are described in ``_parser_check.py``.  Any escaping
exception (an ``AssertionError`` from the invariant, or anything but
``RemoteProtocolError`` from the core) is a finding: libFuzzer writes the input to
``crash-<sha1>`` and stops.
"""

from __future__ import annotations

import os
import sys

import atheris

with atheris.instrument_imports(include=["stomp_core"]):
    import stomp_core

from _parser_check import check_parser  # after the instrumented import

ROLES = {"client": stomp_core.CLIENT, "server": stomp_core.SERVER}


def _take_role(argv: list[str]) -> tuple[stomp_core.Role, list[str]]:
    # libFuzzer re-executes this script for -minimize_crash and -fork with the flags it
    # knows, so the role also travels in the environment, which children inherit.
    role = os.environ.get("STOMP_FUZZ_ROLE", "client")
    rest = []
    for arg in argv:
        if arg.startswith("--role="):
            role = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if role not in ROLES:
        raise SystemExit(f"--role must be client or server, got {role!r}")
    os.environ["STOMP_FUZZ_ROLE"] = role
    return ROLES[role], rest


def main() -> None:
    role, argv = _take_role(sys.argv)

    def test_one_input(data: bytes) -> None:
        check_parser(role, data)

    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
