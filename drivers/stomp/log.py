"""stomp.py 9.0's name for :mod:`stomp.logging`: the very same module object."""

from __future__ import annotations

import sys

from . import logging as _logging

# Make ``import stomp.log`` and ``from stomp import log`` give the same module as
# ``stomp.logging``, so flags such as ``verbose`` are shared.
sys.modules[__name__] = _logging
