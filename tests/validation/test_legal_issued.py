"""Decree 30 Art. 5, 14, 15: the legal verdict judges the document as it was issued. Each
case is built with the signing room and pyHanko's writer; the PDF rules may call the change
allowed, the legal check does not."""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic as g
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing import (
    DEFAULT_FIELDS,
    AppearanceSpec,
    PadesSigner,
    PadesSpec,
    PageBox,
    Profile,
    TextFieldSpec,
    add_text_fields,
    fill_text_fields,
)
from signing.dev.pki import DevPki
from tests.plugin import Decree30Documents
from tests.validation.pdfforge import rendered_text
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def _reason(report: DocumentReport, code: str) -> str:
    assert not report.legal.valid
    found = [f for f in report.legal.reasons if f.code == code]
    assert found, (
        [f.code for f in report.legal.reasons],
        [(s.id, [f.code for f in s.findings]) for s in report.signatures],
    )
    return found[0].vi


async def _seal(pki: DevPki, data: bytes, seal_png: bytes) -> bytes:
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    out, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(data)
    return out


async def test_as_issued_passes(pki: DevPki, decree30: Decree30Documents) -> None:
    report = await validate_bytes(decree30.final, _policy(pki))
    assert report.legal.valid, report.legal.reasons
    assert [u.revision for u in report.updates]  # the history is in the report


async def test_number_filled_again_before_the_seal(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes
) -> None:
    refilled = fill_text_fields(decree30.numbered, {"so": "999"})
    assert "999" in rendered_text(refilled)
    report = await validate_bytes(await _seal(pki, refilled, seal_png), _policy(pki))
    assert all(s.passed for s in report.signatures)  # the PDF rules allow form filling
    assert "so" in _reason(report, "legal.changed_before_agency")


async def test_other_field_filled_over_the_body(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes, seal_png: bytes
) -> None:
    fields = (*DEFAULT_FIELDS, TextFieldSpec(name="ghichu", anchor="Lưu:", width_mm=80))
    draft = add_text_fields(sample_pdf, fields)
    personal, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(draft)
    filled = fill_text_fields(
        personal, {"so": "12", "ngay": "01", "thang": "12", "ghichu": "HUY BO"}
    )
    report = await validate_bytes(await _seal(pki, filled, seal_png), _policy(pki))
    assert "HUY BO" in rendered_text(filled)
    # the personal signature locks every field but the number and date (FieldMDP): pyHanko's
    # own analysis fails it, and the clerk is told the personal signature no longer holds
    personal = next(s for s in report.signatures if s.id == "personal-1")
    assert any(f.code == "pdf.modified_after_signing" for f in personal.findings)
    _reason(report, "legal.personal_signature_not_valid")


async def test_third_signature_after_the_seal(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes
) -> None:
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY,
            image_png=seal_png,
            placement=PageBox(page=1, x_mm=40, y_mm=90, width_mm=60, height_mm=60),
        )
    )
    third, _ = await PadesSigner(pki.in_memory_key("agency-ec"), spec).sign_bytes(decree30.final)
    report = await validate_bytes(third, _policy(pki))
    # the third seal paints over the text: the PDF rules already fail the signatures before it
    personal = next(s for s in report.signatures if s.id == "personal-1")
    assert any(f.code == "pdf.signature_over_content" for f in personal.findings)
    _reason(report, "legal.personal_signature_not_valid")


async def test_seal_before_the_personal_signature(
    pki: DevPki, decree30: Decree30Documents, signature_png: bytes, seal_png: bytes
) -> None:
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY,
            image_png=seal_png,
            placement=PageBox(page=1, x_mm=110, y_mm=200, width_mm=36, height_mm=36),
        )
    )
    sealed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(decree30.draft)
    personal, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(sealed)
    report = await validate_bytes(personal, _policy(pki))
    _reason(report, "legal.agency_before_personal")


async def test_annotation_after_the_seal(pki: DevPki, decree30: Decree30Documents) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(decree30.final))
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    note = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Annot"),
                g.NameObject("/Subtype"): g.NameObject("/FreeText"),
                g.NameObject("/Rect"): g.ArrayObject(
                    [g.FloatObject(v) for v in (80, 500, 400, 560)]
                ),
                g.NameObject("/Contents"): g.TextStringObject("Đã hủy"),
                g.NameObject("/DA"): g.TextStringObject("0 0 0 rg /Helv 20 Tf"),
                g.NameObject("/F"): g.NumberObject(4),
            }
        )
    )
    page["/Annots"] = g.ArrayObject([*page["/Annots"], note])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report = await validate_bytes(out.getvalue(), _policy(pki))
    assert not report.legal.valid
    assert {f.code for f in report.legal.reasons} & {
        "legal.changed_after_agency",
        "legal.agency_signature_not_valid",
    }


async def test_refill_after_the_seal_is_reported(pki: DevPki, decree30: Decree30Documents) -> None:
    """The number re-filled after the seal: whatever the PDF rules say, the clerk is told."""
    refilled = fill_text_fields(decree30.final, {"so": "999"})
    report = await validate_bytes(refilled, _policy(pki))
    assert not report.legal.valid
    assert any(
        f.code in ("legal.changed_after_agency", "legal.agency_signature_not_valid")
        for f in report.legal.reasons
    )
