"""A shadow attack found in review: after signing, add an unsigned signature field whose
appearance paints over the page. pyHanko counts a new visible signature field as form
filling; we do not let it pass. Fields prepared before signing, and later signatures, still
pass."""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic as g
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.ades.report import AdESFailure, AdESStatus
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from signing import AppearanceSpec, ExistingField, PadesSigner, PadesSpec, Profile
from signing.dev.pki import DevPki
from validation import TrustAnchors, ValidationPolicy, validate_bytes


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def _overlay(signed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    append_signature_field(
        writer, SigFieldSpec(sig_field_name="Ghost", on_page=0, box=(0, 0, 595, 842))
    )
    field = next(
        r.get_object()
        for r in writer.root["/AcroForm"]["/Fields"]
        if r.get_object().get("/T") == "Ghost"
    )
    appearance = g.StreamObject(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/XObject"),
                g.NameObject("/Subtype"): g.NameObject("/Form"),
                g.NameObject("/BBox"): g.ArrayObject([g.FloatObject(v) for v in (0, 0, 595, 842)]),
            }
        ),
        stream_data=b"1 1 1 rg 0 0 595 842 re f",
    )
    field[g.NameObject("/AP")] = g.DictionaryObject(
        {g.NameObject("/N"): writer.add_object(appearance)}
    )
    writer.update_container(field)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_unsigned_overlay_field_added_after_signing_fails(
    pki: DevPki, sample_pdf: bytes
) -> None:
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(sample_pdf)
    report = await validate_bytes(_overlay(signed), _policy(pki))
    [sig] = report.signatures
    assert (sig.indication, sig.sub_indication) == (AdESStatus.FAILED, AdESFailure.FORMAT_FAILURE)
    assert any(f.code == "pdf.unsigned_field_overlay" for f in sig.findings)


async def test_prepared_field_signed_later_still_passes(
    pki: DevPki, sample_pdf: bytes, seal_png: bytes
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sample_pdf))
    append_signature_field(writer, SigFieldSpec("agency-seal", on_page=0, box=(300, 100, 400, 200)))
    prepared = io.BytesIO()
    writer.write(prepared)
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
        prepared.getvalue()
    )
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY, image_png=seal_png, placement=ExistingField(name="agency-seal")
        )
    )
    both, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(personal)
    report = await validate_bytes(both, _policy(pki))
    assert report.indication is AdESStatus.PASSED, report.signatures
    assert report.legal.valid
