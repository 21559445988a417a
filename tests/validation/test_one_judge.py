"""One certificate judge for every format: the same fact about a signer's certificate gives
the same indication and the same finding code in a PDF, an XML and a CMS signature."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing import PadesSigner, PadesSpec, XmlSignatureSpec, sign_xml
from signing.dev.pki import DevPki, SignerSpec
from tests.validation.test_cms import DATA, openssl_sign
from validation import SignatureReport, TrustAnchors, ValidationPolicy, validate_bytes

XML = "<?xml version='1.0' encoding='UTF-8'?><vb><so>7</so><nd>Thông báo</nd></vb>".encode()


def _codes(sig: SignatureReport) -> set[str]:
    return {f.code for f in sig.findings}


async def _three(
    pki: DevPki, name: str, sample_pdf: bytes, tmp_path: Path
) -> list[SignatureReport]:
    key = pki.in_memory_key(name)
    pdf, _ = await PadesSigner(key, PadesSpec()).sign_bytes(sample_pdf)
    xml = await sign_xml(XML, key, XmlSignatureSpec(kind="xades-b-b"))
    p7s = openssl_sign(tmp_path, pki, pki.signers[name])
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}),
        offline=True,
        crls=(pki.crl("issuing"), pki.crl("root")),
        validation_time=datetime.now(UTC) + timedelta(minutes=5),
    )
    reports = [
        await validate_bytes(pdf, policy),
        await validate_bytes(xml, policy),
        await validate_bytes(p7s, policy, detached_data=DATA),
    ]
    return [next(s for s in r.signatures if s.kind == "signature") for r in reports]


async def test_signed_after_the_revocation_is_revoked_everywhere(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    """Revoked an hour ago, signed now by the signer's own clock: TOTAL-FAILED / REVOKED in
    every format (EN 319 102-1 §5.3.4), ``cert.revoked``."""
    name = f"judge-revoked-{uuid.uuid4().hex[:8]}"
    pki.issue(SignerSpec(name=name, kind="individual", common_name="Phan Văn Thẩm"))
    pki.revoke(name, at=datetime.now(UTC) - timedelta(hours=1))
    sigs = await _three(pki, name, sample_pdf, tmp_path)
    assert [(s.indication, s.sub_indication) for s in sigs] == [
        (AdESStatus.FAILED, AdESFailure.REVOKED)
    ] * 3
    assert all("cert.revoked" in _codes(s) for s in sigs)
    assert all("time.no_timestamp" in _codes(s) for s in sigs)


async def test_revoked_later_is_revoked_no_poe_everywhere(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    """Signed, then revoked, judged after the revocation with no timestamp: nothing proves
    the signature came first — INDETERMINATE / REVOKED_NO_POE in every format."""
    name = f"judge-later-{uuid.uuid4().hex[:8]}"
    pki.issue(SignerSpec(name=name, kind="individual", common_name="Phan Văn Sau"))
    key_now = datetime.now(UTC)
    sigs_before = await _three(pki, name, sample_pdf, tmp_path)  # signed and judged: not revoked
    assert all(s.passed for s in sigs_before), [_codes(s) for s in sigs_before]
    pki.revoke(name, at=key_now + timedelta(minutes=2))
    # judged (by _three) five minutes after the signatures made below, which are made now,
    # before the revocation two minutes from now
    sigs = await _three(pki, name, sample_pdf, tmp_path)
    assert [(s.indication, s.sub_indication) for s in sigs] == [
        (AdESStatus.INDETERMINATE, AdESIndeterminate.REVOKED_NO_POE)
    ] * 3
    assert all("cert.revoked" in _codes(s) for s in sigs)


async def test_unknown_revocation_in_soft_mode_is_one_warning_everywhere(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    key = pki.in_memory_key("personal")
    pdf, _ = await PadesSigner(key, PadesSpec()).sign_bytes(sample_pdf)
    xml = await sign_xml(XML, key, XmlSignatureSpec(kind="xades-b-b"))
    p7s = openssl_sign(tmp_path, pki, pki.signers["personal"])
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )
    for data, detached in ((pdf, None), (xml, None), (p7s, DATA)):
        report = await validate_bytes(data, policy, detached_data=detached)
        [sig] = [s for s in report.signatures if s.kind == "signature"]
        assert sig.passed
        assert [f.code for f in sig.findings].count("cert.revocation_unknown_accepted") == 1
        assert "time.no_timestamp" in _codes(sig)
