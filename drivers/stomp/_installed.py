"""Refuse to run from a ``stomp`` package that pip mixed with stomp.py's files.

Both distributions, ``stomp-sansio`` (this one) and ``stomp.py``, install the import
package ``stomp`` and the ``stomp`` command.  pip has no way to say that two
distributions conflict (it ignores ``Obsoletes-Dist``), so installing one over the other
silently writes both sets of files into the same ``site-packages/stomp/`` directory:
the files both have come from whichever was installed last, the others stay, and
uninstalling either one later deletes files the other needs.

So when our ``stomp/__init__.py`` runs while stomp.py's installation record lists files
in the same directory, the package is mixed (we were installed over stomp.py).  Rather
than run a half-replaced package, :func:`check_not_mixed` raises an ``ImportError`` that
says how to get a clean install.  (The other order, stomp.py installed over us, runs
stomp.py's own ``__init__``: stomp.py works, our leftover private modules are never
imported, and the README says how to clean up.)  A stomp.py installed elsewhere on
``sys.path`` (another directory, a virtual environment's parent) shares no file with us
and is left alone.
"""

from __future__ import annotations

import os

__all__ = ["MIXED_INSTALL_HELP", "check_not_mixed"]

#: What a user does to get a clean install (also in the README and docs/migration.md).
MIXED_INSTALL_HELP = (
    "pip uninstall -y stomp.py stomp-sansio && pip install stomp-sansio "
    "(or, to go back to stomp.py: pip uninstall -y stomp.py stomp-sansio && "
    "pip install stomp.py)"
)

# stomp.py's installation record beside our package: ``stomp.py-9.0.0.dist-info`` from
# older installers, ``stomp_py-9.0.0.dist-info`` with the normalised name (PEP 491).
# Read directly: importlib.metadata would cost ``import stomp`` some 25 ms (and
# os.scandir, not pathlib, which ``import stomp`` needs nowhere else).


def _stomppy_version(dist_info: str) -> str | None:
    """The version in stomp.py's ``stomp[._]py-VERSION.dist-info`` (any case), else ``None``.

    String tests rather than a regular expression: this runs on every ``import stomp``,
    and re would cost that import a few milliseconds (issue 13: import time).
    """
    prefix, suffix = dist_info[:9].lower(), dist_info[-10:].lower()
    version = dist_info[9:-10]
    if prefix in ("stomp.py-", "stomp_py-") and suffix == ".dist-info" and version:
        return None if "-" in version else version
    return None


def check_not_mixed(package_dir: str | os.PathLike[str]) -> None:
    """Raise ``ImportError`` if stomp.py's installation owns files in ``package_dir``.

    Args:
        package_dir: the directory of the ``stomp`` package being imported.
    """
    try:
        parent = os.path.dirname(os.path.abspath(package_dir))
        with os.scandir(parent) as scan:
            entries = [entry.path for entry in scan if entry.name.endswith(".dist-info")]
    except OSError:
        return
    for entry in entries:
        version = _stomppy_version(os.path.basename(entry))
        if version is None:
            continue
        try:
            with open(os.path.join(entry, "RECORD"), encoding="utf-8") as file:
                record = file.read()
        except OSError:
            continue
        if any(line.startswith("stomp/") for line in record.splitlines()):
            raise ImportError(
                f"the 'stomp' package in {os.path.realpath(package_dir)} mixes the files of two "
                f"distributions: stomp.py {version} and stomp-sansio were both "
                "installed into it (pip cannot keep apart two distributions that provide "
                "the same package, and uninstalling just one of them now would break the "
                f"other). To fix it: {MIXED_INSTALL_HELP}"
            )


# On import (``stomp/__init__.py`` imports this module first).
check_not_mixed(os.path.dirname(__file__))
