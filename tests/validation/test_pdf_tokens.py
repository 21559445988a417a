"""The name, keyword and number readers installed into pyHanko's parser (validation/pdftokens.py)
give pyHanko's own result for every input: the value or the error, and the stream position
after it. And pyHanko parses whole objects the same with them as without."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

import validation.pdf  # noqa: F401 - installs the readers
from tests.plugin import Decree30Documents
from validation.pdftokens import (
    PYHANKO_DECODE_NAME,
    PYHANKO_DECODE_PDFDOCENCODING,
    PYHANKO_READ_NUMBER,
    PYHANKO_READ_UNTIL_DELIMITER,
    decode_name,
    decode_pdfdocencoding,
    read_number,
    read_until_delimiter,
)

_RNG_SEED = 61
_ALPHABET = (
    b"abcAZ09#_-.*+"  # regular characters, the escape sign
    b" \n\r\t\x0c\x00"  # whitespace
    b"()<>[]{}/%"  # delimiters
    b"\x01\x7f\x80\xc3\xa9\xff"  # bytes a name must escape (and UTF-8)
)


def _random(rng: random.Random, most: int) -> bytes:
    return bytes(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, most)))


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("value", call())
    except Exception as exc:  # the same error, whatever it is
        return (type(exc).__name__, str(exc))


def _read_at(reader: Callable[[Any], bytes], data: bytes, start: int) -> tuple[Any, int]:
    stream = io.BytesIO(data)
    stream.seek(start)
    result = _outcome(lambda: reader(stream))
    return result, stream.tell()


def test_keywords_and_names_end_where_pyhanko_ends_them() -> None:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - reproducible test input
    cases = [b"", b"abc", b"abc def", b"/Type/Page", b"x" * 200 + b"]", b"x" * 64, b"x" * 65]
    cases += [_random(rng, 300) for _ in range(500)]
    for data in cases:
        for start in {0, len(data) // 2, len(data)}:
            ours = _read_at(read_until_delimiter, data, start)
            assert ours == _read_at(PYHANKO_READ_UNTIL_DELIMITER, data, start), (data, start)


def test_numbers_read_as_pyhanko_reads_them() -> None:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - reproducible test input
    digits = b"0123456789+-.,e "
    cases = [b"0", b"12 0 R", b"-3.25]", b"+.5/", b"1.2.3", b"--1", b"", b"7", b"1" * 100 + b" "]
    cases += [bytes(rng.choice(digits) for _ in range(rng.randrange(0, 80))) for _ in range(800)]
    cases += [_random(rng, 60) for _ in range(300)]

    def read(reader: Callable[[Any], Any], data: bytes) -> tuple[Any, str, int]:
        stream = io.BytesIO(data)
        result = _outcome(lambda: reader(stream))
        return result, type(result[1]).__name__, stream.tell()

    for data in cases:
        assert read(read_number, data) == read(PYHANKO_READ_NUMBER, data), data


def test_text_strings_decode_as_pyhanko_decodes_them() -> None:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - reproducible test input
    cases = [b"", b"Ha Noi", bytes(range(256)), bytes(range(0x18, 0x7F)), b"\x80\x9f\xad"]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))) for _ in range(500)]
    # printable text with PDFDocEncoding's own characters (bullets, dashes, quotes, ...)
    cases += [
        bytes(rng.choice(range(0x18, 0xFF)) for _ in range(rng.randrange(0, 60)))
        for _ in range(500)
    ]
    cases += [bytearray(c) for c in cases[:50]]
    for data in cases:
        assert _outcome(lambda d=data: decode_pdfdocencoding(d)) == _outcome(
            lambda d=data: PYHANKO_DECODE_PDFDOCENCODING(d)
        ), data


def test_names_decode_as_pyhanko_decodes_them() -> None:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - reproducible test input
    cases = [b"", b"Type", b"A#20B", b"A#2", b"A#zz", b"caf\xc3\xa9", b"\x80", b"a b", b"a/b"]
    cases += [b"#" + bytes(rng.choice(b"0123456789abcdefABCDEFgz")) * 2 for _ in range(50)]
    cases += [_random(rng, 40) for _ in range(2000)]
    for name in cases:
        ours, theirs = (
            _outcome(lambda n=name: decode_name(n)),
            _outcome(lambda n=name: PYHANKO_DECODE_NAME(n)),
        )
        assert ours == theirs, name
        if ours[0] == "value":
            assert type(ours[1]) is type(theirs[1]) is generic.NameObject


def _shown(obj: Any) -> str:
    if isinstance(obj, generic.StreamObject):
        return repr(obj) + repr(obj.data)
    return repr(obj)


def test_objects_parse_the_same(sample_pdf: bytes, decree30: Decree30Documents) -> None:
    """Every object of a real document, parsed with the installed readers and with pyHanko's
    own (swapped back only inside this test: no validation runs meanwhile)."""

    def parse_all() -> list[tuple[str, Any]]:
        objects = []
        for data in (sample_pdf, decree30.final):
            reader = PdfFileReader(io.BytesIO(data), strict=True)
            for number in range(1, reader.trailer["/Size"]):
                ref = generic.Reference(number, 0, reader)
                objects.append(_outcome(lambda r=ref, rd=reader: _shown(rd.get_object(r))))
        return objects

    numbers = generic.NumberObject
    assert vars(generic)["read_until_delimiter"] is read_until_delimiter
    assert vars(generic)["_decode_name"] is decode_name
    assert vars(numbers)["read_from_stream"].__func__ is read_number
    fast = parse_all()
    try:
        vars(generic)["read_until_delimiter"] = PYHANKO_READ_UNTIL_DELIMITER
        vars(generic)["_decode_name"] = PYHANKO_DECODE_NAME
        vars(generic)["decode_pdfdocencoding"] = PYHANKO_DECODE_PDFDOCENCODING
        numbers.read_from_stream = staticmethod(PYHANKO_READ_NUMBER)  # type: ignore[method-assign]
        assert parse_all() == fast
    finally:
        vars(generic)["read_until_delimiter"] = read_until_delimiter
        vars(generic)["_decode_name"] = decode_name
        vars(generic)["decode_pdfdocencoding"] = decode_pdfdocencoding
        numbers.read_from_stream = staticmethod(read_number)  # type: ignore[method-assign]
