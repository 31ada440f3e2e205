"""ANSI colour codes used by the command-line client; empty strings on Windows consoles."""

from __future__ import annotations

import platform

__all__ = ["BOLD", "GREEN", "NO_COLOUR", "RED"]

# Evaluated once at import, as stomp.py does: the classic Windows console prints the
# escape sequences literally.
if platform.system() == "Windows":
    GREEN = ""
    RED = ""
    NO_COLOUR = ""
    BOLD = ""
else:
    GREEN = "\33[32m"
    RED = "\33[31m"
    NO_COLOUR = "\33[0m"
    BOLD = "\33[1m"
