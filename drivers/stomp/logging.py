"""Logging for the stomp package, with stomp.py 8.2's module-level interface.

Everything is logged through one standard :mod:`logging` logger named ``"stomp.py"`` (the
name stomp.py uses, so existing logging configuration keeps working).  A filter on that
logger masks passcodes in every record, whatever the caller formatted into it.

stomp.py 9.0 renamed this module ``stomp.log``; both names are provided.
"""

from __future__ import annotations

import sys

from ._masking import mask_passcodes

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging as _std_logging
    from typing import Any

    #: The logger every module of this package writes to.
    logger: _std_logging.Logger


__all__ = [
    "DEBUG",
    "ERROR",
    "INFO",
    "WARNING",
    "debug",
    "error",
    "exception",
    "info",
    "isEnabledFor",
    "log_to_stdout",
    "logger",
    "setLevel",
    "verbose",
    "warning",
]

# The standard logging module's levels (fixed numbers, documented as such): that module
# is imported on the first log call, not with the package; with what it imports it was
# a sixth of ``import stomp`` (issue 13: import time).
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40

#: When true, connection-failure warnings carry the traceback (as in stomp.py).
verbose = False

_logger: _std_logging.Logger | None = None


def _make_logger() -> _std_logging.Logger:
    # The "stomp.py" logger with a filter that rewrites each record's message with
    # passcodes masked (it never drops a record); once per process, reloads included.
    global _logger, logger
    import logging as _std_logging

    class _PasscodeFilter(_std_logging.Filter):
        masks_stomp_passcodes = True

        def filter(self, record: _std_logging.LogRecord) -> bool:
            message = record.getMessage()
            masked = mask_passcodes(message)
            if masked is not message:
                record.msg = masked
                record.args = None
            return True

    # A module global (``global logger``): later stomp.logging.logger lookups skip
    # __getattr__.
    logger = _std_logging.getLogger("stomp.py")
    if not any(getattr(f, "masks_stomp_passcodes", False) for f in logger.filters):
        logger.addFilter(_PasscodeFilter())
    _logger = logger
    return logger


def __getattr__(name: str) -> Any:
    if name == "logger":
        return _logger or _make_logger()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def debug(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at DEBUG level (frames sent and received)."""
    (_logger or _make_logger()).debug(msg, *args, **kwargs)


def info(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at INFO level (connections established)."""
    (_logger or _make_logger()).info(msg, *args, **kwargs)


def warning(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at WARNING level (connect failures, heart-beat timeouts, listener errors)."""
    (_logger or _make_logger()).warning(msg, *args, **kwargs)


def error(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at ERROR level."""
    (_logger or _make_logger()).error(msg, *args, **kwargs)


def exception(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at ERROR level with the current exception's traceback."""
    (_logger or _make_logger()).exception(msg, *args, **kwargs)


def isEnabledFor(level: int) -> bool:
    """Whether the logger would emit a record of ``level``."""
    return (_logger or _make_logger()).isEnabledFor(level)


def setLevel(level: int | str) -> None:
    """Set the level of the ``"stomp.py"`` logger."""
    (_logger or _make_logger()).setLevel(level)


def log_to_stdout(verbose_logging: bool = True) -> None:
    """Send the package's log to standard output at DEBUG level.

    Args:
        verbose_logging: also set :data:`verbose` (tracebacks on connect failures).
    """
    global verbose
    import logging as _std_logging

    verbose = verbose_logging
    handler = _std_logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _std_logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    )
    logger = _logger or _make_logger()
    logger.addHandler(handler)
    logger.setLevel(DEBUG)
