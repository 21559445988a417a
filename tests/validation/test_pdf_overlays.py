"""Appearances added after a signature, over the signed content (shadow attacks and their
relatives). Each attack is built here, shown visible to poppler (``pdftotext`` or
``pdftoppm``), and caught: the signatures before it fail with the finding that names the
change and the revision that made it. The Decree 30 seal over the personal signature passes.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic as g
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.ades.report import AdESFailure, AdESStatus
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pyhanko.sign.timestamps import HTTPTimeStamper

from signing import AppearanceSpec, PadesSigner, PadesSpec, PageBox, Profile
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import Decree30Documents
from tests.validation.pdfforge import rendered_pixels
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes

FORGED = "DA DUYET CHI 10 TY"
BODY = (60.0, 400.0, 540.0, 700.0)  # the body text of the sample công văn, in points


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def _failed_with(report: DocumentReport, signature_id: str, code: str) -> None:
    sig = next(s for s in report.signatures if s.id == signature_id)
    assert (sig.indication, sig.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.FORMAT_FAILURE,
    ), [f.code for f in sig.findings]
    finding = next((f for f in sig.findings if f.code == code), None)
    assert finding is not None, [f.code for f in sig.findings]
    assert "revision" in finding.en and "phiên bản" in finding.vi  # who made the change


def _form_xobject(
    writer: IncrementalPdfFileWriter, box: tuple[float, ...], ops: bytes
) -> g.Reference:
    font = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Font"),
                g.NameObject("/Subtype"): g.NameObject("/Type1"),
                g.NameObject("/BaseFont"): g.NameObject("/Helvetica"),
            }
        )
    )
    stream = g.StreamObject(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/XObject"),
                g.NameObject("/Subtype"): g.NameObject("/Form"),
                g.NameObject("/BBox"): g.ArrayObject([g.FloatObject(v) for v in box]),
                g.NameObject("/Resources"): g.DictionaryObject(
                    {g.NameObject("/Font"): g.DictionaryObject({g.NameObject("/FF"): font})}
                ),
            }
        ),
        stream_data=ops,
    )
    return writer.add_object(stream)


def _cover(width: float, height: float) -> bytes:
    return b"1 1 1 rg 0 0 %.1f %.1f re f 0 0 0 rg BT /FF 28 Tf 20 %.1f Td (%s) Tj ET" % (
        width,
        height,
        height / 2,
        FORGED.encode(),
    )


def _repainted(before: bytes, after: bytes, box: tuple[float, float, float, float] = BODY) -> bool:
    """poppler (``pdftoppm``) paints ``box`` visibly differently in ``after``."""
    return abs(rendered_pixels(after, box) - rendered_pixels(before, box)) > 0.02


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def _signed(pki: DevPki, data: bytes, key: str = "personal") -> bytes:
    out, _ = await PadesSigner(pki.in_memory_key(key), PadesSpec()).sign_bytes(data)
    return out


async def test_unsigned_field_with_several_widgets(pki: DevPki, sample_pdf: bytes) -> None:
    """The first widget is an empty rectangle, the second paints over the body."""
    signed = await _signed(pki, sample_pdf)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    width, height = BODY[2] - BODY[0], BODY[3] - BODY[1]
    appearance = _form_xobject(writer, (0, 0, width, height), _cover(width, height))
    field = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/FT"): g.NameObject("/Sig"),
                g.NameObject("/T"): g.TextStringObject("Ghost"),
                g.NameObject("/Kids"): g.ArrayObject(),
            }
        )
    )
    widgets = []
    for rect, ap in (((0, 0, 0, 0), None), (BODY, appearance)):
        widget = g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Annot"),
                g.NameObject("/Subtype"): g.NameObject("/Widget"),
                g.NameObject("/Rect"): g.ArrayObject([g.FloatObject(v) for v in rect]),
                g.NameObject("/F"): g.NumberObject(4),
                g.NameObject("/P"): page_ref,
                g.NameObject("/Parent"): field,
            }
        )
        if ap is not None:
            widget[g.NameObject("/AP")] = g.DictionaryObject({g.NameObject("/N"): ap})
        widgets.append(writer.add_object(widget))
    field.get_object()["/Kids"] = g.ArrayObject(widgets)
    page["/Annots"] = g.ArrayObject([*page.get("/Annots", []), *widgets])
    writer.update_container(page)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(field)
    writer.update_container(
        form["/Fields"] if isinstance(form.raw_get("/Fields"), g.IndirectObject) else form
    )
    forged = _write(writer)
    assert _repainted(signed, forged)
    _failed_with(
        await validate_bytes(forged, _policy(pki)), "plain-1", "pdf.unsigned_field_overlay"
    )


async def test_document_timestamp_with_visible_appearance(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await _signed(pki, sample_pdf)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    append_signature_field(writer, SigFieldSpec(sig_field_name="Stamp", on_page=0, box=BODY))
    field = next(
        r.get_object()
        for r in writer.root["/AcroForm"]["/Fields"]
        if r.get_object().get("/T") == "Stamp"
    )
    width, height = BODY[2] - BODY[0], BODY[3] - BODY[1]
    field[g.NameObject("/AP")] = g.DictionaryObject(
        {g.NameObject("/N"): _form_xobject(writer, (0, 0, width, height), _cover(width, height))}
    )
    writer.update_container(field)
    stamper = signers.PdfTimeStamper(HTTPTimeStamper(dev_services.tsa_url), field_name="Stamp")
    out = await stamper.async_timestamp_pdf(writer, "sha256")
    forged = bytes(out.getvalue())
    assert _repainted(signed, forged)
    report = await validate_bytes(forged, _policy(pki))
    _failed_with(report, "plain-1", "pdf.timestamp_appearance")


async def test_later_signature_over_the_body(
    pki: DevPki, sample_pdf: bytes, seal_png: bytes
) -> None:
    """A second signature, by a trusted certificate, whose visible seal sits on the body
    text: it passes itself, the first one fails. Shown: poppler paints the seal there."""
    signed = await _signed(pki, sample_pdf)
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY,
            image_png=seal_png,
            placement=PageBox(page=1, x_mm=70, y_mm=80, width_mm=40, height_mm=40),
        )
    )
    later, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(signed)
    x0, top = 70 / 25.4 * 72, 842 - 80 / 25.4 * 72
    box = (x0, top - 40 / 25.4 * 72, x0 + 40 / 25.4 * 72, top)
    assert rendered_pixels(later, box) > rendered_pixels(signed, box) + 0.05
    report = await validate_bytes(later, _policy(pki))
    _failed_with(report, "plain-1", "pdf.signature_over_content")
    assert next(s for s in report.signatures if s.id == "agency-1").passed


async def test_hidden_annotation_made_visible(pki: DevPki, sample_pdf: bytes) -> None:
    """A hidden square annotation over the body, present when signing, then made visible."""
    writer = IncrementalPdfFileWriter(io.BytesIO(sample_pdf))
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    width, height = BODY[2] - BODY[0], BODY[3] - BODY[1]
    annot = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Annot"),
                g.NameObject("/Subtype"): g.NameObject("/Square"),
                g.NameObject("/Rect"): g.ArrayObject([g.FloatObject(v) for v in BODY]),
                g.NameObject("/F"): g.NumberObject(2),  # hidden
                g.NameObject("/AP"): g.DictionaryObject(
                    {
                        g.NameObject("/N"): _form_xobject(
                            writer, (0, 0, width, height), _cover(width, height)
                        )
                    }
                ),
            }
        )
    )
    page["/Annots"] = g.ArrayObject([*page.get("/Annots", []), annot])
    writer.update_container(page)
    prepared = _write(writer)
    signed = await _signed(pki, prepared)
    assert not _repainted(prepared, signed)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    target = next(
        a.get_object()
        for a in writer.root["/Pages"]["/Kids"][0]["/Annots"]
        if a.get_object().get("/Subtype") == "/Square"
    )
    target["/F"] = g.NumberObject(4)
    writer.update_container(target)
    forged = _write(writer)
    assert _repainted(signed, forged)
    _failed_with(await validate_bytes(forged, _policy(pki)), "plain-1", "pdf.annotation_revealed")


async def test_need_appearances_turned_on(pki: DevPki, decree30: Decree30Documents) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(decree30.personal))
    form = writer.root["/AcroForm"]
    form[g.NameObject("/NeedAppearances")] = g.BooleanObject(True)
    writer.update_container(form)
    forged = _write(writer)
    report = await validate_bytes(forged, _policy(pki))
    _failed_with(report, "personal-1", "pdf.form_defaults_changed")


async def test_appearance_replaced_value_unchanged(
    pki: DevPki, decree30: Decree30Documents
) -> None:
    """The number field keeps its (empty) value; its appearance now shows forged text. pyHanko
    0.38 calls this form filling."""
    writer = IncrementalPdfFileWriter(io.BytesIO(decree30.personal))
    widget = next(
        r.get_object()
        for r in writer.root["/AcroForm"]["/Fields"]
        if r.get_object().get("/T") == "so"
    )
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    widget[g.NameObject("/AP")] = g.DictionaryObject(
        {
            g.NameObject("/N"): _form_xobject(
                writer,
                (0, 0, x1 - x0, y1 - y0),
                b"BT /FF 9 Tf 1 3 Td (" + b"9999 FORGED" + b") Tj ET",
            )
        }
    )
    writer.update_container(widget)
    forged = _write(writer)
    assert _repainted(decree30.personal, forged, (x0, y0, x1, y1))
    report = await validate_bytes(forged, _policy(pki))
    _failed_with(report, "personal-1", "pdf.appearance_replaced")


async def test_decree30_seal_passes(pki: DevPki, decree30: Decree30Documents) -> None:
    report = await validate_bytes(decree30.final, _policy(pki))
    assert report.indication is AdESStatus.PASSED, [
        (s.id, [f.code for f in s.findings]) for s in report.signatures
    ]
    assert report.legal.valid
