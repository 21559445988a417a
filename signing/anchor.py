"""Find anchor text on a PDF page, to place signature appearances next to it.

Positions come from pypdf's text extraction (``extract_text(visitor_text=...)``): each text
run reports its text, the text matrix, the CTM, the font dictionary and the font size.

Accuracy, and its limits:

* ``x0`` and the baseline (``y0``) of a run are exact: they are the text rendering origin.
* ``x1`` and the start of a match inside a run are estimated from the font's advance widths
  (``/W`` or ``/Widths`` through ``/ToUnicode``), ignoring kerning, ``TJ`` adjustments,
  character and word spacing (``Tc``, ``Tw``) and horizontal scaling (``Tz``). For plain
  lines this is within a point or two; in justified lines (spread with ``TJ`` adjustments)
  positions after the first space drift to the left by up to the spreading. Fonts without
  width information are assumed to be 0.5 em per character.
* ``y1`` is the baseline plus the font size: a line box, not the ink. Descenders and marks
  below the baseline (as in ``Ị``) are outside it.
* Only upright text is handled well; rotated or skewed runs get their origin right and a box
  as if they were upright. Page ``/Rotate`` is ignored: everything is in user space.
* Matching is per line (runs sharing a baseline); a needle broken across lines is not found.
* Leading whitespace of a run is dropped (pypdf inserts it for gaps), so a run that really
  starts with space glyphs is placed too far left by their width.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

__all__ = [
    "AnchorNotFound",
    "Box",
    "TextHit",
    "find_text",
    "signature_box_between",
]

_DEFAULT_WIDTH = 500.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TextHit:
    """One occurrence of a needle on a page, in PDF user-space points."""

    page: int
    """Zero-based page index."""
    x0: float
    """Left edge: the start of the first matched character."""
    y0: float
    """Baseline of the matched text."""
    x1: float
    """Right edge, estimated from the font's advance widths."""
    y1: float
    """Baseline plus the font size."""
    text: str
    """The matched text as extracted (NFC), with the page's own whitespace."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Box:
    """A rectangle on a page, in PDF user-space points (origin bottom left)."""

    page: int
    """Zero-based page index."""
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


class AnchorNotFound(ValueError):
    """An anchor text needed to place a signature is not on the page(s)."""

    def __init__(self, needle: str, message: str | None = None) -> None:
        self.needle = needle
        super().__init__(message or f"anchor text not found in the PDF: {needle!r}")


@dataclass(frozen=True, slots=True)
class _Run:
    text: str
    x: float
    baseline: float
    size: float
    advances: tuple[float, ...]


@dataclass(slots=True)
class _Line:
    baseline: float
    size: float
    runs: list[_Run] = field(default_factory=list)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _mul(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")
_RANGE_ENTRY = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])")


def _utf16(hex_digits: bytes) -> str:
    raw = bytes.fromhex(re.sub(rb"\s", b"", hex_digits).decode("ascii"))
    return raw.decode("utf-16-be", errors="ignore")


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    """Character code → text, from a ``/ToUnicode`` CMap (bfchar and bfrange)."""
    stream = font.get("/ToUnicode")
    if stream is None:
        return {}
    stream = stream.get_object()
    if not isinstance(stream, StreamObject):
        return {}
    data = stream.get_data()
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        pairs = _HEX.findall(block)
        for src, dst in zip(pairs[::2], pairs[1::2], strict=False):
            mapping[int(src, 16)] = _utf16(dst)
    for block in _BFRANGE.findall(data):
        for lo_hex, hi_hex, dst in _RANGE_ENTRY.findall(block):
            lo, hi = int(lo_hex, 16), int(hi_hex, 16)
            if hi - lo > 0xFFFF:
                continue
            if dst.startswith(b"["):
                for offset, item in enumerate(_HEX.findall(dst)):
                    mapping[lo + offset] = _utf16(item)
            else:
                start = _utf16(dst[1:-1])
                if not start:
                    continue
                for offset in range(hi - lo + 1):
                    mapping[lo + offset] = start[:-1] + chr(ord(start[-1]) + offset)
    return mapping


def _cid_widths(descendant: DictionaryObject) -> dict[int, float]:
    widths: dict[int, float] = {}
    w = descendant.get("/W")
    items = list(w.get_object()) if w is not None else []
    i = 0
    while i < len(items):
        first = items[i].get_object()
        nxt = items[i + 1].get_object() if i + 1 < len(items) else None
        if isinstance(nxt, ArrayObject):
            for offset, value in enumerate(nxt):
                widths[int(first) + offset] = float(value.get_object())
            i += 2
        elif nxt is not None and i + 2 < len(items):
            value = float(items[i + 2].get_object())
            for cid in range(int(first), int(nxt) + 1):
                widths[cid] = value
            i += 3
        else:
            break
    return widths


def _font_widths(font: Any) -> tuple[dict[str, float], float]:
    """Advance widths (1/1000 em) by character, and a default for unknown characters."""
    if not isinstance(font, DictionaryObject):
        return {}, _DEFAULT_WIDTH
    try:
        return _parse_font_widths(font)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        # A malformed font costs accuracy, not the search.
        return {}, _DEFAULT_WIDTH


def _parse_font_widths(font: DictionaryObject) -> tuple[dict[str, float], float]:
    codes = _to_unicode(font)
    by_code: dict[int, float]
    if font.get("/Subtype") == "/Type0":
        descendants = font.get("/DescendantFonts")
        if descendants is None:
            return {}, _DEFAULT_WIDTH
        descendant = descendants.get_object()[0].get_object()
        by_code = _cid_widths(descendant)
    else:
        first = int(font.get("/FirstChar", 0))
        widths = font.get("/Widths")
        values = list(widths.get_object()) if widths is not None else []
        by_code = {first + i: float(v.get_object()) for i, v in enumerate(values)}
        if not codes:
            codes = {code: chr(code) for code in by_code}
    result: dict[str, float] = {}
    for code, text in codes.items():
        if code in by_code and len(text) == 1:
            result.setdefault(_nfc(text), by_code[code])
    # Characters we cannot map get the average advance (``/DW`` is for unlisted CIDs, which
    # says little about an unmapped character).
    known = list(result.values()) or list(by_code.values())
    return result, sum(known) / len(known) if known else _DEFAULT_WIDTH


def _advance(char: str, widths: dict[str, float], default: float) -> float:
    if char in widths:
        return widths[char]
    base = unicodedata.normalize("NFD", char)[:1]
    if base in widths:
        return widths[base]
    if char.isspace():
        return widths.get(" ", 250.0)
    return default


def _collect_runs(reader: PdfReader, index: int) -> list[_Run]:
    runs: list[_Run] = []
    # keyed by id(); the font object is kept in the value so that the id stays unique
    fonts: dict[int, tuple[object, dict[str, float], float]] = {}

    def visit(text: Any, cm: Any, tm: Any, font: Any, font_size: Any) -> None:
        if not isinstance(text, str) or not text.strip():
            return
        m = _mul([float(v) for v in tm], [float(v) for v in cm])
        size = float(font_size or 0.0) * math.hypot(m[2], m[3])
        hscale = float(font_size or 0.0) * math.hypot(m[0], m[1])
        if size <= 0:
            return
        key = id(font)
        if key not in fonts:
            fonts[key] = (font, *_font_widths(font))
        _, widths, default = fonts[key]
        # pypdf prefixes a run with the space or newline it infers from the gap before it;
        # the run's origin is where its first glyph is drawn.
        text = _nfc(text.replace("\n", " ").lstrip())
        advances = tuple(_advance(c, widths, default) * hscale / 1000 for c in text)
        runs.append(_Run(text=text, x=m[4], baseline=m[5], size=size, advances=advances))

    visitor: Callable[[Any, Any, Any, Any, Any], None] = visit
    reader.pages[index].extract_text(visitor_text=visitor)
    return runs


def _lines(runs: list[_Run]) -> list[_Line]:
    lines: list[_Line] = []
    for run in sorted(runs, key=lambda r: -r.baseline):
        for line in lines:
            if abs(line.baseline - run.baseline) <= 0.25 * min(line.size, run.size):
                line.runs.append(run)
                break
        else:
            lines.append(_Line(baseline=run.baseline, size=run.size, runs=[run]))
    for line in lines:
        line.runs.sort(key=lambda r: r.x)
    return lines


def _hits_in_line(line: _Line, needle: str, page: int) -> Iterator[TextHit]:
    # (character, x0, x1, run index, index in run) for every non-space character
    chars: list[tuple[str, float, float, int, int]] = []
    for r, run in enumerate(line.runs):
        x = run.x
        for i, (c, adv) in enumerate(zip(run.text, run.advances, strict=True)):
            if not c.isspace():
                chars.append((c, x, x + adv, r, i))
            x += adv
    target = [c for c in needle if not c.isspace()]
    n = len(target)
    start = 0
    while start + n <= len(chars):
        if [c[0] for c in chars[start : start + n]] != target:
            start += 1
            continue
        first, last = chars[start], chars[start + n - 1]
        runs = line.runs[first[3] : last[3] + 1]
        if first[3] == last[3]:
            text = runs[0].text[first[4] : last[4] + 1]
        else:
            middle = [run.text for run in runs[1:-1]]
            text = " ".join([runs[0].text[first[4] :], *middle, runs[-1].text[: last[4] + 1]])
        yield TextHit(
            page=page,
            x0=first[1],
            y0=min(run.baseline for run in runs),
            x1=last[2],
            y1=max(run.baseline + run.size for run in runs),
            text=text,
        )
        start += n


def _reader(pdf: bytes | BinaryIO) -> PdfReader:
    return PdfReader(BytesIO(pdf) if isinstance(pdf, bytes | bytearray) else pdf)


def _find(reader: PdfReader, needle: str, page: int | None) -> list[TextHit]:
    needle = _nfc(needle)
    if not needle.strip():
        raise ValueError("the needle must contain some non-whitespace text")
    indices = range(len(reader.pages)) if page is None else [page]
    hits: list[TextHit] = []
    for index in indices:
        for line in _lines(_collect_runs(reader, index)):
            hits.extend(_hits_in_line(line, needle, index))
    return hits


def find_text(pdf: bytes | BinaryIO, needle: str, *, page: int | None = None) -> list[TextHit]:
    """All occurrences of ``needle`` (top to bottom per page); ``[]`` if there are none.

    Both sides are NFC-normalised; matching is case-sensitive and ignores whitespace.
    ``page`` limits the search to one zero-based page index.
    """
    return _find(_reader(pdf), needle, page)


def signature_box_between(
    pdf: bytes | BinaryIO,
    above: str,
    below: str,
    *,
    width: float,
    height: float,
    page: int | None = None,
) -> Box:
    """A ``width`` × ``height`` box between two anchors, as for box 7c of Decree 30 App. I.

    The box is centred horizontally on the ``below`` anchor (the signer's name) and vertically
    in the gap between the baseline of ``above`` (the position line) and the top of
    ``below``. When the anchors occur more than once, the closest pair with ``below`` under
    ``above`` on the same page wins. A box taller than the gap overlaps the anchors.

    :raises AnchorNotFound: if either anchor is missing, or no ``below`` is under an ``above``.
    """
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    reader = _reader(pdf)
    uppers = _find(reader, above, page)
    if not uppers:
        raise AnchorNotFound(above)
    lowers = _find(reader, below, page)
    if not lowers:
        raise AnchorNotFound(below)
    best: tuple[float, TextHit, TextHit] | None = None
    for up in uppers:
        for low in lowers:
            if low.page != up.page or low.y1 > up.y0 + 0.5 * (up.y1 - up.y0):
                continue
            offset = abs((low.x0 + low.x1) / 2 - (up.x0 + up.x1) / 2)
            score = (up.y0 - low.y1) + offset
            if best is None or score < best[0]:
                best = (score, up, low)
    if best is None:
        raise AnchorNotFound(below, f"no {below!r} found below {above!r} on the same page")
    _, up, low = best
    cx = (low.x0 + low.x1) / 2
    cy = (low.y1 + up.y0) / 2
    return Box(
        page=low.page,
        x0=cx - width / 2,
        y0=cy - height / 2,
        x1=cx + width / 2,
        y1=cy + height / 2,
    )
