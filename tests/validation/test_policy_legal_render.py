"""The pieces around the format validators: agency rule, the Decree 30 legal check, format
detection, renderings and evidence export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing.dev.pki import DevPki
from validation import (
    AgencyRule,
    DocumentReport,
    Evidence,
    PolicyError,
    Role,
    SignatureReport,
    TrustAnchors,
    ValidationPolicy,
    detect_format,
    legal_verdict,
    render_html,
    render_json,
    render_text,
    write_evidence,
)
from validation.report import CertificateInfo, Finding, overall


def test_agency_rule_tells_agency_from_person(pki: DevPki) -> None:
    rule = AgencyRule()
    assert rule.is_organisation(pki.signers["agency"].asn1)  # MST: uid, CN = O
    assert rule.is_organisation(pki.signers["agency-ec"].asn1)
    for person in ("personal", "personal-pss", "personal-ec"):
        assert not rule.is_organisation(pki.signers[person].asn1)  # CCCD: uid
    # without UIDs, CN = O decides; the rule can be switched off
    assert not AgencyRule(organisation_uid_prefixes=(), cn_equals_o=False).is_organisation(
        pki.signers["agency"].asn1
    )


def _sig(sig_id: str, role: Role, status: AdESStatus = AdESStatus.PASSED) -> SignatureReport:
    sub = None if status is AdESStatus.PASSED else AdESFailure.HASH_FAILURE
    return SignatureReport(
        id=sig_id, kind="signature", indication=status, sub_indication=sub, role=role
    )


def test_legal_needs_valid_personal_and_agency_signatures() -> None:
    both = legal_verdict([_sig("p", Role.PERSONAL), _sig("a", Role.AGENCY)])
    assert both.valid and (both.personal, both.agency) == ("p", "a")
    personal_only = legal_verdict([_sig("p", Role.PERSONAL)])
    assert not personal_only.valid
    assert [r.code for r in personal_only.reasons] == ["legal.no_agency_signature"]
    assert "Decree 30 Art. 5" in personal_only.reasons[0].en
    assert "Điều 5 Nghị định 30" in personal_only.reasons[0].vi
    broken = legal_verdict([_sig("p", Role.PERSONAL, AdESStatus.FAILED), _sig("a", Role.AGENCY)])
    assert not broken.valid
    assert broken.reasons[0].code == "legal.personal_signature_not_valid"
    assert "HASH_FAILURE" in broken.reasons[0].en
    # separate attachments and copies: the agency signature alone
    assert legal_verdict([_sig("a", Role.AGENCY)], kind="attachment").valid


def test_overall_is_the_worst_and_none_is_signed_data_not_found() -> None:
    assert overall([]) == (AdESStatus.INDETERMINATE, AdESIndeterminate.SIGNED_DATA_NOT_FOUND)
    sigs = [_sig("a", Role.AGENCY), _sig("b", Role.PERSONAL, AdESStatus.FAILED)]
    assert overall(sigs) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><a/>", "xml"),
        (b"\x30\x03\x02\x01\x00", "unknown"),
        (b"hello", "unknown"),
    ],
)
def test_detect_format_from_content(data: bytes, kind: str) -> None:
    assert detect_format(data) == kind


def test_policy_refuses_naive_time_and_bad_anchor_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError):
        ValidationPolicy(validation_time=datetime(2026, 1, 1))  # noqa: DTZ001
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(PolicyError, match="no readable certificate"):
        TrustAnchors.from_files({"public": [bad]})


def test_trust_anchor_purposes(pki: DevPki, pki_files: Path) -> None:
    anchors = TrustAnchors.from_files(
        {"public": [pki_files / "chain.pem"], "special-use": [pki_files]}
    )
    assert len(anchors.by_purpose["public"]) == 2
    assert anchors.purpose_of(pki.root.asn1) == "public"
    assert len(anchors.all()) == 2


def _report(pki: DevPki) -> DocumentReport:
    personal = SignatureReport(
        id="personal-1",
        kind="signature",
        indication=AdESStatus.PASSED,
        role=Role.PERSONAL,
        signer=CertificateInfo.of(pki.signers["personal"].asn1, is_organisation=False),
        claimed_signing_time=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        integrity=True,
        signature_valid=True,
        certificate_valid_at_signing_time=True,
        trusted=True,
        modification="FORM_FILLING",
        findings=(
            Finding(
                code="pdf.no_timestamp",
                severity="info",
                en="no timestamp",
                vi="không có dấu thời gian",
            ),
        ),
    )
    forged = SignatureReport(
        id="agency-1",
        kind="signature",
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.HASH_FAILURE,
        role=Role.AGENCY,
        signer=CertificateInfo.of(pki.signers["agency"].asn1, is_organisation=True),
        integrity=False,
        findings=(Finding(code="x", en="<script>alert(1)</script>", vi="<b>xấu</b>"),),
    )
    sigs = (personal, forged)
    indication, sub = overall(sigs)
    return DocumentReport(
        file="công văn <1>.pdf",
        format="pdf",
        validation_time=datetime(2026, 11, 28, tzinfo=UTC),
        indication=indication,
        sub_indication=sub,
        legal=legal_verdict(sigs),
        signatures=sigs,
        evidence=Evidence(certificates=(pki.signers["personal"].asn1.dump(),), crls=(pki.crl(),)),
    )


def test_renderings(pki: DevPki, tmp_path: Path) -> None:
    report = _report(pki)
    doc = json.loads(render_json([report]))
    assert doc["schema"] == "lienthong-validation/1"
    [entry] = doc["reports"]
    assert (entry["indication"], entry["sub_indication"]) == ("TOTAL-FAILED", "HASH_FAILURE")
    assert entry["legal"]["valid"] is False
    assert [s["indication"] for s in entry["signatures"]] == ["TOTAL-PASSED", "TOTAL-FAILED"]
    assert entry["signatures"][0]["sub_indication"] is None
    assert entry["signatures"][0]["signer"]["common_name"] == "Nguyễn Thị Hương Giang"

    vi = render_text([report], "vi")
    assert "KHÔNG HỢP LỆ (TOTAL-FAILED / HASH_FAILURE)" in vi
    assert "Giá trị pháp lý (Điều 5 NĐ 30/2020): CHƯA ĐỦ" in vi
    assert "Nguyễn Thị Hương Giang" in vi and "điền biểu mẫu" in vi
    en = render_text([report], "en")
    assert "NOT VALID (TOTAL-FAILED / HASH_FAILURE)" in en and "form filling" in en

    page = render_html([report], "vi")
    assert "<b>xấu" not in page and "&lt;b&gt;xấu&lt;/b&gt;" in page
    assert "<script>" not in render_html([report], "en")
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//h2")[0].text_content().startswith("công văn <1>.pdf")
    assert not tree.xpath("//script|//link|//img"), "self-contained, nothing to fetch"

    files = write_evidence(report, tmp_path / "ev")
    names = sorted(str(p.relative_to(tmp_path / "ev")) for p in files)
    assert names == ["certificates/01.cer", "crls/01.crl", "report.json"]
    sums = (tmp_path / "ev" / "SHA256SUMS").read_text()
    assert "crls/01.crl" in sums


def test_document_timestamps_alone_are_not_a_signature() -> None:
    stamp = SignatureReport(
        id="ts", kind="document-timestamp", indication=AdESStatus.PASSED, role=Role.TIMESTAMP
    )
    assert overall([stamp]) == (AdESStatus.INDETERMINATE, AdESIndeterminate.SIGNED_DATA_NOT_FOUND)
    broken = SignatureReport(
        id="ts",
        kind="document-timestamp",
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.HASH_FAILURE,
        role=Role.TIMESTAMP,
    )
    assert overall([broken]) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)
    assert overall([stamp, _sig("a", Role.AGENCY)]) == (AdESStatus.PASSED, None)
