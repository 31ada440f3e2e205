#!/usr/bin/env python3
"""atheris harness: a client core and a server core on a fake link (issue 8).

Run (from the repository root)::

    python fuzz/fuzz_state.py fuzz/work/state fuzz/corpus/state -max_total_time=3600

The action program and the invariants are described in ``_state_check.py``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["stomp_core"]):
    import stomp_core  # noqa: F401 - instrumented before the checks import it

from _state_check import check_state  # after the instrumented import


def main() -> None:
    atheris.Setup(sys.argv, check_state)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
