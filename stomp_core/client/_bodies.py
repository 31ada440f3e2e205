"""Bodies: text in and out (conformance 37, 38); the core itself only carries bytes."""

from __future__ import annotations

import codecs

__all__ = ["charset_of", "decode_text", "encode_body"]

#: The content type given to ``str`` bodies (conformance 37).
TEXT_PLAIN_UTF8 = "text/plain;charset=utf-8"


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a MIME type, lower-cased, or ``None``.

    >>> charset_of('text/plain; Charset="ISO-8859-1"')
    'iso-8859-1'
    """
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def decode_text(body: bytes, content_type: str | None, *, errors: str = "strict") -> str:
    """Decode a body as text (conformance 38).

    The ``charset`` of the content type is honoured; without one (``text/*``, JSON, or no
    content type at all, which is how stomp.py sends text) the body is taken as UTF-8.

    Raises:
        ValueError: the charset is unknown (:class:`LookupError` is re-raised as this).
        UnicodeDecodeError: the bytes are not valid in that charset (with ``"strict"``).
    """
    charset = charset_of(content_type) or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise ValueError(f"unknown charset {charset!r} in content-type {content_type!r}") from None
    return body.decode(charset, errors)


def encode_body(
    body: bytes | bytearray | memoryview | str, content_type: str | None
) -> tuple[bytes, str | None]:
    """The octets and content type to send for ``body`` (conformance 37).

    A ``str`` is encoded with the content type's ``charset`` (UTF-8 without one) and, with
    no content type given, is labelled ``text/plain;charset=utf-8``.  Bytes pass unchanged.

    Raises:
        TypeError: ``body`` is neither text nor bytes.
        ValueError: the charset is unknown.
    """
    if isinstance(body, str):
        if content_type is None:
            return body.encode("utf-8"), TEXT_PLAIN_UTF8
        charset = charset_of(content_type) or "utf-8"
        try:
            return body.encode(charset), content_type
        except LookupError:
            raise ValueError(
                f"unknown charset {charset!r} in content-type {content_type!r}"
            ) from None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), content_type
    raise TypeError(f"a body must be str or bytes, got {type(body).__name__}")
