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

Written by hand with pyHanko's object model: neither pyHanko nor pypdf creates text fields
that survive an incremental fill this way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from signing.anchor import find_text
from signing.appearance import MM, PageBox, box_from_page_box
from signing.errors import InputUnreadable, PlacementError, UsageError
from signing.files import atomic_output, open_input
from signing.fonts import SerifFont
from signing.pades import open_pdf_writer


@dataclass(frozen=True, slots=True, kw_only=True)
class TextFieldSpec:
    """A text field to add to a draft: at an explicit box, or right after an anchor text."""

    name: str
    anchor: str | None = None
    """Put the field right after the first occurrence of this text on ``page``."""
    box: PageBox | None = None
    page: int = 0
    width_mm: float = 20.0
    font_size: float = 13.0


DEFAULT_FIELDS: tuple[TextFieldSpec, ...] = (
    TextFieldSpec(name="so", anchor="Số:", width_mm=14),
    TextFieldSpec(name="ngay", anchor="ngày", width_mm=8),
    TextFieldSpec(name="thang", anchor="tháng", width_mm=8),
)
"""The number after "Số:", the day after "ngày" and the month after "tháng" (box 3, box 4)."""


FIELD_LABELS = {"so": "Số", "ngay": "ngày", "thang": "tháng"}


def decree30_date_parts(day: date) -> dict[str, str]:
    """Day and month as Decree 30 writes them: a leading zero for days below 10 and for
    January and February ("ngày 05 tháng 02", "ngày 28 tháng 11")."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return {"ngay": f"{day.day:02d}", "thang": month}


def _field_box(spec: TextFieldSpec, writer: Any, pdf: bytes) -> tuple[int, tuple[float, ...]]:
    if spec.box is not None:
        box = box_from_page_box(writer, spec.box)
        return box.page, (box.x0, box.y0, box.x1, box.y1)
    if spec.anchor is None:
        raise UsageError(f"field {spec.name!r} needs an anchor text or a box")
    hits = find_text(pdf, spec.anchor, page=spec.page)
    if not hits:
        raise PlacementError(
            f"the anchor text {spec.anchor!r} for field {spec.name!r} is not on page "
            f"{spec.page + 1}",
            f"không thấy đoạn văn bản neo {spec.anchor!r} (ô {spec.name!r}) ở trang "
            f"{spec.page + 1}",
        )
    hit = hits[0]
    x0 = hit.x1 + 1.5
    height = spec.font_size * 1.3
    # the filled text is centred in the box: this puts its baseline on the anchor's
    y0 = hit.y0 - spec.font_size * 0.3 + 2.5
    return hit.page, (x0, y0, x0 + spec.width_mm * MM, y0 + height)


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
    if "/Helv" not in fonts:
        fonts[pdf_name("/Helv")] = writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Font"),
                    pdf_name("/Subtype"): pdf_name("/Type1"),
                    pdf_name("/BaseFont"): pdf_name("/Helvetica"),
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
        page_ix, rect = _field_box(spec, writer, source)
        widget = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string(spec.name),
                pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in rect),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/DA"): pdf_string(f"/Helv {spec.font_size:g} Tf 0 g"),
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
    for name, value in values.items():
        ref = by_name[name]
        widget = ref.get_object()
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        size = _font_size(widget)
        style = TextStampStyle(
            stamp_text="%(value)s",
            text_box_style=TextBoxStyle(
                font=SerifFont(font_size=round(size)),
                font_size=round(size),
                border_width=0,
                box_layout_rule=layout.SimpleBoxLayoutRule(
                    x_align=layout.AxisAlignment.ALIGN_MID,
                    y_align=layout.AxisAlignment.ALIGN_MID,
                    margins=layout.Margins.uniform(0),
                ),
            ),
            border_width=0,
            background=None,
        )
        stamp = style.create_stamp(
            writer,
            layout.BoxConstraints(width=round(abs(x1 - x0)), height=round(abs(y1 - y0))),
            {"value": value},
        )
        widget[pdf_name("/V")] = pdf_string(value)
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): stamp.register()})
        writer.update_container(widget)
    out = io.BytesIO()
    try:
        writer.write(out)
    except PdfError as exc:
        raise InputUnreadable(f"cannot update the PDF: {exc}") from exc
    return out.getvalue()


def _font_size(widget: Any) -> float:
    da = str(widget.get("/DA", ""))
    parts = da.split()
    if "Tf" in parts:
        try:
            size = float(parts[parts.index("Tf") - 1])
            if size > 0:
                return size
        except ValueError:
            pass
    return 13.0


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
