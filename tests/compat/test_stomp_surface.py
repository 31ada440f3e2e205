"""The public surface of the stomp package: names stomp.py users and tests import."""

from __future__ import annotations

import importlib
import platform
from pathlib import Path

import pytest

import stomp
from stomp import colours, constants, exception


def test_logging_and_log_are_one_module() -> None:
    import stomp.log
    import stomp.logging

    assert stomp.log is stomp.logging
    assert stomp.logging is stomp.__dict__["logging"]


def test_version() -> None:
    # stomp.__version__ names the stomp.py API level, so version checks written for
    # stomp.py take their modern branch; the distribution's own version is separate.
    import stomp_core

    assert stomp.__version__ == "9.0.0"
    assert stomp.sansio_version == stomp_core.__version__
    original = stomp.__version__
    try:
        value = stomp.tuple_version()
        assert value == (9, 0, 0)
        assert stomp.__dict__["__version__"] == value
        assert stomp.tuple_version() == value  # a second call leaves the tuple alone
        assert stomp.__dict__["__version__"] == value
    finally:
        stomp.__version__ = original


def test_import_reads_no_distribution_metadata() -> None:
    # importlib.metadata costs tens of milliseconds at import (issue 13: a cheap import).
    import subprocess
    import sys

    code = "import sys, stomp; assert 'importlib.metadata' not in sys.modules, 'metadata'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_import_leaves_what_only_some_programs_need_unloaded() -> None:
    # ssl, logging, re, platform... load when a TLS connection, a log call, a Transport
    # or stomp.py's names need them (issue 13: import time); those names still resolve.
    # -S: without site, so that an editable install's start-up hooks do not load them.
    import subprocess
    import sys

    root = str(Path(stomp.__file__).parent.parent)
    code = (
        f"import sys; sys.path[:0] = [{root!r}, {str(Path(root).parent)!r}]\n"
        "import stomp\n"
        "lazy = ('ssl', 'stomp_core.client', 'dataclasses', 'typing', 'logging', 're',\n"
        "        'platform', 'uuid', 'random', 'encodings.idna', 'queue', 'copy', 'struct',\n"
        "        'stomp_core._registry', 'stomp_core._hosts')\n"
        "assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]\n"
        "import ssl\n"
        "assert stomp.transport.DEFAULT_SSL_VERSION == ssl.PROTOCOL_TLS_CLIENT\n"
        "assert stomp.transport.SSLError is ssl.SSLError and stomp.transport.ssl is ssl\n"
        "from stomp.transport import DEFAULT_SSL_VERSION, SSLError\n"
        "assert stomp.logging.logger.name == 'stomp.py' and stomp.colours.BOLD is not None\n"
        "assert stomp.utils.LOCALHOST_NAMES[:2] == ['localhost', '127.0.0.1']\n"
        "assert stomp.transport.LOCALHOST_NAMES is stomp.utils.LOCALHOST_NAMES\n"
        "assert stomp.connect.DEFAULT_SSL_VERSION == ssl.PROTOCOL_TLS_CLIENT\n"
        "assert stomp.utils.PREAMBLE_END_RE.search(b'a\\n\\nb') is not None\n"
        "assert stomp.utils.get_uuid() != stomp.utils.get_uuid()\n"
        "assert stomp.utils.PollableQueue.__module__ == 'stomp.utils'\n"
        "assert stomp.utils.Frame('X', (('k', 'v'),)).original_headers == (('k', 'v'),)\n"
        "from stomp.utils import *\n"
        "assert re is stomp.utils.re and LINE_END_RE is stomp.utils.LINE_END_RE\n"
        # stomp.py's own tests reload stomp.transport after deleting an ssl name.
        "import importlib\n"
        "saved = ssl.PROTOCOL_TLS_CLIENT; del ssl.PROTOCOL_TLS_CLIENT\n"
        "importlib.reload(stomp.transport)\n"
        "assert stomp.transport.DEFAULT_SSL_VERSION is None\n"
        "ssl.PROTOCOL_TLS_CLIENT = saved; importlib.reload(stomp.transport)\n"
        "assert stomp.transport.DEFAULT_SSL_VERSION == ssl.PROTOCOL_TLS_CLIENT\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for module in (stomp.transport, stomp.connect, stomp.utils, stomp.logging, stomp.adapter):
        with pytest.raises(AttributeError, match="no_such_name"):
            _ = module.no_such_name


def test_exceptions_hierarchy() -> None:
    for name in exception.__all__:
        cls = getattr(exception, name)
        assert issubclass(cls, exception.StompException)
    assert issubclass(exception.StompException, Exception)


def test_constants() -> None:
    assert constants.HDR_HEARTBEAT == "heart-beat"
    assert constants.HDR_ACCEPT_VERSION == "accept-version"
    assert constants.CMD_STOMP == "STOMP"
    for name in constants.__all__:
        value = getattr(constants, name)
        if name.startswith("CMD_"):
            assert value == name[4:]


def test_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    assert colours.GREEN == "\33[32m" or platform.system() == "Windows"
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    try:
        reloaded = importlib.reload(colours)
        assert (reloaded.GREEN, reloaded.RED, reloaded.NO_COLOUR, reloaded.BOLD) == ("",) * 4
    finally:
        monkeypatch.undo()
        importlib.reload(colours)
    assert colours.BOLD == "\33[1m"


def test_top_level_listener_names() -> None:
    assert stomp.ConnectionListener is stomp.listener.ConnectionListener
    assert stomp.StatsListener is stomp.listener.StatsListener
    assert stomp.WaitingListener is stomp.listener.WaitingListener
    assert stomp.PrintingListener is stomp.listener.PrintingListener
