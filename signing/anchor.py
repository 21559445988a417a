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

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import BinaryIO

from pypdf import PdfReader

from validation import TextRun, text_runs

__all__ = [
    "AnchorNotFound",
    "Box",
    "TextHit",
    "find_text",
    "signature_box_between",
]


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
    size: float = 0.0
    """Font size of the match's last character, in points (as drawn: matrices applied)."""
    font: str = ""
    """``/BaseFont`` of the match's last character (``ABCDEF+LiberationSerif-Italic``)."""
    next_x0: float | None = None
    """Where the next character on the line after the match starts (``None``: nothing
    follows it on its line)."""


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


@dataclass(slots=True)
class _Line:
    baseline: float
    size: float
    runs: list[TextRun] = field(default_factory=list)


def _lines(runs: list[TextRun]) -> list[_Line]:
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
        after = chars[start + n] if start + n < len(chars) else None
        yield TextHit(
            page=page,
            x0=first[1],
            y0=min(run.baseline for run in runs),
            x1=last[2],
            y1=max(run.baseline + run.size for run in runs),
            text=text,
            size=line.runs[last[3]].size,
            font=line.runs[last[3]].font,
            next_x0=None if after is None else after[1],
        )
        start += n


def _reader(pdf: bytes | BinaryIO) -> PdfReader:
    return PdfReader(BytesIO(pdf) if isinstance(pdf, bytes | bytearray) else pdf)


def _find(reader: PdfReader, needle: str, page: int | None) -> list[TextHit]:
    needle = unicodedata.normalize("NFC", needle)
    if not needle.strip():
        raise ValueError("the needle must contain some non-whitespace text")
    indices = range(len(reader.pages)) if page is None else [page]
    hits: list[TextHit] = []
    for index in indices:
        for line in _lines(text_runs(reader, index)):
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
