"""A faster hex-string reader for pyHanko's PDF parser.

Written by hand because pyHanko 0.38 reads a hex string one byte at a time in Python: a PAdES
signature's ``/Contents`` (20-40 kB of hex) then costs about half of a B-LT validation. The
reader is installed only while :func:`validation.pdf.validate_pdf` runs (reference-counted,
so concurrent validations share it) and gives pyHanko's exact result for every input (unusual
input goes to pyHanko's own function; a test compares the two on random strings). An
upstream fix would make this module unnecessary.
"""

from __future__ import annotations

import binascii
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pyhanko.pdf_utils import generic, misc

_HEX_DIGITS = b"0123456789abcdefABCDEF"


def read_hex_string(stream: Any) -> generic.ByteStringObject | generic.TextStringObject:
    """pyHanko's ``read_hex_string_from_stream``, without its byte-at-a-time Python loop.

    Same result and same stream position for every input: anything unusual (a comment, a
    character that is neither whitespace nor a hex digit, no closing ``>``) goes to pyHanko's
    own function. A PAdES signature's ``/Contents`` is a hex string of 20-40 kB; read one byte
    at a time it costs more than all the rest of a B-LT validation.
    """
    start = stream.tell()
    stream.read(1)  # '<'
    parts: list[bytes] = []
    size = 256
    while True:
        chunk = stream.read(size)
        if not chunk:
            stream.seek(start)
            return _HEX_FALLBACK.original(stream)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            break
        parts.append(chunk)
        size = min(size * 4, 1 << 20)
    body = b"".join(parts)
    digits = body.translate(None, misc.PDF_WHITESPACE)
    if b"%" in body or digits.translate(None, _HEX_DIGITS):
        stream.seek(start)
        return _HEX_FALLBACK.original(stream)
    stream.seek(start + len(body) + 2)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


class _HexPatch:
    """Installs :func:`read_hex_string` in pyHanko's parser while a validation runs (counted,
    so concurrent validations share it), and puts pyHanko's own back afterwards."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.original: Callable[[Any], generic.ByteStringObject | generic.TextStringObject] = (
            generic.read_hex_string_from_stream
        )

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0:
                self.original = generic.read_hex_string_from_stream
                generic.read_hex_string_from_stream = read_hex_string
            self.depth += 1
        try:
            yield
        finally:
            with self.lock:
                self.depth -= 1
                if self.depth == 0:
                    generic.read_hex_string_from_stream = self.original  # type: ignore[assignment]


_HEX_FALLBACK = _HexPatch()


def fast_hex_strings() -> contextlib.AbstractContextManager[None]:
    """While the block runs, pyHanko reads hex strings with :func:`read_hex_string`."""
    return _HEX_FALLBACK.active()
