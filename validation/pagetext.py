"""Where text is on a PDF page: runs of text with their origin, size and glyph advances.

Both rooms need this: the signing room places signatures next to anchor text
(:mod:`signing.anchor`), the validation room asks whether a later appearance covers the text
a signer signed (:mod:`validation.pdfhistory`). Positions come from pypdf's text extraction
(``extract_text(visitor_text=...)``); advances from the font's widths (``/W`` or ``/Widths``
through ``/ToUnicode``), ignoring kerning, ``TJ`` adjustments, character and word spacing and
horizontal scaling; fonts without width information get half an em per character. Written by
hand: pypdf reports where a run starts, not how wide it is.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pypdf (and the imaging library it loads) only when text is looked for
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

__all__ = ["TextRun", "cmap_to_unicode", "text_runs"]

_DEFAULT_WIDTH = 500.0


@dataclass(frozen=True, slots=True)
class TextRun:
    """One run of text: its origin (``x``, ``baseline``), font size and the advance of each
    character, in user-space points."""

    text: str
    x: float
    baseline: float
    size: float
    advances: tuple[float, ...]
    font: str = ""
    """The font's ``/BaseFont`` (``ABCDEF+LiberationSerif-Italic``), ``""`` if it has none."""
    box: tuple[float, float, float, float] | None = None
    """Where the run's glyphs lie (from 0.2 em below the baseline to 0.8 em above), in user
    space, when the text is rotated or skewed; ``None`` for a horizontal run."""

    @property
    def width(self) -> float:
        return sum(self.advances)


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
    """Character code → text, from the font's ``/ToUnicode`` CMap."""
    from pypdf.generic import StreamObject

    stream = font.get("/ToUnicode")
    if stream is None:
        return {}
    stream = stream.get_object()
    if not isinstance(stream, StreamObject):
        return {}
    return cmap_to_unicode(stream.get_data())


def cmap_to_unicode(data: bytes) -> dict[int, str]:
    """Character code → text, from the bytes of a ``/ToUnicode`` CMap (bfchar, bfrange)."""
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
    from pypdf.generic import ArrayObject

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
    from pypdf.generic import DictionaryObject

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


_IDENTITY = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def text_runs(reader: PdfReader, index: int) -> list[TextRun]:
    runs: list[TextRun] = []
    # keyed by id(); the font object is kept in the value so that the id stays unique
    fonts: dict[int, tuple[object, dict[str, float], float]] = {}
    page = reader.pages[index]
    # pypdf reads a form XObject's text in the form's own space (neither its /Matrix nor the
    # matrix at its Do applied): each Do pushes the form-to-page matrix and its resources
    forms: list[tuple[list[float], Any]] = [(_IDENTITY, page.get("/Resources"))]
    pushed: list[bool] = []
    # the text state pypdf does not apply to what it reports: horizontal scaling (Tz),
    # character and word spacing (Tc, Tw) and rise (Ts); saved by q and around a form
    state = {"Tz": 100.0, "Tc": 0.0, "Tw": 0.0, "Ts": 0.0}
    saved: list[dict[str, float]] = []
    # pypdf reports text when it flushes (at ET, a font or matrix change), after the state
    # may have changed again: the states of the showing operators since the last report are
    # kept, and a report takes the widest of them (a box too large is the safe side)
    shown: list[dict[str, float]] = []

    def before(operator: Any, operands: Any, cm: Any, tm: Any) -> None:
        name = operator.decode("latin-1") if isinstance(operator, bytes) else str(operator)
        if name in ("Tj", "TJ", "'", '"'):
            snapshot = dict(state)
            if name == "TJ" and operands and isinstance(operands[0], list):
                # offsets moving the glyphs on (negative numbers): the run reaches further
                moved = sum(float(v) for v in operands[0] if isinstance(v, int | float))
                snapshot["TJ"] = max(0.0, -moved)
            shown.append(snapshot)
        if name in state and operands:
            with contextlib.suppress(TypeError, ValueError):
                state[name] = float(operands[0])
            return
        if name == '"' and len(operands) >= 2:
            with contextlib.suppress(TypeError, ValueError):
                state["Tw"], state["Tc"] = float(operands[0]), float(operands[1])
            return
        if name == "q":
            saved.append(dict(state))
            return
        if name == "Q":
            if saved:
                state.update(saved.pop())
            return
        if operator != b"Do":
            return
        outer, resources = forms[-1]
        target = _xobject(resources, operands[0]) if operands else None
        if target is None or target.get("/Subtype") != "/Form":
            pushed.append(False)
            return
        matrix = _IDENTITY
        given = target.get("/Matrix")
        try:
            if given is not None and len(given) == 6:
                matrix = [float(v) for v in given]
            here = _mul(_mul(matrix, [float(v) for v in cm]), outer)
        except (TypeError, ValueError):
            here = outer
        forms.append((here, target.get("/Resources")))
        pushed.append(True)
        saved.append(dict(state))

    def after(operator: Any, operands: Any, cm: Any, tm: Any) -> None:
        if operator == b"Do" and pushed and pushed.pop() and len(forms) > 1:
            forms.pop()
            if saved:
                state.update(saved.pop())

    def visit(text: Any, cm: Any, tm: Any, font: Any, font_size: Any) -> None:
        if not isinstance(text, str) or not text.strip():
            return
        m = _mul(_mul([float(v) for v in tm], [float(v) for v in cm]), forms[-1][0])
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
        states = shown or [state]
        del shown[:-1]  # the last showing operator's state may belong to the next report
        unit = math.hypot(m[0], m[1])  # text space to user space, along the line
        scale = max(1.0, *(st["Tz"] / 100.0 for st in states))
        spacing = max(0.0, *(st["Tc"] for st in states))
        words = max(0.0, *(st["Tw"] for st in states))
        advances = [
            (
                _advance(c, widths, default) * hscale / 1000
                + (spacing + (words if c == " " else 0.0)) * unit
            )
            * scale
            for c in text
        ]
        moved = max(0.0, *(st.get("TJ", 0.0) for st in states))
        if advances and moved:
            advances[-1] += moved / 1000 * hscale * scale
        base = font.get("/BaseFont") if hasattr(font, "get") else None
        up = math.hypot(m[2], m[3])
        turned = abs(m[1]) > 1e-6 * unit or abs(m[2]) > 1e-6 * up
        for rise in sorted({st["Ts"] for st in states}):
            box = None
            if turned and unit > 0 and up > 0:
                along = (m[0] / unit, m[1] / unit)
                across = (m[2] / up, m[3] / up)
                width = sum(advances)
                ox, oy = m[4] + across[0] * rise * up, m[5] + across[1] * rise * up
                corners = [
                    (ox + along[0] * a + across[0] * b, oy + along[1] * a + across[1] * b)
                    for a in (0.0, width)
                    for b in (-0.2 * size, 0.8 * size)
                ]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                box = (min(xs), min(ys), max(xs), max(ys))
            runs.append(
                TextRun(
                    text=text,
                    x=m[4],
                    baseline=m[5] + rise * up,
                    size=size,
                    advances=tuple(advances),
                    font=str(base or ""),
                    box=box,
                )
            )

    visitor: Callable[[Any, Any, Any, Any, Any], None] = visit
    page.extract_text(
        visitor_text=visitor, visitor_operand_before=before, visitor_operand_after=after
    )
    return runs


def _xobject(resources: Any, name: Any) -> Any:
    """The XObject ``name`` of ``resources`` (a dictionary), or ``None``."""
    try:
        found: Any = resources.get_object() if resources is not None else None
        for key in ("/XObject", str(name)):
            found = found.get(key) if hasattr(found, "get") else None
            found = found.get_object() if found is not None else None
        target = found
    except Exception:  # hostile resources: no form found, nothing pushed
        return None
    return target if hasattr(target, "get") else None
