"""The revision structure of a PDF, read from its bytes by a reader of our own.

Why by hand: the attacks this module stops live in the places where two PDF readers resolve
the same bytes differently (ISO 32000 leaves them undefined or readers are lenient in
different ways). pyHanko judges one reading of the file, poppler, qpdf and Acrobat show
another; a second opinion that reuses pyHanko's parser would share its blind spots, and no
library reports the ambiguities themselves. So this is a small, strict, independent reader of
exactly the parts that decide *which bytes are which object in which revision*: the
``startxref`` chain, every cross-reference table and stream (entries kept as written,
duplicates included), the trailers, and the object header at every offset. It parses no page
content; pyHanko does all other PDF work.

What it reports (each a :class:`Ambiguity`, naming the revision it was found in):

* an object listed twice in one cross-reference section (two subsections of a table, two
  ``/Index`` ranges of a stream, or a hybrid file's table and stream disagreeing): pyHanko
  keeps one definition, poppler and qpdf the other;
* an in-use entry whose offset does not hold that object's header (``N G obj``): readers then
  reconstruct the table by scanning, each their own way;
* an object stream or cross-reference stream redefined after a revision used it: the older
  revision's objects would then be read out of the newer stream;
* a section that cannot be read, a ``/Prev`` chain that loops or leaves the file, sections that
  overlap, entries beyond the section's ``/Size`` (some readers drop them);
* a trailer or cross-reference stream dictionary with a key written twice.

:func:`signed_revision` then says, from the bytes alone, which revision a ``/ByteRange`` ends
with (the signed range must end at that revision's ``%%EOF``).
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Ambiguity",
    "Entry",
    "Section",
    "Structure",
    "content_operations",
    "read_structure",
    "signed_revision",
]

WHITESPACE = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
MAX_SECTIONS = 4096
MAX_ENTRIES = 2_000_000
MAX_XREF_STREAM = 64 * 1024 * 1024
MAX_DEPTH = 32

_HEADER = re.compile(
    rb"[\x00\t\n\x0c\r ]*(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj"
)
_TAIL = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d{1,20})[\x00\t\n\x0c\r ]+%%EOF(\r\n|\r|\n)?\Z")
_EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?")


@dataclass(frozen=True, slots=True)
class Entry:
    """One cross-reference entry as written: ``kind`` 0 free, 1 at ``offset``, 2 the
    ``index``-th object of object stream ``stream``."""

    number: int
    kind: int
    generation: int = 0
    offset: int = 0
    stream: int = 0
    index: int = 0


@dataclass(slots=True)
class Section:
    """One cross-reference section of the ``startxref``/``/Prev`` chain (a *revision*, in
    pyHanko's numbering: 0 is the oldest)."""

    offset: int
    kind: Literal["table", "stream"]
    start: int = 0
    """Where the section's bytes begin (the ``xref`` keyword or the stream's object header)."""
    end: int = 0
    """Where the section's bytes (trailer included) end."""
    eof_end: int = 0
    """After the ``%%EOF`` line that closes this section (0 when none follows)."""
    size: int = 0
    prev: int | None = None
    hybrid: int | None = None
    stream_number: int | None = None
    entries: dict[int, Entry] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ambiguity:
    revision: int
    en: str
    vi: str


@dataclass(slots=True)
class Structure:
    sections: list[Section] = field(default_factory=list)
    """Chronological: the oldest revision first."""
    problems: list[Ambiguity] = field(default_factory=list)
    complete: bool = True
    """Every section of the chain was read (else revision numbers cannot be trusted)."""

    def revision_of_startxref(self, offset: int) -> int | None:
        for number, section in enumerate(self.sections):
            if section.offset == offset:
                return number
        return None


class _Malformed(Exception):
    pass


# -- a minimal object parser (trailers and cross-reference stream dictionaries only) ---------


@dataclass(frozen=True, slots=True)
class _Ref:
    number: int
    generation: int


class _Name(str):
    __slots__ = ()


_NUMBER = re.compile(rb"[+-]?(\d+\.?\d*|\.\d+)")
_REF = re.compile(
    rb"(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
)


class _Parser:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos
        self.duplicates: list[str] = []
        self.refs: list[int] = []

    def skip(self) -> None:
        data, n = self.data, len(self.data)
        while self.pos < n:
            c = data[self.pos]
            if c in WHITESPACE:
                self.pos += 1
            elif c == 0x25:  # % comment
                end = data.find(b"\n", self.pos)
                cr = data.find(b"\r", self.pos)
                ends = [e for e in (end, cr) if e >= 0]
                self.pos = min(ends) + 1 if ends else n
            else:
                return

    def value(self, depth: int = 0) -> object:
        if depth > MAX_DEPTH:
            raise _Malformed("objects nested too deeply")
        self.skip()
        data = self.data
        if self.pos >= len(data):
            raise _Malformed("unexpected end of file")
        c = data[self.pos : self.pos + 2]
        if c == b"<<":
            self.pos += 2
            result: dict[str, object] = {}
            while True:
                self.skip()
                if data.startswith(b">>", self.pos):
                    self.pos += 2
                    return result
                key = self.value(depth + 1)
                if not isinstance(key, _Name):
                    raise _Malformed("a dictionary key is not a name")
                item = self.value(depth + 1)
                if key in result:
                    self.duplicates.append(str(key))
                result[key] = item
        if c[:1] == b"[":
            self.pos += 1
            items: list[object] = []
            while True:
                self.skip()
                if data.startswith(b"]", self.pos):
                    self.pos += 1
                    return items
                items.append(self.value(depth + 1))
        if c[:1] == b"/":
            end = self.pos + 1
            while end < len(data) and data[end] not in WHITESPACE and data[end] not in DELIMITERS:
                end += 1
            name = data[self.pos + 1 : end]
            self.pos = end
            return _Name(_unescape_name(name))
        if c[:1] == b"(":
            return self._literal()
        if c[:1] == b"<":
            end = data.find(b">", self.pos)
            if end < 0:
                raise _Malformed("unterminated hex string")
            raw = data[self.pos + 1 : end].translate(None, WHITESPACE)
            self.pos = end + 1
            if len(raw) % 2:
                raw += b"0"
            try:
                return bytes.fromhex(raw.decode("ascii"))
            except ValueError as exc:
                raise _Malformed("bad hex string") from exc
        ref = _REF.match(data, self.pos)
        if ref:
            self.pos = ref.end()
            self.refs.append(int(ref.group(1)))
            return _Ref(int(ref.group(1)), int(ref.group(2)))
        number = _NUMBER.match(data, self.pos)
        if number:
            self.pos = number.end()
            text = number.group(0)
            return float(text) if b"." in text else int(text)
        for word, result_value in ((b"true", True), (b"false", False), (b"null", None)):
            if data.startswith(word, self.pos):
                self.pos += len(word)
                return result_value
        raise _Malformed(f"unexpected bytes at {self.pos}")

    def _literal(self) -> bytes:
        data = self.data
        depth = 0
        out = bytearray()
        pos = self.pos
        while pos < len(data):
            c = data[pos]
            if c == 0x5C:  # backslash: the escaped byte is never a delimiter
                out += data[pos + 1 : pos + 2]
                pos += 2
                continue
            if c == 0x28:
                depth += 1
                if depth == 1:
                    pos += 1
                    continue
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    self.pos = pos + 1
                    return bytes(out)
            out.append(c)
            pos += 1
        raise _Malformed("unterminated string")


def _unescape_name(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        if (
            raw[i] == 0x23
            and i + 2 < len(raw)
            and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 1 : i + 3])
        ):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return "/" + out.decode("latin-1")


# -- sections -------------------------------------------------------------------------------


def read_structure(data: bytes) -> Structure:
    """Follow the ``startxref`` chain from the end of ``data`` and read every section."""
    structure = Structure()
    newest_first: list[Section] = []
    tail = _last_startxref(data)
    if tail is None:
        structure.complete = False
        structure.problems.append(
            Ambiguity(
                0,
                "the file does not end with startxref and %%EOF",
                "tệp không kết thúc bằng startxref và %%EOF",
            )
        )
        return structure
    seen: set[int] = set()
    offset: int | None = tail
    found: list[tuple[int, str, str]] = []  # (index counted from the newest, en, vi)
    while offset is not None:
        if offset in seen or len(seen) >= MAX_SECTIONS:
            structure.complete = False
            found.append(
                (
                    0,
                    "the chain of cross-reference sections loops",
                    "chuỗi bảng tham chiếu chéo bị lặp vòng",
                )
            )
            break
        seen.add(offset)
        try:
            section, duplicates = _read_section(data, offset)
        except _Malformed as exc:
            structure.complete = False
            found.append(
                (
                    len(newest_first),
                    f"a cross-reference section at byte {offset} cannot be read: {exc}",
                    f"không đọc được bảng tham chiếu chéo tại byte {offset}",
                )
            )
            break
        found.extend((len(newest_first), en, vi) for en, vi in duplicates)
        newest_first.append(section)
        offset = section.prev
    structure.sections = list(reversed(newest_first))
    newest = len(newest_first) - 1
    structure.problems = [Ambiguity(max(0, newest - index), en, vi) for index, en, vi in found]
    _check(data, structure)
    if not structure.problems:
        _check_objects(data, structure)
    return structure


def _last_startxref(data: bytes) -> int | None:
    end = len(data)
    while True:
        end = data.rfind(b"%%EOF", 0, end)
        if end < 0:
            return None
        if end == 0 or data[end - 1] in b"\r\n":
            break
    keyword = data.rfind(b"startxref", max(0, end - 64), end)
    if keyword < 0:
        return None
    digits = data[keyword + 9 : end].strip(WHITESPACE)
    if not digits.isdigit():
        return None
    return int(digits)


def _read_section(data: bytes, offset: int) -> tuple[Section, list[tuple[str, str]]]:
    if not 0 <= offset < len(data):
        raise _Malformed("its offset lies outside the file")
    pos = offset
    while pos < len(data) and data[pos] in WHITESPACE:
        pos += 1
    if data.startswith(b"xref", pos):
        return _read_table(data, offset, pos)
    return _read_stream(data, offset, pos)


def _read_table(data: bytes, offset: int, pos: int) -> tuple[Section, list[tuple[str, str]]]:
    section = Section(offset=offset, kind="table", start=pos)
    problems: list[tuple[str, str]] = []
    pos += 4
    subsection = re.compile(
        rb"[\x00\t\n\x0c\r ]*(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,10})[\t\x0c ]*(\r\n|\r|\n)"
    )
    entry = re.compile(rb"[\x00\t\n\x0c\r ]*(\d{10}) (\d{5}) ([nf])(?: ?(?:\r\n|\r|\n))")
    total = 0
    while True:
        head = subsection.match(data, pos)
        if head is None:
            break
        first, count = int(head.group(1)), int(head.group(2))
        total += count
        if total > MAX_ENTRIES:
            raise _Malformed("too many entries")
        pos = head.end()
        for number in range(first, first + count):
            line = entry.match(data, pos)
            if line is None:
                raise _Malformed(f"entry for object {number} is not in the standard form")
            pos = line.end()
            value = int(line.group(1))
            generation = int(line.group(2))
            kind = 1 if line.group(3) == b"n" else 0
            _add(section, Entry(number, kind, generation, offset=value), problems)
    while pos < len(data) and data[pos] in WHITESPACE:
        pos += 1
    if not data.startswith(b"trailer", pos):
        raise _Malformed("the table is not followed by its trailer")
    parser = _Parser(data, pos + 7)
    trailer = parser.value()
    if not isinstance(trailer, dict):
        raise _Malformed("the trailer is not a dictionary")
    section.end = parser.pos
    _dictionary_duplicates(parser, "trailer", "trailer", problems)
    _trailer_fields(section, trailer)
    hybrid = trailer.get("/XRefStm")
    if hybrid is not None:
        if not isinstance(hybrid, int):
            raise _Malformed("/XRefStm is not a number")
        section.hybrid = hybrid
        stream, stream_problems = _read_stream(data, hybrid, hybrid)
        problems.extend(stream_problems)
        for number, item in stream.entries.items():
            mine = section.entries.get(number)
            if mine is not None and mine.kind != 0 and mine != item:
                problems.append(
                    (
                        f"object {number} is defined differently by the cross-reference table "
                        "and the cross-reference stream of the same revision",
                        f"đối tượng {number} được bảng và luồng tham chiếu chéo của cùng một "
                        "phiên bản định nghĩa khác nhau",
                    )
                )
            elif mine is None or mine.kind == 0:
                section.entries[number] = item
    _find_eof(data, section)
    return section, problems


def _read_stream(data: bytes, offset: int, pos: int) -> tuple[Section, list[tuple[str, str]]]:
    header = _HEADER.match(data, pos)
    if header is None:
        raise _Malformed("no cross-reference table or stream at its offset")
    section = Section(offset=offset, kind="stream", start=pos)
    section.stream_number = int(header.group(1))
    problems: list[tuple[str, str]] = []
    parser = _Parser(data, header.end())
    stream_dict = parser.value()
    if not isinstance(stream_dict, dict) or stream_dict.get("/Type") != "/XRef":
        raise _Malformed("the object at its offset is not a cross-reference stream")
    _dictionary_duplicates(parser, "cross-reference stream", "luồng tham chiếu chéo", problems)
    parser.skip()
    if not data.startswith(b"stream", parser.pos):
        raise _Malformed("the cross-reference stream has no data")
    body = parser.pos + 6
    if data.startswith(b"\r\n", body):
        body += 2
    elif data[body : body + 1] in (b"\n", b"\r"):
        body += 1
    length = stream_dict.get("/Length")
    if not isinstance(length, int) or length < 0 or body + length > len(data):
        raise _Malformed("the cross-reference stream's /Length is not a usable direct number")
    rest = body + length
    while rest < len(data) and data[rest] in WHITESPACE:
        rest += 1
    if not data.startswith(b"endstream", rest):
        raise _Malformed("the cross-reference stream's /Length does not end at endstream")
    section.end = rest + 9
    raw = _decode(data[body : body + length], stream_dict)
    _trailer_fields(section, stream_dict)
    widths = stream_dict.get("/W")
    if (
        not isinstance(widths, list)
        or len(widths) != 3
        or not all(isinstance(w, int) and 0 <= w <= 8 for w in widths)
    ):
        raise _Malformed("bad /W")
    w1, w2, w3 = (int(w) for w in widths)
    index = stream_dict.get("/Index", [0, section.size])
    if not isinstance(index, list) or len(index) % 2 or not all(isinstance(i, int) for i in index):
        raise _Malformed("bad /Index")
    width = w1 + w2 + w3
    if width == 0:
        raise _Malformed("bad /W")
    pos_in = 0
    total = 0
    for first, count in zip(index[0::2], index[1::2], strict=True):
        assert isinstance(first, int) and isinstance(count, int)  # noqa: S101 - checked above
        total += count
        if count < 0 or first < 0 or total > MAX_ENTRIES:
            raise _Malformed("bad /Index")
        for number in range(first, first + count):
            row = raw[pos_in : pos_in + width]
            if len(row) < width:
                raise _Malformed("the cross-reference stream is shorter than its /Index says")
            pos_in += width
            kind = int.from_bytes(row[:w1], "big") if w1 else 1
            second = int.from_bytes(row[w1 : w1 + w2], "big")
            third = int.from_bytes(row[w1 + w2 :], "big") if w3 else 0
            if kind == 1:
                item = Entry(number, 1, third, offset=second)
            elif kind == 2:
                item = Entry(number, 2, 0, stream=second, index=third)
            elif kind == 0:
                item = Entry(number, 0, third)
            else:
                continue  # ISO 32000: unknown types are ignored (references to them are null)
            _add(section, item, problems)
    _find_eof(data, section)
    return section, problems


def _decode(raw: bytes, stream_dict: dict[str, object]) -> bytes:
    filters = stream_dict.get("/Filter")
    params = stream_dict.get("/DecodeParms")
    if isinstance(filters, list):
        if len(filters) > 1:
            raise _Malformed("more than one filter on the cross-reference stream")
        filters = filters[0] if filters else None
        params = params[0] if isinstance(params, list) and params else params
    if filters is None:
        out = raw
    elif filters == "/FlateDecode":
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(raw, MAX_XREF_STREAM)
        except zlib.error as exc:
            raise _Malformed(f"the cross-reference stream cannot be inflated: {exc}") from exc
        if inflater.unconsumed_tail:
            raise _Malformed("the cross-reference stream is too large")
    else:
        raise _Malformed(f"unsupported filter {filters} on the cross-reference stream")
    if isinstance(params, dict):
        predictor = params.get("/Predictor", 1)
        if predictor in (None, 1):
            return out
        if not isinstance(predictor, int) or predictor < 10:
            raise _Malformed(f"unsupported predictor {predictor}")
        columns = params.get("/Columns", 1)
        if not isinstance(columns, int) or not 0 < columns <= 64:
            raise _Malformed("bad /Columns")
        return _png_unpredict(out, columns)
    return out


def _png_unpredict(raw: bytes, columns: int) -> bytes:
    """PNG row filters (ISO 32000-1 7.4.4.4, predictors 10-15), one byte per pixel."""
    out = bytearray()
    previous = bytearray(columns)
    stride = columns + 1
    for start in range(0, len(raw) - len(raw) % stride, stride):
        kind = raw[start]
        row = bytearray(raw[start + 1 : start + stride])
        for i in range(columns):
            left = row[i - 1] if i else 0
            up = previous[i]
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                corner = previous[i - 1] if i else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                row[i] = (row[i] + pred) & 0xFF
            elif kind != 0:
                raise _Malformed("bad PNG predictor row")
        out += row
        previous = row
    return bytes(out)


def _add(section: Section, item: Entry, problems: list[tuple[str, str]]) -> None:
    if item.number in section.entries:
        problems.append(
            (
                f"object {item.number} is listed more than once in one cross-reference section: "
                "PDF readers disagree on which definition counts",
                f"đối tượng {item.number} xuất hiện nhiều lần trong cùng một bảng tham chiếu chéo: "
                "các phần mềm đọc PDF hiểu khác nhau về định nghĩa nào có hiệu lực",
            )
        )
        return
    section.entries[item.number] = item


def _dictionary_duplicates(
    parser: _Parser, what_en: str, what_vi: str, problems: list[tuple[str, str]]
) -> None:
    for key in dict.fromkeys(parser.duplicates):
        problems.append(
            (
                f"the {what_en} dictionary defines {key} more than once",
                f"từ điển {what_vi} định nghĩa {key} nhiều lần",
            )
        )


def _trailer_fields(section: Section, trailer: dict[str, object]) -> None:
    size = trailer.get("/Size")
    if not isinstance(size, int) or size < 0:
        raise _Malformed("/Size is missing or not a number")
    section.size = size
    prev = trailer.get("/Prev")
    if prev is not None and not isinstance(prev, int):
        raise _Malformed("/Prev is not a number")
    section.prev = prev


def _find_eof(data: bytes, section: Section) -> None:
    found = _EOF.search(data, section.end)
    if found is not None:
        section.eof_end = found.end()


# -- checks across sections -----------------------------------------------------------------


def _check(data: bytes, structure: Structure) -> None:
    problems = structure.problems
    sections = structure.sections
    spans = sorted((s.start, s.end, n) for n, s in enumerate(sections))
    for (_, end_a, rev_a), (start_b, _, rev_b) in itertools.pairwise(spans):
        if start_b < end_a:
            problems.append(
                Ambiguity(
                    max(rev_a, rev_b),
                    "two cross-reference sections overlap in the file",
                    "hai bảng tham chiếu chéo chồng lên nhau trong tệp",
                )
            )
    containers: dict[int, int] = {}  # object stream / xref stream number -> first revision using it
    for revision, section in enumerate(sections):
        for item in section.entries.values():
            if item.kind == 2:
                containers.setdefault(item.stream, revision)
        if section.stream_number is not None:
            containers.setdefault(section.stream_number, revision)
    for revision, section in enumerate(sections):
        for item in section.entries.values():
            if item.number >= section.size and item.number != section.stream_number:
                problems.append(
                    Ambiguity(
                        revision,
                        f"object {item.number} is listed beyond the section's /Size "
                        f"({section.size}): some readers ignore it",
                        f"đối tượng {item.number} nằm ngoài /Size ({section.size}) của bảng "
                        "tham chiếu chéo: một số phần mềm đọc bỏ qua nó",
                    )
                )
            if item.kind == 1:
                problem = _header_problem(data, item)
                if problem is not None:
                    problems.append(Ambiguity(revision, *problem))
            used = containers.get(item.number)
            if used is not None and used < revision and item.kind != 0:
                problems.append(
                    Ambiguity(
                        revision,
                        f"object stream {item.number}, which holds objects of an earlier "
                        "revision, is redefined: those objects would be read from the new one",
                        f"luồng đối tượng {item.number} chứa đối tượng của phiên bản trước bị "
                        "định nghĩa lại: các đối tượng đó sẽ bị đọc từ luồng mới",
                    )
                )
            if item.kind == 2:
                holder = _latest(sections, revision, item.stream)
                if holder is None or holder.kind != 1:
                    problems.append(
                        Ambiguity(
                            revision,
                            f"object {item.number} is said to be in object stream {item.stream}, "
                            "which is not an uncompressed object",
                            f"đối tượng {item.number} được cho là nằm trong luồng đối tượng "
                            f"{item.stream}, nhưng luồng này không phải đối tượng không nén",
                        )
                    )


def _latest(sections: list[Section], revision: int, number: int) -> Entry | None:
    for section in reversed(sections[: revision + 1]):
        item = section.entries.get(number)
        if item is not None:
            return item
    return None


def _header_problem(data: bytes, item: Entry) -> tuple[str, str] | None:
    if item.number == 0:
        return None
    header = _HEADER.match(data, item.offset) if item.offset < len(data) else None
    if header is not None and (int(header.group(1)), int(header.group(2))) == (
        item.number,
        item.generation,
    ):
        return None
    return (
        f"the cross-reference entry of object {item.number} points to byte {item.offset}, "
        "which does not hold that object: readers that rebuild the table may read another one",
        f"mục tham chiếu chéo của đối tượng {item.number} trỏ tới byte {item.offset}, nơi không "
        "chứa đối tượng đó: phần mềm đọc dựng lại bảng có thể đọc một đối tượng khác",
    )


# -- the objects themselves ------------------------------------------------------------------

MAX_OBJECTS_PARSED = 200_000
_OBJ_END = re.compile(rb"[\x00\t\n\x0c\r ]*endobj")


def _check_objects(data: bytes, structure: Structure) -> None:
    """Every object of every revision (in object streams too) read strictly by our own
    parser: what pyHanko reads leniently (a dictionary closed by a lone ``>``, a ``%`` inside a
    hex string taken for a comment, an object stream whose first offset leaves room for
    another object, a number listed twice in an object stream's header) other readers read
    differently. The original revision too: a draft can hide, in bytes the signer signed, a
    reference that a later "form fill" supplies."""
    sections = structure.sections
    # a linearized file's first-page section is a second "revision" written *before* the
    # main one (its /Prev points forward): both are one revision of the file's bytes
    horizon = list(range(len(sections)))
    for revision in range(len(sections) - 2, -1, -1):
        if sections[revision + 1].offset < sections[revision].offset:
            horizon[revision] = horizon[revision + 1]
    seen_streams: dict[tuple[int, int], tuple[list[int], dict[int, list[int]]]] = {}
    budget = [MAX_OBJECTS_PARSED]
    for revision, section in enumerate(sections):
        for item in section.entries.values():
            problem: tuple[str, str] | None = None
            refs: list[int] = []
            try:
                if item.kind == 2:
                    holder = _latest(sections, revision, item.stream)
                    if holder is None or holder.kind != 1:
                        continue  # reported by _check
                    key = (item.stream, holder.offset)
                    if key not in seen_streams:
                        seen_streams[key] = _object_stream_numbers(
                            data,
                            sections,
                            revision,
                            holder,
                            strict_objects=True,
                            budget=budget,
                        )
                    numbers, stream_refs = seen_streams[key]
                    refs = stream_refs.get(item.number, [])
                    if item.index >= len(numbers) or numbers[item.index] != item.number:
                        problem = (
                            f"object {item.number} is not where the cross-reference stream "
                            f"says in object stream {item.stream}",
                            f"đối tượng {item.number} không nằm đúng vị trí trong luồng đối "
                            f"tượng {item.stream} như bảng tham chiếu chéo ghi",
                        )
                elif item.kind == 1 and item.number != section.stream_number:
                    refs = _strict_object(data, sections, revision, item, budget)
            except _Malformed as exc:
                problem = (
                    f"object {item.number} cannot be read strictly ({exc}): readers disagree "
                    "on what it contains",
                    f"đối tượng {item.number} không đọc được theo đúng chuẩn: các "
                    "phần mềm đọc hiểu nội dung của nó khác nhau",
                )
            if problem is None:
                problem = _dangling(sections, horizon[revision], item.number, refs)
            if problem is not None:
                structure.problems.append(Ambiguity(revision, *problem))
    if budget[0] < 0:
        # fail closed: padding a file with objects must not buy the rest an unchecked pass
        structure.problems.append(
            Ambiguity(
                len(sections) - 1,
                f"the file has more than {MAX_OBJECTS_PARSED} objects: they cannot all be read "
                "strictly, so what readers show cannot be checked",
                f"tệp có hơn {MAX_OBJECTS_PARSED} đối tượng: không thể đọc hết theo đúng chuẩn "
                "nên không kiểm tra được nội dung phần mềm đọc hiển thị",
            )
        )


def _dangling(
    sections: list[Section], revision: int, number: int, refs: list[int]
) -> tuple[str, str] | None:
    """A reference to an object that does not exist in this revision (readers take it for
    null, and editors leave such references behind: harmless) which a *later* revision
    then supplies: readers show the new object, while the change analysis, which walks only
    some references, may never notice."""
    for target in dict.fromkeys(refs):
        entry = _latest(sections, revision, target)
        if entry is not None and entry.kind != 0:
            continue
        later = next(
            (
                n
                for n in range(revision + 1, len(sections))
                if (e := sections[n].entries.get(target)) is not None and e.kind != 0
            ),
            None,
        )
        if later is not None:
            return (
                f"object {number} refers to object {target}, which does not exist in that "
                f"revision and is supplied by revision {later}: what it shows was never signed",
                f"đối tượng {number} tham chiếu tới đối tượng {target} không tồn tại trong "
                f"phiên bản đó và được bổ sung ở phiên bản {later}: nội dung nó hiển thị chưa "
                "từng được ký",
            )
    return None


def _stream_body(
    data: bytes,
    sections: list[Section],
    revision: int,
    item: Entry,
    *,
    indirect_length: bool = True,
) -> tuple[dict[str, object], int, int]:
    """The dictionary, and where the raw data starts and ends, of the stream object ``item``
    (offsets, not a copy: a stream may be hundreds of megabytes)."""
    header = _HEADER.match(data, item.offset)
    if header is None:
        raise _Malformed("no object header")
    parser = _Parser(data, header.end())
    stream_dict = parser.value()
    if parser.duplicates:
        raise _Malformed(f"key {parser.duplicates[0]} written twice")
    if not isinstance(stream_dict, dict):
        raise _Malformed("not a stream")
    parser.skip()
    if not data.startswith(b"stream", parser.pos):
        raise _Malformed("not a stream")
    body = parser.pos + 6
    while data[body : body + 1] in (b" ", b"\t"):
        body += 1  # spaces before the end of line, as the usual readers tolerate
    if data.startswith(b"\r\n", body):
        body += 2
    elif data[body : body + 1] in (b"\n", b"\r"):
        body += 1
    else:
        raise _Malformed("no end of line after the stream keyword")
    length = stream_dict.get("/Length")
    if isinstance(length, _Ref):
        if not indirect_length:
            raise _Malformed("the /Length of the object stream holding a /Length is indirect")
        length = _resolve_number(data, sections, revision, length.number)
    if not isinstance(length, int) or length < 0 or body + length > len(data):
        raise _Malformed("bad /Length")
    rest = body + length
    while rest < len(data) and data[rest] in WHITESPACE:
        rest += 1
    if not data.startswith(b"endstream", rest):
        raise _Malformed("/Length does not end at endstream")
    end = _OBJ_END.match(data, rest + 9)
    if end is None:
        raise _Malformed("no endobj after the stream")
    return stream_dict, body, body + length


def _resolve_number(data: bytes, sections: list[Section], revision: int, number: int) -> object:
    """The value of object ``number`` in ``revision``, for an indirect ``/Length``: a plain
    object, or one in an object stream (whose own /Length must be direct)."""
    target = _latest(sections, revision, number)
    if target is not None and target.kind == 1:
        header = _HEADER.match(data, target.offset)
        if header is not None:
            return _Parser(data, header.end()).value()
    if target is not None and target.kind == 2:
        holder = _latest(sections, revision, target.stream)
        if holder is not None and holder.kind == 1:
            stream_dict, start, stop = _stream_body(
                data, sections, revision, holder, indirect_length=False
            )
            first = stream_dict.get("/First")
            decoded = _decode(data[start:stop], stream_dict)
            if isinstance(first, int) and 0 <= first <= len(decoded):
                head = decoded[:first].split()
                pairs = list(zip(head[0::2], head[1::2], strict=False))
                if target.index < len(pairs) and pairs[target.index][0] == str(number).encode():
                    offset = int(pairs[target.index][1])
                    return _Parser(decoded, first + offset).value()
    raise _Malformed("its /Length cannot be resolved")


def _strict_object(
    data: bytes, sections: list[Section], revision: int, item: Entry, budget: list[int]
) -> list[int]:
    """Parse object ``item`` strictly; the object numbers it refers to."""
    budget[0] -= 1
    if budget[0] < 0:
        return []
    header = _HEADER.match(data, item.offset)
    if header is None:
        return []  # reported by _check
    parser = _Parser(data, header.end())
    parser.skip()
    if data.startswith(b"endobj", parser.pos):
        return []  # an empty object: null, for every reader
    parser.value()
    if parser.duplicates:
        raise _Malformed(f"key {parser.duplicates[0]} written twice")
    parser.skip()
    if data.startswith(b"stream", parser.pos):
        _stream_body(data, sections, revision, item)
        return parser.refs
    if not data.startswith(b"endobj", parser.pos):
        raise _Malformed("something other than endobj follows the object")
    return parser.refs


def _object_stream_numbers(
    data: bytes,
    sections: list[Section],
    revision: int,
    holder: Entry,
    *,
    strict_objects: bool,
    budget: list[int],
) -> tuple[list[int], dict[int, list[int]]]:
    """The object numbers an object stream holds, in order, after checking its header: the
    first object at offset 0 right after the header, offsets increasing, no number twice; with
    ``strict_objects``, every object parsed and ending where the next begins. Also the object
    numbers each object refers to."""
    stream_dict, start, stop = _stream_body(data, sections, revision, holder)
    raw = data[start:stop]
    if stream_dict.get("/Type") != "/ObjStm":
        raise _Malformed("not an object stream")
    count, first = stream_dict.get("/N"), stream_dict.get("/First")
    if not isinstance(count, int) or not isinstance(first, int) or count < 0 or first < 0:
        raise _Malformed("bad /N or /First")
    decoded = _decode(raw, stream_dict)
    if first > len(decoded):
        raise _Malformed("/First lies beyond the stream")
    head = decoded[:first].split()
    if len(head) != 2 * count or not all(token.isdigit() for token in head):
        raise _Malformed("its header does not list /N objects")
    numbers = [int(t) for t in head[0::2]]
    offsets = [int(t) for t in head[1::2]]
    if len(set(numbers)) != len(numbers):
        raise _Malformed("an object number is listed twice in its header")
    if offsets and offsets[0] != 0:
        raise _Malformed("its first object does not start at /First")
    if any(b <= a for a, b in itertools.pairwise(offsets)):
        raise _Malformed("its offsets do not increase")
    if offsets and first + offsets[-1] >= len(decoded) + (1 if count == 0 else 0):
        raise _Malformed("an offset lies beyond the stream")
    refs: dict[int, list[int]] = {}
    if strict_objects:
        bounds = [*offsets[1:], len(decoded) - first]
        for number, start, stop in zip(numbers, offsets, bounds, strict=True):
            budget[0] -= 1
            if budget[0] < 0:
                break
            body = decoded[first + start : first + stop]
            parser = _Parser(body, 0)
            parser.value()
            if parser.duplicates:
                raise _Malformed(f"key {parser.duplicates[0]} written twice")
            parser.skip()
            if parser.pos != len(body):
                raise _Malformed("an object in it does not end where the next begins")
            refs[number] = parser.refs
    return numbers, refs


def signed_revision(data: bytes, structure: Structure, end: int) -> int | None:
    """The revision whose ``startxref``/``%%EOF`` lines end exactly at ``end`` (a signed
    range's end), or ``None`` when the range does not end at the end of a revision."""
    if not 0 < end <= len(data):
        return None
    match = _TAIL.search(data, max(0, end - 64), end)
    if match is None or match.end() != end:
        return None
    return structure.revision_of_startxref(int(match.group(1)))


_OPERATOR = re.compile(rb"[A-Za-z'\"*]+")
_INLINE_END = re.compile(rb"[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|\Z)")


def _skip_inline_image(parser: _Parser) -> bool:
    """Past an inline image (``BI`` already read): its key/value pairs, ``ID``, one white-space
    byte, the data, ``EI``. ``False`` when it does not end."""
    data = parser.data
    for _ in range(256):
        parser.skip()
        if data.startswith(b"ID", parser.pos):
            found = _INLINE_END.search(data, parser.pos + 3)
            if found is None:
                return False
            parser.pos = found.end()
            return True
        parser.value()
    return False


def content_operations(data: bytes, limit: int = 10_000) -> list[tuple[str, list[object]]] | None:
    """The operators of a content stream with their operands, read by the same strict
    parser; ``None`` when it cannot be read that way (inline images included) or has more
    than ``limit`` operations."""
    parser = _Parser(data, 0)
    operations: list[tuple[str, list[object]]] = []
    operands: list[object] = []
    try:
        while True:
            parser.skip()
            if parser.pos >= len(data):
                return operations
            keyword = _OPERATOR.match(data, parser.pos)
            if keyword is not None and data[parser.pos : parser.pos + 4] not in (b"true", b"null"):
                if data.startswith(b"false", parser.pos):
                    operands.append(parser.value())
                    continue
                name = keyword.group(0).decode("ascii")
                parser.pos = keyword.end()
                if name == "ID":
                    return None
                if name == "BI":
                    # an inline image: its dictionary up to ID, its data up to EI
                    if not _skip_inline_image(parser):
                        return None
                    operations.append(("BI", []))
                    operands = []
                    continue
                operations.append((name, operands))
                operands = []
                if len(operations) > limit:
                    return None
                continue
            operands.append(parser.value())
    except _Malformed:
        return None
