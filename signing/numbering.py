"""Number and date after the personal signature (Decree 30 Art. 15(3)).

The signer signs a draft that has no number yet; the system then fills "Số" (box 3) and the
date (box 4), and the clerk applies the agency signature. To keep the personal signature
valid, the number and date go into text form fields that were put into the draft *before*
anyone signed, and filling them is a form-filling change (new /V and /AP of those fields,
nothing else), which PAdES validators (pyHanko's modification analysis among them) accept.

Measured trap: when two or more text fields have widgets carrying the usual ``/P`` page
reference, pyHanko classifies the fill as ``OTHER`` and the personal signature turns
invalid; widgets without ``/P`` stay ``FORM_FILLING``. ``/P`` is optional (ISO 32000-1,
12.5.2), so our widgets never carry it.

Typesetting: a field put after an anchor takes the anchor's font size, baseline and style
(upright or italic, read from the anchor's font) and spans the blank up to the next text on
the line; the number is set flush against what follows it ("Số: 2244/STTTT-VP", no gap
before the slash), a day or month centred in its blank. The fill draws the value in Liberation
Serif (Times New Roman's metrics) of that style and size on that baseline, through pyHanko's
font engine; the appearance stream around it is written here, because pyHanko's text stamps
centre a box of line height, which lifts the digits off the baseline.

Written by hand with pyHanko's object model: neither pyHanko nor pypdf creates text fields
that survive an incremental fill this way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.writer import init_xobject_dictionary

from signing.anchor import TextHit, find_text
from signing.appearance import MM, PageBox, box_from_page_box
from signing.errors import InputUnreadable, PlacementError, UsageError
from signing.files import atomic_output, open_input
from signing.fonts import Style, font_program
from signing.pades import open_pdf_writer

Align = Literal["left", "centre", "right"]
_QUADDING: dict[Align, int] = {"left": 0, "centre": 1, "right": 2}

# The text field's /DA names one of the standard Times faces (Liberation Serif has their
# metrics): what a viewer that rebuilds the appearance uses, and the style the fill embeds.
_DA_FONTS: dict[Style, tuple[str, str]] = {
    Style.REGULAR: ("/TiRo", "/Times-Roman"),
    Style.ITALIC: ("/TiIt", "/Times-Italic"),
    Style.BOLD: ("/TiBo", "/Times-Bold"),
    Style.BOLD_ITALIC: ("/TiBI", "/Times-BoldItalic"),
}
_DESCENT = 0.3
"""Room below the baseline in a field box, in em (the box is 1.3 em high)."""
_DIGIT_HEIGHT = 0.7
"""Height of a digit above the baseline, in em, for placing a value in a foreign box."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TextFieldSpec:
    """A text field to add to a draft: at an explicit box, or right after an anchor text."""

    name: str
    anchor: str | None = None
    """Put the field right after the first occurrence of this text on ``page``."""
    box: PageBox | None = None
    page: int = 0
    width_mm: float = 20.0
    """Width when nothing follows the anchor on its line (else the field spans the blank up
    to the next text), or of an explicit box."""
    font_size: float = 13.0
    """For an explicit box; after an anchor the field takes the anchor's size."""
    align: Align = "centre"
    """Where the value sits in the field: ``right`` runs it into the text that follows."""


DEFAULT_FIELDS: tuple[TextFieldSpec, ...] = (
    TextFieldSpec(name="so", anchor="Số:", width_mm=14, align="right"),
    TextFieldSpec(name="ngay", anchor="ngày", width_mm=8),
    TextFieldSpec(name="thang", anchor="tháng", width_mm=8),
)
"""The number after "Số:" (flush against its "/ký hiệu"), the day after "ngày" and the month
after "tháng" (box 3, box 4)."""


def style_of(font_name: str) -> Style:
    """The style a font's name says (``…-Italic``, ``…,BoldItalic``, ``…Oblique``)."""
    name = font_name.lower()
    italic = "italic" in name or "oblique" in name
    bold = "bold" in name
    if bold and italic:
        return Style.BOLD_ITALIC
    return Style.BOLD if bold else Style.ITALIC if italic else Style.REGULAR


FIELD_LABELS = {"so": "Số", "ngay": "ngày", "thang": "tháng"}


def decree30_date_parts(day: date) -> dict[str, str]:
    """Day and month as Decree 30 writes them: a leading zero for days below 10 and for
    January and February ("ngày 05 tháng 02", "ngày 28 tháng 11")."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return {"ngay": f"{day.day:02d}", "thang": month}


@dataclass(frozen=True, slots=True)
class _Placed:
    page: int
    rect: tuple[float, float, float, float]
    size: float
    style: Style


def _field_box(spec: TextFieldSpec, writer: Any, pdf: bytes) -> _Placed:
    if spec.box is not None:
        box = box_from_page_box(writer, spec.box)
        return _Placed(box.page, (box.x0, box.y0, box.x1, box.y1), spec.font_size, Style.REGULAR)
    if spec.anchor is None:
        raise UsageError(
            f"field {spec.name!r} needs an anchor text or a box",
            f"ô {spec.name!r} cần chữ mốc hoặc vị trí",
        )
    hits = find_text(pdf, spec.anchor, page=spec.page)
    if not hits:
        raise PlacementError(
            f"the anchor text {spec.anchor!r} for field {spec.name!r} is not on page "
            f"{spec.page + 1}",
            f"không thấy đoạn văn bản neo {spec.anchor!r} (ô {spec.name!r}) ở trang "
            f"{spec.page + 1}",
        )
    return _after_anchor(hits[0], spec)


def _after_anchor(hit: TextHit, spec: TextFieldSpec) -> _Placed:
    """The blank after ``hit``: from the anchor's end to the next text on its line, on the
    anchor's baseline, as high as a line of the anchor's size."""
    size = round(hit.size or spec.font_size, 2)
    x0 = hit.x1
    x1 = hit.next_x0 if hit.next_x0 is not None and hit.next_x0 > x0 else x0 + spec.width_mm * MM
    y0 = hit.y0 - _DESCENT * size
    return _Placed(hit.page, (x0, y0, x1, y0 + (1 + _DESCENT) * size), size, style_of(hit.font))


def add_text_fields(source: bytes, specs: Sequence[TextFieldSpec] = DEFAULT_FIELDS) -> bytes:
    """A draft with empty text fields (no ``/P`` on the widgets; see the module docstring)."""
    writer = open_pdf_writer(io.BytesIO(source))
    root = writer.root
    acroform = root.get("/AcroForm")
    if acroform is None:
        acroform = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(acroform)
        writer.update_root()
    else:
        acroform = acroform.get_object()
        if isinstance(root.raw_get("/AcroForm"), generic.IndirectObject):
            writer.update_container(acroform)
        else:
            writer.update_root()
    fields_array = acroform.setdefault(pdf_name("/Fields"), generic.ArrayObject())
    existing = {str(f.get_object().get("/T")) for f in fields_array}
    dr = acroform.setdefault(pdf_name("/DR"), generic.DictionaryObject())
    fonts = dr.setdefault(pdf_name("/Font"), generic.DictionaryObject())
    for resource, base in [("/Helv", "/Helvetica"), *_DA_FONTS.values()]:
        if resource not in fonts:
            fonts[pdf_name(resource)] = writer.add_object(
                generic.DictionaryObject(
                    {
                        pdf_name("/Type"): pdf_name("/Font"),
                        pdf_name("/Subtype"): pdf_name("/Type1"),
                        pdf_name("/BaseFont"): pdf_name(base),
                        pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
                    }
                )
            )
    acroform.setdefault(pdf_name("/DA"), pdf_string("/Helv 0 Tf 0 g"))
    for spec in specs:
        if spec.name in existing:
            raise UsageError(
                f"the document already has a field {spec.name!r}",
                f"văn bản đã có ô {spec.name!r}",
            )
        placed = _field_box(spec, writer, source)
        page_ix, rect = placed.page, placed.rect
        widget = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string(spec.name),
                pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in rect),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/DA"): pdf_string(f"{_DA_FONTS[placed.style][0]} {placed.size:g} Tf 0 g"),
                pdf_name("/Q"): generic.NumberObject(_QUADDING[spec.align]),
                pdf_name("/V"): pdf_string(""),
            }
        )
        widget_ref = writer.add_object(widget)
        fields_array.append(widget_ref)
        page_ref = writer.find_page_for_modification(page_ix)[0]
        page = page_ref.get_object()
        annots = page.get("/Annots")
        if annots is None:
            page[pdf_name("/Annots")] = generic.ArrayObject([widget_ref])
            writer.update_container(page)
        else:
            annots.get_object().append(widget_ref)
            if isinstance(page.raw_get("/Annots"), generic.IndirectObject):
                writer.update_container(annots.get_object())
            else:
                writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def fill_text_fields(source: bytes, values: Mapping[str, str]) -> bytes:
    """Fill text fields in one incremental update: new /V and a new appearance, nothing else."""
    writer = open_pdf_writer(io.BytesIO(source))
    acroform = writer.root.get("/AcroForm")
    fields_array = acroform.get_object().get("/Fields", ()) if acroform is not None else ()
    by_name = {}
    for ref in fields_array:
        obj = ref.get_object()
        if obj.get("/FT") == "/Tx":
            by_name[str(obj.get("/T"))] = ref
    missing = sorted(set(values) - set(by_name))
    if missing:
        names = ", ".join(f"'{FIELD_LABELS.get(m, m)}' ({m})" for m in missing)
        raise PlacementError(
            f"the document has no field {names} to fill: the fields are added to the draft "
            "before anyone signs it (lienthong number add-fields)",
            f"văn bản không có ô {names} để điền: các ô phải được thêm vào bản thảo trước khi "
            "ký (lienthong number add-fields)",
        )
    form = acroform.get_object() if acroform is not None else None
    resources = _get(_get(form, "/DR"), "/Font")
    for name, value in values.items():
        ref = by_name[name]
        widget = ref.get_object()
        widget[pdf_name("/V")] = pdf_string(value)
        widget[pdf_name("/AP")] = generic.DictionaryObject(
            {pdf_name("/N"): _appearance(writer, widget, value, resources)}
        )
        writer.update_container(widget)
    out = io.BytesIO()
    try:
        writer.write(out)
    except PdfError as exc:
        raise InputUnreadable(
            f"cannot update the PDF: {exc}", "không cập nhật được tệp PDF"
        ) from exc
    return out.getvalue()


def _appearance(writer: Any, widget: Any, value: str, fonts: Any) -> generic.IndirectObject:
    """The field's normal appearance: ``value`` in the field's font and size, on the baseline
    of the field's line, placed by the field's quadding, and nothing else drawn (no
    background, no border: the validation room's number-fill check wants exactly this)."""
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    width, height = abs(x1 - x0), abs(y1 - y0)
    resource, size = _default_appearance(widget)
    base = _get(_get(fonts, resource), "/BaseFont")
    engine = GlyphAccumulator(
        writer=writer,
        font_handle=io.BytesIO(font_program(style_of(str(base or "")))),
        font_size=size,
    )
    shaped = engine.shape(value)
    advance = shaped.x_advance * size
    quadding = int(_get(widget, "/Q") or 0)
    space = 0.25 * size  # a Times word space
    x = {0: space, 1: (width - advance) / 2, 2: width - advance}.get(quadding, space)
    # our fields are 1.3 em high with the baseline 0.3 em up; a foreign box gets its digits
    # centred in it
    baseline = (height - _DIGIT_HEIGHT * size) / 2
    ops = b"/Tx BMC BT /F1 %s Tf 0 g %s %s Td %s ET EMC" % (
        _num(size),
        _num(x),
        _num(baseline),
        shaped.graphics_ops,
    )
    engine.prepare_write()
    stream = init_xobject_dictionary(
        command_stream=ops,
        box_width=width,
        box_height=height,
        resources=generic.DictionaryObject(
            {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): engine.as_resource()})}
        ),
    )
    ref: generic.IndirectObject = writer.add_object(stream)
    return ref


def _num(value: float) -> bytes:
    return f"{value:.3f}".rstrip("0").rstrip(".").encode("ascii")


def _default_appearance(widget: Any) -> tuple[str, float]:
    """The font resource and size of a field's ``/DA`` (``/TiIt 14 Tf 0 g``)."""
    parts = str(widget.get("/DA", "")).split()
    if "Tf" in parts and parts.index("Tf") >= 2:
        i = parts.index("Tf")
        try:
            size = float(parts[i - 1])
        except ValueError:
            size = 0.0
        if size > 0:
            return parts[i - 2], size
    return "/Helv", 13.0


def _get(node: Any, key: str) -> Any:
    if not isinstance(node, generic.DictionaryObject) or key not in node:
        return None
    return node[key]


def add_text_fields_file(source: Path, output: Path, specs: Sequence[TextFieldSpec]) -> None:
    with open_input(source) as src:
        data = src.read()
    result = add_text_fields(data, specs)
    with atomic_output(output) as out:
        out.write(result)


def fill_text_fields_file(source: Path, output: Path, values: Mapping[str, str]) -> None:
    with open_input(source) as src:
        data = src.read()
    result = fill_text_fields(data, values)
    with atomic_output(output) as out:
        out.write(result)
