"""The names stomp_core loads on first use (PEP 562; issue 13: import time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import stomp_core


def test_reconnect_and_host_names_load_on_first_use() -> None:
    code = (
        "import sys, stomp_core\n"
        "lazy = ('stomp_core._backoff', 'stomp_core._hosts', 'stomp_core._registry',\n"
        "        'stomp_core._framelog')\n"
        "assert not any(m in sys.modules for m in lazy), sorted(sys.modules)\n"
        "from stomp_core import ReconnectBackoff, SessionRegistry, candidate_hosts\n"
        "from stomp_core import frame_log\n"
        "assert all(m in sys.modules for m in lazy)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in stomp_core.__all__:
        assert getattr(stomp_core, name) is not None
        assert name in dir(stomp_core)
    assert stomp_core.ReconnectBackoff.__module__ == "stomp_core._backoff"
    assert stomp_core.SessionRegistry is stomp_core._registry.SessionRegistry


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = stomp_core.no_such_name  # type: ignore[attr-defined]


def test_import_loads_neither_dataclasses_nor_typing() -> None:
    # Issue 13: they were most of ``import stomp_core``; re loads with the first reader.
    # -S: no site, so that what the interpreter's own start-up loads (an editable
    # install's hooks) does not count.
    root = str(Path(stomp_core.__file__).parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import stomp_core\n"
        "heavy = ('dataclasses', 'inspect', 'typing', 'ast')\n"
        "assert not any(m in sys.modules for m in heavy + ('re',)), sorted(sys.modules)\n"
        "stomp_core.Connection(stomp_core.CLIENT, stomp_core.Config())\n"
        "stomp_core.Send(destination='/q')\n"
        "assert not any(m in sys.modules for m in heavy), sorted(sys.modules)\n"
        "assert 're' in sys.modules  # the reader's patterns, compiled with the first reader\n"
    )
    subprocess.run([sys.executable, "-S", "-c", code], check=True, timeout=60)
