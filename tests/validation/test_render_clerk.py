"""The report a clerk reads: each finding once, one word per verdict, names without English
labels, Vietnam time, warnings that stand out in HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from lxml import html as lxml_html
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing.dev.pki import DevPki
from validation import (
    DocumentReport,
    Role,
    SignatureReport,
    legal_verdict,
    render_html,
    render_json,
    render_text,
)
from validation.report import (
    CertificateInfo,
    Finding,
    RevocationInfo,
    TimestampInfo,
    format_failure,
    overall,
    people_time,
)

WHEN = datetime(2026, 12, 1, 15, 44, 54, tzinfo=UTC)
"""22:44:54 in Vietnam."""

SOFT = Finding(
    code="cert.revocation_unknown_accepted",
    severity="warning",
    en="the revocation status could not be established; accepted (soft)",
    vi="không xác định được trạng thái thu hồi; vẫn chấp nhận (chế độ mềm)",
)


def _document(pki: DevPki) -> DocumentReport:
    personal = SignatureReport(
        id="personal-1",
        kind="signature",
        indication=AdESStatus.INDETERMINATE,
        sub_indication=AdESIndeterminate.TRY_LATER,
        role=Role.PERSONAL,
        signer=CertificateInfo.of(pki.signers["personal"].asn1, is_organisation=False),
        claimed_signing_time=WHEN,
        integrity=True,
        trusted=True,
        trust_anchor=pki.root.asn1.subject.human_friendly,
        revocation=RevocationInfo(status="unknown"),
        findings=(SOFT, SOFT),
    )
    agency = SignatureReport(
        id="agency-1",
        kind="signature",
        indication=AdESStatus.PASSED,
        role=Role.AGENCY,
        signer=CertificateInfo.of(pki.signers["agency"].asn1, is_organisation=True),
        claimed_signing_time=WHEN,
        timestamp=TimestampInfo(
            time=WHEN, tsa="Lienthong Dev TSA", valid=True, kind="signature-timestamp"
        ),
        integrity=True,
        trusted=True,
    )
    sigs = (personal, agency)
    indication, sub = overall(sigs)
    return DocumentReport(
        file="cong-van.pdf",
        format="pdf",
        validation_time=WHEN,
        indication=indication,
        sub_indication=sub,
        legal=legal_verdict(sigs),
        signatures=sigs,
    )


def test_people_time_is_vietnam_time() -> None:
    assert people_time(WHEN) == "01/12/2026 22:44:54 (GMT+7)"


def test_text_report_reads_as_a_clerk_needs(pki: DevPki) -> None:
    vi = render_text([_document(pki)], "vi")
    assert vi.count(SOFT.vi) == 1, "a finding is printed once"
    # one verdict word per signature, also in the legal reason
    [reason] = [line for line in vi.splitlines() if "personal-1" in line and "✗" in line]
    assert "chưa xác định được" in reason and "không hợp lệ" not in reason, reason
    # the timestamp row says what its status means
    [stamp] = [line for line in vi.splitlines() if "Lienthong Dev TSA" in line]
    assert stamp.rstrip().endswith("do Lienthong Dev TSA cấp: hợp lệ"), stamp
    assert not re.search(r"\b(có|không)\s*\)?$", stamp)
    # names without asn1crypto's English labels
    for label in ("Common Name", "Organization", "Country"):
        assert label not in vi
    assert "Lienthong Dev Issuing CA" in vi and "Lienthong Dev Root CA" in vi
    # Vietnam time, never ISO 8601 or UTC, for people
    assert "01/12/2026 22:44:54 (GMT+7)" in vi
    assert "2026-12-01" not in vi and "+00:00" not in vi
    en = render_text([_document(pki)], "en")
    assert "issued by Lienthong Dev TSA: valid" in en
    assert "cannot be determined" in en and "01/12/2026 22:44:54 (GMT+7)" in en


def test_json_keeps_iso_8601(pki: DevPki) -> None:
    [entry] = json.loads(render_json([_document(pki)]))["reports"]
    assert entry["validation_time"] == "2026-12-01T15:44:54+00:00"
    assert entry["signatures"][0]["claimed_signing_time"] == "2026-12-01T15:44:54+00:00"
    assert "Common Name: " in entry["signatures"][0]["signer"]["issuer"]


def test_unreadable_file_is_said_once(tmp_path: Path) -> None:
    finding = Finding(code="file.unreadable", en="cannot read the file", vi="không đọc được tệp")
    report = format_failure(str(tmp_path / "x.pdf"), "unknown", WHEN, finding)
    for lang in ("vi", "en"):
        assert render_text([report], lang).count(finding.message(lang)) == 1
        assert render_html([report], lang).count(finding.message(lang)) == 1


def test_html_warnings_have_their_own_colour_and_mark(pki: DevPki) -> None:
    page = render_html([_document(pki)], "vi")
    tree = lxml_html.fromstring(page)
    [warning] = tree.xpath('//p[contains(@class, "finding") and contains(@class, "warning")]')
    assert warning.text_content().startswith("⚠ ") and SOFT.vi in warning.text_content()
    errors = tree.xpath('//p[contains(@class, "finding") and contains(@class, "error")]')
    assert errors and all(e.text_content().startswith("✗ ") for e in errors)
    style = tree.xpath("//style")[0].text
    warning_rule = re.search(r"\.finding\.warning\{([^}]*)\}", style)
    error_rule = re.search(r"\.finding\.error\{([^}]*)\}", style)
    assert warning_rule and error_rule
    colour = re.compile(r"(?:^|;)color:(#[0-9a-f]{6})")
    warning_colour = colour.search(warning_rule.group(1))
    error_colour = colour.search(error_rule.group(1))
    assert warning_colour and error_colour
    assert warning_colour.group(1) not in ("#111", error_colour.group(1))


def test_failed_signature_says_not_valid_once(pki: DevPki) -> None:
    forged = SignatureReport(
        id="agency-1",
        kind="signature",
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.HASH_FAILURE,
        role=Role.AGENCY,
        integrity=False,
    )
    [reason] = legal_verdict((forged,)).reasons[1:]
    assert reason.vi == "không có chữ ký số hợp lệ của cơ quan, tổ chức: agency-1 không hợp lệ"
    assert reason.en == "no valid signature of the agency: agency-1 not valid (HASH_FAILURE)"
