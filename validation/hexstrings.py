"""A faster hex-string reader for pyHanko's PDF parser.

Written by hand because pyHanko 0.38 reads a hex string one byte at a time in Python: a PAdES
signature's ``/Contents`` (20-40 kB of hex) then costs about half of a B-LT validation. The
reader is installed once, when :mod:`validation.pdf` is imported, and never switched off (no
process-wide switch flips while validations run); it gives pyHanko's exact result for every
input (unusual input goes to pyHanko's own function; a test compares the two on random
strings). An
upstream fix would make this module unnecessary.
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Callable
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
            return PYHANKO_READ_HEX_STRING(stream)
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
        return PYHANKO_READ_HEX_STRING(stream)
    stream.seek(start + len(body) + 2)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


_LOCK = threading.Lock()
PYHANKO_READ_HEX_STRING: Callable[[Any], generic.ByteStringObject | generic.TextStringObject] = (
    generic.read_hex_string_from_stream
)
"""pyHanko's own reader, as shipped (the fallback, and the benchmark's baseline)."""


def install_fast_hex_strings() -> None:
    """Make pyHanko read hex strings with :func:`read_hex_string`, once and for good.

    Installed when the validation room's PDF module is imported and never removed: no switch
    is flipped while validations (or signings in other threads) run, so every caller in the
    process sees one parser. Safe because the result is pyHanko's own for every input."""
    with _LOCK:
        if generic.read_hex_string_from_stream is not read_hex_string:
            generic.read_hex_string_from_stream = read_hex_string
