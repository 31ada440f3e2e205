"""Header value encoding: the per-version escaping of header names and values.

STOMP 1.0 has no escaping at all.  STOMP 1.1 ("Value Encoding") escapes backslash,
LF and colon as ``\\\\``, ``\\n`` and ``\\c``; STOMP 1.2 adds CR as ``\\r``.  The tables
live in :class:`~stomp_core._versions.VersionRules` (``escape`` and ``unescape``); this
module applies them.

Two rules shape the code (conformance items 23-30):

* Decoding is one left-to-right pass, so the wire text ``\\\\n`` is a backslash followed
  by ``n``, never a backslash followed by LF (chained ``replace`` calls get this wrong).
* An escape the version does not define (``\\t``, a trailing lone backslash, ``\\r`` in
  1.1) is fatal: spec 1.2 "Value Encoding" says such sequences MUST be treated as a
  fatal protocol error.

Encoding refuses what the version cannot represent (a CR in 1.1, a CR or LF in 1.0, a
colon in a 1.0 header name) with :class:`LocalProtocolError` instead of producing a
frame the peer would misread (conformance items 20, 24 and 25).
"""

from __future__ import annotations

from ._errors import LocalProtocolError, RemoteProtocolError
from ._versions import VersionRules

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

__all__ = ["escape_header", "unescape_header"]

# A backslash and the character after it (or nothing, for a trailing lone backslash).
# Compiled by re's own cache where first needed: importing re is a fifth of
# ``import stomp_core`` (issue 13: import time).
_ESCAPE_SEQUENCE = r"\\(.?)"

# str.translate tables built once per escape table (keyed by the table's identity:
# VersionRules objects are module-level constants).
_TRANSLATE_CACHE: dict[int, dict[int, str]] = {}


def _translate_table(escape: dict[str, str]) -> dict[int, str]:
    table = _TRANSLATE_CACHE.get(id(escape))
    if table is None:
        table = _TRANSLATE_CACHE[id(escape)] = str.maketrans(escape)
    return table


def escape_header(text: str, rules: VersionRules, *, name: bool = False) -> str:
    """Encode a header name or value for the wire under ``rules``.

    Args:
        text: the header name or value as the application sees it.
        rules: the negotiated version's rules.
        name: ``True`` when ``text`` is a header name.  Only matters for STOMP 1.0, where
            a colon cannot appear in a name (the line is split at the first colon) but
            may appear raw in a value.

    Returns:
        The escaped text (``text`` itself when nothing needs escaping).

    Raises:
        LocalProtocolError: the version cannot represent ``text``: LF or CR in 1.0 (no
            escaping exists), a colon in a 1.0 name, a CR in 1.1 (1.1 defines no ``\\r``
            escape), or a NUL in any version (NUL ends a frame).
    """
    if "\x00" in text:
        raise LocalProtocolError(f"a header cannot contain NUL: {text!r}")
    escape = rules.escape
    if not escape:
        # STOMP 1.0: no escaping, so anything that would break the line is refused.
        if "\n" in text or "\r" in text:
            raise LocalProtocolError(
                f"STOMP 1.0 cannot encode CR or LF in a header (no escaping): {text!r}"
            )
        if name and ":" in text:
            raise LocalProtocolError(f"STOMP 1.0 cannot encode ':' in a header name: {text!r}")
        return text
    if "\r" in text and "\r" not in escape:
        # STOMP 1.1 "Value Encoding" defines no escape for CR and a 1.1 reader keeps a
        # raw CR as data only if it is not before LF; refuse rather than guess.
        raise LocalProtocolError(
            f"STOMP {rules.version} cannot encode CR in a header (needs 1.2): {text!r}"
        )
    if "\\" in text or ":" in text or "\n" in text or "\r" in text:
        return text.translate(_translate_table(escape))
    return text


def unescape_header(text: str, rules: VersionRules) -> str:
    """Decode a header name or value received under ``rules``, in one left-to-right pass.

    Args:
        text: the header name or value as it appeared on the wire (already split at the
            first raw colon, conformance 30).
        rules: the negotiated version's rules; for STOMP 1.0 ``text`` is returned as is.

    Returns:
        The decoded text.

    Raises:
        RemoteProtocolError: an escape sequence the version does not define (spec 1.2
            "Value Encoding": "MUST be treated as a fatal protocol error").
    """
    unescape = rules.unescape
    if not unescape or "\\" not in text:
        return text
    # Only \c sequences (every escaping version, 1.1 and 1.2, defines it): what
    # ActiveMQ's message ids hold (the colons of "ID:host-port-...").  Exact when no
    # backslash is left: each one then started a \c.  (FrameReader inlines this step
    # for the values of received frames.)
    decoded = text.replace("\\c", ":")
    if "\\" not in decoded:
        return decoded
    if "\\\\" not in text:
        # No escaped backslash: every backslash starts a sequence of its own and no
        # replacement makes a new one, so plain replaces decode it (ActiveMQ's message
        # ids hold several "\\c").  A backslash left over is an undefined sequence:
        # the pass below words the error.
        decoded = text
        for char, replacement in unescape.items():
            decoded = decoded.replace("\\" + char, replacement)
        if "\\" not in decoded:
            return decoded

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        try:
            return unescape[char]
        except KeyError:
            raise RemoteProtocolError(
                f"undefined escape sequence {match.group(0)!r} in header {text!r} "
                f"(STOMP {rules.version} 'Value Encoding')"
            ) from None

    import re

    return re.sub(_ESCAPE_SEQUENCE, replace, text, flags=re.DOTALL)
