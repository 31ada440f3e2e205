"""Masking of passcodes in text that may reach a log (stomp.py leaked them, quirk 18)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

__all__ = ["MASK", "mask_passcodes"]

#: What a passcode is replaced with (stomp.py's choice, kept for familiarity).
MASK = "********"

# The patterns, compiled with re on the first text that names a passcode: re costs a
# few milliseconds of ``import stomp`` (issue 13: import time).
_patterns: tuple[re.Pattern[str], re.Pattern[str]] | None = None


def _compile() -> tuple[re.Pattern[str], re.Pattern[str]]:
    global _patterns
    import re

    # A quoted key as in the repr of a dict: 'passcode': 'secret' (either quote style;
    # the value may hold escaped quotes).
    quoted = re.compile(r"""(['"]passcode['"]\s*:\s*)(['"])(?:\\.|(?!\2).)*\2""", re.IGNORECASE)
    # The wire form passcode:secret (or passcode=secret in a message) up to the end of
    # the line; inside the repr of bytes the line ends at a literal backslash (\n, \r)
    # or quote.
    bare = re.compile(
        r"""(?:(?<=\\n)|(?<=\\r)|(?<![\w-]))"""  # after a (repr'd) line end or a non-word
        r"""(passcode)\s*([:=])\s*(?!['"])[^\r\n'"\\]*""",
        re.IGNORECASE,
    )
    _patterns = (quoted, bare)
    return _patterns


def mask_passcodes(text: str) -> str:
    """Return ``text`` with every passcode value replaced by :data:`MASK`.

    Args:
        text: a log message, a frame rendered as text, or the repr of headers or bytes.

    Returns:
        The same text with the values masked.
    """
    if "passcode" not in text.lower():
        return text
    quoted, bare = _patterns or _compile()
    text = quoted.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    # "passcode: x" becomes "passcode:********", as stomp.py's clean_lines writes it.
    return bare.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
