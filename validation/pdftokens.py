"""Faster name, keyword, number and text-string readers for pyHanko's PDF parser.

Written by hand because pyHanko 0.38 reads every name (``/Type``, ``/Kids`` ...) and keyword
one byte at a time through a Python generator, and decodes every name byte by byte through
a ``BytesIO``: names are the commonest token of a PDF, and this was a tenth of a one-page
validation; numbers (a font's widths are hundreds of them) are read through a general
16-byte loop, another tenth; and every string is tried as PDFDocEncoding one byte at a
time. Like :mod:`validation.hexstrings`, the readers are installed once, when
:mod:`validation.pdf` is imported, and never switched off; each gives pyHanko's exact result
(value, exception and stream position) for every input, and hands anything unusual to
pyHanko's own function. A test compares both on random input.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Any

from pyhanko.pdf_utils import generic, misc

__all__ = [
    "PYHANKO_DECODE_NAME",
    "PYHANKO_DECODE_PDFDOCENCODING",
    "PYHANKO_READ_NUMBER",
    "PYHANKO_READ_UNTIL_DELIMITER",
    "decode_name",
    "decode_pdfdocencoding",
    "install_fast_tokens",
    "read_number",
    "read_until_delimiter",
]

_STOP = re.compile(b"[" + re.escape(misc.PDF_WHITESPACE + misc.PDF_DELIMITERS) + b"]")
_PLAIN_NAME = re.compile(
    b"[^"
    + re.escape(misc.PDF_WHITESPACE + misc.PDF_DELIMITERS + b"#")
    + b"\\x00-\\x20\\x7f-\\xff]*"
)
"""Name bytes that pyHanko copies as they are: printable ASCII, no delimiter, no ``#``."""
_CHUNK = 64
_NOT_NUMBER = generic.NumberObject.NumberPattern


def read_until_delimiter(stream: Any) -> bytes:
    """pyHanko's ``misc.read_until_delimiter``, reading in chunks: the bytes up to the first
    whitespace or delimiter (left unread), or to the end of the stream."""
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(parts)
        stop = _STOP.search(chunk)
        if stop is not None:
            parts.append(chunk[: stop.start()])
            stream.seek(stop.start() - len(chunk), os.SEEK_CUR)
            return b"".join(parts)
        parts.append(chunk)


def read_number(stream: Any) -> generic.NumberObject | generic.FloatObject:
    """pyHanko's ``NumberObject.read_from_stream`` without its 16-byte read loop: the
    characters of ``+,-.0-9`` up to the first other one (left unread) or the end of the
    stream, a float when they hold a dot."""
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        stop = _NOT_NUMBER.search(chunk)
        if stop is not None:
            parts.append(chunk[: stop.start()])
            stream.seek(stop.start() - len(chunk), os.SEEK_CUR)
            break
        parts.append(chunk)
    number = b"".join(parts)
    if b"." in number:
        return generic.FloatObject(number.decode("ascii"))
    return generic.NumberObject(number.decode("ascii"))


_PDFDOC = vars(generic)["_pdfDocEncoding"]
_PDFDOC_TABLE = {i: c for i, c in enumerate(_PDFDOC) if c != chr(i)}
_PDFDOC_UNDEFINED_BYTE = re.compile(
    b"[" + re.escape(bytes(i for i, c in enumerate(_PDFDOC) if c == "\u0000")) + b"]"
)


def decode_pdfdocencoding(byte_array: Any) -> str:
    """pyHanko's ``decode_pdfdocencoding`` through one translation table instead of a Python
    generator per byte (pyHanko tries it on every string it reads, the 20-40 kB signature
    ``/Contents`` included): the same text, or the same error at the first byte that
    PDFDocEncoding leaves undefined."""
    if not isinstance(byte_array, bytes | bytearray):
        return PYHANKO_DECODE_PDFDOCENCODING(byte_array)
    undefined = _PDFDOC_UNDEFINED_BYTE.search(byte_array)
    if undefined is not None:
        # pyHanko's error names the first undefined byte and nothing else: its own function
        # raises it for that byte alone
        return PYHANKO_DECODE_PDFDOCENCODING(byte_array[undefined.start() : undefined.end()])
    return byte_array.decode("latin-1").translate(_PDFDOC_TABLE)


def decode_name(name_bytes: bytes) -> generic.NameObject:
    """pyHanko's ``generic._decode_name``: a plain name directly, anything else (escapes,
    bytes that must be escaped) by pyHanko's own function."""
    if _PLAIN_NAME.fullmatch(name_bytes) is None:
        return PYHANKO_DECODE_NAME(name_bytes)
    return generic.NameObject("/" + name_bytes.decode("ascii"))


_LOCK = threading.Lock()
PYHANKO_READ_UNTIL_DELIMITER: Callable[[Any], bytes] = misc.read_until_delimiter
"""pyHanko's own readers, as shipped (the fallback, and the benchmark's baseline)."""
PYHANKO_DECODE_NAME: Callable[[bytes], generic.NameObject] = generic._decode_name
PYHANKO_DECODE_PDFDOCENCODING: Callable[[Any], str] = generic.decode_pdfdocencoding
PYHANKO_READ_NUMBER: Callable[[Any], generic.NumberObject | generic.FloatObject] = vars(
    generic.NumberObject
)["read_from_stream"].__func__


def install_fast_tokens() -> None:
    """Make pyHanko's object parser use :func:`read_until_delimiter`, :func:`decode_name`,
    :func:`read_number` and :func:`decode_pdfdocencoding`, once and for good (as
    :func:`validation.hexstrings.install_fast_hex_strings` does)."""
    with _LOCK:
        # the names pyHanko's object parser looks up in its own module when it runs
        if vars(generic)["read_until_delimiter"] is not read_until_delimiter:
            vars(generic)["read_until_delimiter"] = read_until_delimiter
        if generic._decode_name is not decode_name:
            generic._decode_name = decode_name
        if vars(generic)["decode_pdfdocencoding"] is not decode_pdfdocencoding:
            vars(generic)["decode_pdfdocencoding"] = decode_pdfdocencoding
        if vars(generic.NumberObject)["read_from_stream"].__func__ is not read_number:
            generic.NumberObject.read_from_stream = staticmethod(read_number)  # type: ignore[method-assign]
