"""Import time of a module over a bare interpreter, best of N fresh processes.

Usage: ``python bench/import_time.py [-n 15] [--python PATH] MODULE...``

Each sample starts a fresh interpreter (``PYTHON -c "import MODULE"``) and measures its
wall time; the baseline is the same interpreter running ``pass``.  The machine is noisy,
so the best (minimum) of N runs of each is the figure: noise only ever adds time.  Runs
of the module and of the baseline alternate, so a burst of load hits both alike.

Compiled bytecode is used as an installed package would use it: PYTHONDONTWRITEBYTECODE
is dropped and the ``.pyc`` files go to a cache directory outside the tree
(PYTHONPYCACHEPREFIX), written by a first, untimed import.  Without them every run
compiles the sources again, which is most of what ``-X importtime`` then shows.
``--environment-as-is`` measures with the caller's environment unchanged instead.
``python -X importtime -c "import MODULE"`` shows where the time goes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def _best(python: str, code: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env=_ENV, cwd=_CWD)
        best = min(best, time.perf_counter() - start)
    return best


# ``-c`` puts the working directory first on sys.path: run from a neutral one, so that
# PYTHONPATH (or the installed package) decides which tree is measured.
_CWD = tempfile.gettempdir()
_ENV = dict(os.environ)
_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
_ENV.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "stomp-import-time-pyc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+")
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--environment-as-is", action="store_true")
    args = parser.parse_args()
    if args.environment_as_is:
        _ENV.clear()
        _ENV.update(os.environ)
    # Warm the .pyc caches first so that the first sample does not pay for compiling.
    for module in args.modules:
        subprocess.run([args.python, "-c", f"import {module}"], check=True, env=_ENV, cwd=_CWD)
    bare = float("inf")
    timed = {module: float("inf") for module in args.modules}
    for _ in range(args.runs):
        bare = min(bare, _best(args.python, "pass", 1))
        for module in args.modules:
            timed[module] = min(timed[module], _best(args.python, f"import {module}", 1))
    print(f"bare interpreter: {bare * 1000:.1f} ms ({args.python})")
    for module, seconds in timed.items():
        print(f"import {module}: +{(seconds - bare) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
