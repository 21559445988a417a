"""Validation is safe to run concurrently in one process: 50 mixed documents (PDFs through
the Decree 30 steps, forgeries, XML, CMS, garbage) validated at once give exactly the reports
they get one by one; and the fetchers are the caller's when given (the HTTP client is
injected, not opened behind its back)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from signing import PadesSigner, PadesSpec, XmlSignatureSpec, sign_xml
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import Decree30Documents
from tests.validation.test_pdf_forgeries import duplicate_entry, padded_signature_dictionary
from validation import TrustAnchors, ValidationPolicy, report_json, validate_bytes

XML = "<?xml version='1.0' encoding='UTF-8'?><vb><so>12</so><noidung>Giấy mời họp</noidung></vb>"


def _comparable(report: Any) -> str:
    return json.dumps(report_json(report), sort_keys=True, ensure_ascii=False)


async def test_fifty_documents_at_once_match_one_by_one(
    pki: DevPki, decree30: Decree30Documents, sample_pdf: bytes
) -> None:
    plain, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(sample_pdf)
    xml = await sign_xml(XML.encode(), pki.in_memory_key("agency"), XmlSignatureSpec())
    kinds = [
        decree30.final,
        decree30.personal,
        decree30.numbered,
        plain,
        duplicate_entry(plain),
        padded_signature_dictionary(decree30.final),
        xml,
        xml.replace("Giấy mời".encode(), "Quyết định".encode()),
        plain[: len(plain) // 2],
        b"not a signed document",
        sample_pdf,
    ]
    documents = [kinds[i % len(kinds)] for i in range(50)]
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}),
        offline=True,
        revocation="soft",
        validation_time=datetime.now(UTC),
    )
    one_by_one = [_comparable(await validate_bytes(d, policy)) for d in documents]
    at_once = await asyncio.gather(*(validate_bytes(d, policy) for d in documents))
    assert [_comparable(r) for r in at_once] == one_by_one
    # and the mix really is mixed: passes, failures and unreadable files
    verdicts = {json.loads(r)["indication"] for r in one_by_one}
    assert verdicts == {"TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"}


async def test_injected_fetchers_are_used_and_left_open(
    pki: DevPki, dev_services: DevServices, decree30: Decree30Documents
) -> None:
    """Online validation with the caller's fetchers: revocation comes from the test responder
    through them, and they still work afterwards (the validator did not close them)."""
    policy = ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)}))
    async with AIOHttpFetcherBackend() as fetchers:
        first = await validate_bytes(decree30.final, policy, fetchers=fetchers)
        second = await validate_bytes(decree30.final, policy, fetchers=fetchers)
    for report in (first, second):
        assert report.indication.name == "PASSED", [s.findings for s in report.signatures]
        assert all(s.revocation.status == "good" for s in report.signatures)
        assert all(s.revocation.source == "online" for s in report.signatures)
