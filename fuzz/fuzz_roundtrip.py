#!/usr/bin/env python3
"""atheris harness: serialize then parse, every version (issue 8).

Run (from the repository root)::

    python fuzz/fuzz_roundtrip.py fuzz/work/roundtrip fuzz/corpus/roundtrip \\
        -dict=fuzz/stomp.dict -max_total_time=3600

The input layout and the invariant are described in ``_roundtrip_check.py``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["stomp_core"]):
    import stomp_core  # noqa: F401 - instrumented before the checks import its modules

from _roundtrip_check import check_roundtrip  # after the instrumented import


def main() -> None:
    atheris.Setup(sys.argv, check_roundtrip)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
