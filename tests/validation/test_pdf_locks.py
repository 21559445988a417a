"""Our own documents lock what they should, so that pyHanko's own analysis (and Acrobat's)
agrees with the legal check: the personal signature locks every field but the number and
date (FieldMDP), the agency signature locks the document (``/Lock`` with ``/P 1``), while
validation data and document timestamps stay possible (the archive takes sealed documents
to B-LTA)."""

from __future__ import annotations

import io

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import FieldMDPAction, MDPPerm
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from signing import fill_text_fields
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import Decree30Documents, pyhanko_verdicts
from validation import TrustAnchors, ValidationPolicy, validate_bytes


async def test_locks_are_written(decree30: Decree30Documents) -> None:
    reader = PdfFileReader(io.BytesIO(decree30.final))
    by_name = {str(s.field_name): s for s in reader.embedded_signatures}
    personal, agency = by_name["personal-1"], by_name["agency-1"]
    assert personal.fieldmdp is not None
    assert personal.fieldmdp.action is FieldMDPAction.INCLUDE
    assert {"so", "ngay", "thang"}.isdisjoint(personal.fieldmdp.fields or [])
    assert "personal-1" in (personal.fieldmdp.fields or [])
    assert personal.docmdp_level is None  # an approval signature: the seal may follow
    assert agency.docmdp_level is MDPPerm.NO_CHANGES


async def test_change_after_the_seal_fails_in_pyhanko(
    pki: DevPki, dev_services: DevServices, decree30: Decree30Documents
) -> None:
    """The number re-filled after the seal: pyHanko itself says the agency's DocMDP is
    violated, not only our rules."""
    refilled = fill_text_fields(decree30.final, {"so": "999"})
    verdicts = {v.field: v for v in await pyhanko_verdicts(refilled, pki)}
    assert not verdicts["agency-1"].docmdp_ok
    assert verdicts["personal-1"].docmdp_ok  # the number field is not locked by the person
    report = await validate_bytes(
        refilled,
        ValidationPolicy(
            anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
        ),
    )
    agency = next(s for s in report.signatures if s.id == "agency-1")
    assert not agency.passed
    assert not report.legal.valid


async def test_sealed_document_can_still_go_to_b_lta(
    pki: DevPki, dev_services: DevServices, decree30: Decree30Documents
) -> None:
    """Validation data and a document timestamp after the seal: every signature still passes,
    in pyHanko's opinion and ours, and the document stays legally valid."""
    writer = IncrementalPdfFileWriter(io.BytesIO(decree30.final))
    stamper = signers.PdfTimeStamper(HTTPTimeStamper(dev_services.tsa_url))
    async with AIOHttpFetcherBackend() as fetchers:
        context = ValidationContext(
            trust_roots=[pki.root.asn1], allow_fetching=True, fetchers=fetchers
        )
        out = await stamper.async_timestamp_pdf(writer, "sha256", validation_context=context)
    lta = bytes(out.getvalue())
    verdicts = await pyhanko_verdicts(lta, pki)
    assert all(v.docmdp_ok and v.intact and v.valid for v in verdicts), verdicts
    report = await validate_bytes(
        lta, ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)}), revocation="soft")
    )
    assert all(s.passed for s in report.signatures), [
        (s.id, [f.code for f in s.findings]) for s in report.signatures
    ]
    assert any(s.kind == "document-timestamp" for s in report.signatures)
    assert report.legal.valid, report.legal.reasons
