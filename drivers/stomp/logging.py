"""Logging for the stomp package, with stomp.py 8.2's module-level interface.

Everything is logged through one standard :mod:`logging` logger named ``"stomp.py"`` (the
name stomp.py uses, so existing logging configuration keeps working).  A filter on that
logger masks passcodes in every record, whatever the caller formatted into it.

stomp.py 9.0 renamed this module ``stomp.log``; both names are provided.
"""

from __future__ import annotations

import logging as _std_logging
import sys

from ._masking import mask_passcodes

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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

DEBUG = _std_logging.DEBUG
INFO = _std_logging.INFO
WARNING = _std_logging.WARNING
ERROR = _std_logging.ERROR

#: When true, connection-failure warnings carry the traceback (as in stomp.py).
verbose = False


class _PasscodeFilter(_std_logging.Filter):
    """Rewrites each record's message with passcodes masked (never drops a record)."""

    def filter(self, record: _std_logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_passcodes(message)
        if masked is not message:
            record.msg = masked
            record.args = None
        return True


#: The logger every module of this package writes to.
logger = _std_logging.getLogger("stomp.py")
if not any(isinstance(f, _PasscodeFilter) for f in logger.filters):
    logger.addFilter(_PasscodeFilter())


def debug(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at DEBUG level (frames sent and received)."""
    logger.debug(msg, *args, **kwargs)


def info(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at INFO level (connections established)."""
    logger.info(msg, *args, **kwargs)


def warning(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at WARNING level (connect failures, heart-beat timeouts, listener errors)."""
    logger.warning(msg, *args, **kwargs)


def error(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at ERROR level."""
    logger.error(msg, *args, **kwargs)


def exception(msg: object, *args: Any, **kwargs: Any) -> None:
    """Log at ERROR level with the current exception's traceback."""
    logger.exception(msg, *args, **kwargs)


def isEnabledFor(level: int) -> bool:
    """Whether the logger would emit a record of ``level``."""
    return logger.isEnabledFor(level)


def setLevel(level: int | str) -> None:
    """Set the level of the ``"stomp.py"`` logger."""
    logger.setLevel(level)


def log_to_stdout(verbose_logging: bool = True) -> None:
    """Send the package's log to standard output at DEBUG level.

    Args:
        verbose_logging: also set :data:`verbose` (tracebacks on connect failures).
    """
    global verbose
    verbose = verbose_logging
    handler = _std_logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _std_logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(DEBUG)
