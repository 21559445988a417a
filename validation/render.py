"""Reports for people: terminal text (Vietnamese by default, or English) and a self-contained
HTML page a clerk can open or print. JSON for programs is in :mod:`validation.report`."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from pyhanko.sign.ades.report import AdESStatus

from validation.report import (
    INDICATION_NAMES,
    VERDICT_WORDS,
    VIETNAM,
    DocumentReport,
    Finding,
    SignatureReport,
    people_time,
    reports_json,
)

__all__ = ["VIETNAM", "render_html", "render_json", "render_text"]

_LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "legal_ok": "Giá trị pháp lý (Điều 5 NĐ 30/2020): ĐỦ — "
        "có chữ ký cá nhân và chữ ký cơ quan hợp lệ",
        "legal_bad": "Giá trị pháp lý (Điều 5 NĐ 30/2020): CHƯA ĐỦ",
        "signature": "Chữ ký",
        "counter-signature": "Chữ ký xác nhận (ký chứng)",
        "counter_signs": "Xác nhận cho chữ ký",
        "document-timestamp": "Dấu thời gian tài liệu",
        "timestamp-token": "Dấu thời gian",
        "signer": "Người ký",
        "issuer": "Tổ chức cấp chứng thư",
        "claimed": "Thời điểm ký (theo máy người ký)",
        "timestamp": "Dấu thời gian",
        "no_timestamp": "không có dấu thời gian",
        "issued_by": "do {tsa} cấp",
        "timestamp_valid": "hợp lệ",
        "timestamp_not_valid": "không dùng làm bằng chứng được",
        "intact": "nguyên vẹn",
        "changed": "ĐÃ BỊ THAY ĐỔI",
        "integrity": "Toàn vẹn",
        "cert_valid": "Chứng thư còn hiệu lực lúc ký",
        "trusted": "Chuỗi tin cậy",
        "revocation": "Tình trạng thu hồi",
        "modification": "Thay đổi sau khi ký",
        "yes": "có",
        "no": "không",
        "unknown": "chưa rõ",
        "no_signatures": "Không có chữ ký nào.",
        "time": "Thời điểm kiểm tra",
    },
    "en": {
        "legal_ok": "Legal value (Decree 30/2020 Art. 5): YES — "
        "valid personal and agency signatures",
        "legal_bad": "Legal value (Decree 30/2020 Art. 5): NO",
        "signature": "Signature",
        "counter-signature": "Counter-signature",
        "counter_signs": "Counter-signs",
        "document-timestamp": "Document timestamp",
        "timestamp-token": "Timestamp",
        "signer": "Signer",
        "issuer": "Issuing CA",
        "claimed": "Claimed signing time (signer's clock)",
        "timestamp": "Timestamp",
        "no_timestamp": "no timestamp",
        "issued_by": "issued by {tsa}",
        "timestamp_valid": "valid",
        "timestamp_not_valid": "not usable as proof",
        "intact": "intact",
        "changed": "CHANGED",
        "integrity": "Integrity",
        "cert_valid": "Certificate valid at signing time",
        "trusted": "Trusted chain",
        "revocation": "Revocation",
        "modification": "Changes after signing",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "no_signatures": "No signatures.",
        "time": "Validation time",
    },
}

_ROLES = {
    "vi": {
        "personal": "cá nhân (người có thẩm quyền)",
        "agency": "cơ quan, tổ chức",
        "timestamp": "dấu thời gian",
        "unknown": "không rõ",
    },
    "en": {
        "personal": "personal (competent person)",
        "agency": "agency",
        "timestamp": "timestamp",
        "unknown": "unknown",
    },
}
_MODIFICATIONS = {
    "vi": {
        "NONE": "không có",
        "LTA_UPDATES": "chỉ dữ liệu kiểm tra và dấu thời gian",
        "FORM_FILLING": "điền biểu mẫu",
        "ANNOTATIONS": "chú thích",
        "OTHER": "thay đổi khác",
    },
    "en": {
        "NONE": "none",
        "LTA_UPDATES": "validation data and timestamps only",
        "FORM_FILLING": "form filling",
        "ANNOTATIONS": "annotations",
        "OTHER": "other changes",
    },
}
_REVOCATION = {
    "vi": {
        "good": "chưa bị thu hồi",
        "revoked": "ĐÃ BỊ THU HỒI",
        "unknown": "chưa xác định",
        "not-checked": "không kiểm tra",
    },
    "en": {
        "good": "not revoked",
        "revoked": "REVOKED",
        "unknown": "unknown",
        "not-checked": "not checked",
    },
}
_SOURCES = {
    "vi": {
        "embedded": "dữ liệu trong tài liệu",
        "supplied": "tệp được cung cấp",
        "online": "tra cứu trực tuyến",
    },
    "en": {
        "embedded": "embedded in the document",
        "supplied": "supplied file",
        "online": "fetched online",
    },
}


def _when(value: datetime | None) -> str:
    return "—" if value is None else people_time(value)


# asn1crypto's ``Name.human_friendly`` reads "Common Name: …, Organization: …, Country: VN"
# (or with "; " between the parts when a value holds a comma); people read just the names.
_NAME_LABEL = re.compile(r"(^|, |; )(?:[A-Z][A-Za-z]*(?:[ /][A-Z][A-Za-z]*)*|\d+(?:\.\d+)+): ")


def _names(distinguished_name: str) -> str:
    """The values of a certificate name without asn1crypto's English labels."""
    return _NAME_LABEL.sub(r"\1", distinguished_name)


def _flag(value: bool | None, lang: str) -> str:
    words = _LABELS[lang]
    return words["unknown"] if value is None else words["yes"] if value else words["no"]


def _verdict(status: AdESStatus, sub: object, lang: str) -> str:
    word = VERDICT_WORDS[status][lang]
    name = INDICATION_NAMES[status]
    detail = f" / {sub.name}" if sub is not None and hasattr(sub, "name") else ""
    return f"{word.upper()} ({name}{detail})"


def _signature_lines(sig: SignatureReport, lang: str) -> list[tuple[str, str]]:
    w = _LABELS[lang]
    rows: list[tuple[str, str]] = []
    role = _ROLES[lang][sig.role.value]
    rows.append((w[sig.kind], f"{sig.id} — {role}"))
    if sig.counter_signs is not None:
        rows.append((w["counter_signs"], sig.counter_signs))
    if sig.signer is not None:
        rows.append((w["signer"], sig.signer.common_name))
        rows.append((w["issuer"], _names(sig.signer.issuer)))
    rows.append((w["claimed"], _when(sig.claimed_signing_time)))
    if sig.timestamp is not None:
        status = w["timestamp_valid"] if sig.timestamp.valid else w["timestamp_not_valid"]
        issued = w["issued_by"].format(tsa=_names(sig.timestamp.tsa))
        rows.append((w["timestamp"], f"{_when(sig.timestamp.time)}, {issued}: {status}"))
    elif sig.kind == "signature":
        rows.append((w["timestamp"], w["no_timestamp"]))
    integrity = (
        w["unknown"] if sig.integrity is None else w["intact"] if sig.integrity else w["changed"]
    )
    rows.append((w["integrity"], integrity))
    rows.append((w["cert_valid"], _flag(sig.certificate_valid_at_signing_time, lang)))
    trusted = _flag(sig.trusted, lang)
    if sig.trust_anchor:
        trusted += f" ({_names(sig.trust_anchor)})"
    rows.append((w["trusted"], trusted))
    revocation = _REVOCATION[lang][sig.revocation.status]
    if sig.revocation.source:
        revocation += f" ({_SOURCES[lang][sig.revocation.source]})"
    rows.append((w["revocation"], revocation))
    if sig.modification is not None:
        rows.append(
            (w["modification"], _MODIFICATIONS[lang].get(sig.modification, sig.modification))
        )
    return rows


_MARKS = {"error": "✗", "warning": "⚠", "info": "·"}


def _finding(f: Finding, lang: str) -> str:
    return f"{_MARKS[f.severity]} {f.message(lang)}"


def _once(findings: Iterable[Finding], shown: set[tuple[str, str]]) -> list[Finding]:
    """The findings not shown yet (same code and text): a file that cannot be read is both
    the reason the legal check fails and a finding of the document, and is printed once."""
    fresh = []
    for f in findings:
        key = (f.code, f.en)
        if key not in shown:
            shown.add(key)
            fresh.append(f)
    return fresh


def render_text(reports: Sequence[DocumentReport], lang: str = "vi") -> str:
    w = _LABELS[lang]
    out: list[str] = []
    for report in reports:
        out.append(f"{report.file}: {_verdict(report.indication, report.sub_indication, lang)}")
        out.append(f"  {w['legal_ok'] if report.legal.valid else w['legal_bad']}")
        shown: set[tuple[str, str]] = set()
        for reason in _once(report.legal.reasons, shown):
            out.append(f"    {_finding(reason, lang)}")
        for finding in _once(report.findings, shown):
            out.append(f"  {_finding(finding, lang)}")
        if not report.signatures:
            out.append(f"  {w['no_signatures']}")
        for sig in report.signatures:
            out.append(f"  #{sig.id}: {_verdict(sig.indication, sig.sub_indication, lang)}")
            width = max(len(k) for k, _ in _signature_lines(sig, lang))
            for key, value in _signature_lines(sig, lang):
                out.append(f"      {key:<{width}}  {value}")
            for finding in _once(sig.findings, set()):
                out.append(f"      {_finding(finding, lang)}")
        out.append(f"  {w['time']}: {_when(report.validation_time)}")
        out.append("")
    return "\n".join(out)


def render_json(reports: Sequence[DocumentReport]) -> str:
    return json.dumps(reports_json(reports), ensure_ascii=False, indent=2)


_CSS = """
body{font-family:"Liberation Serif","Times New Roman",serif;margin:2em;color:#111}
h1{font-size:1.4em} h2{font-size:1.2em;margin-top:1.5em}
.ok{color:#0a6b2b} .bad{color:#b00020} .unsure{color:#9a6700}
.finding{margin:.25em 0;padding:.1em .5em;border-left:4px solid transparent}
.finding.error{color:#b00020;border-color:#b00020}
.finding.warning{color:#7a4f00;background:#fff4d6;border-color:#e0a100}
.finding.info{color:#555}
.box{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.8em 0}
table{border-collapse:collapse} td{padding:.15em .8em .15em 0;vertical-align:top}
td:first-child{color:#555;white-space:nowrap}
@media print{body{margin:0} .box{break-inside:avoid}}
"""


def _html_finding(f: Finding, lang: str) -> str:
    """A finding in its severity's colour and mark (warnings stand out from plain text)."""
    return f'<p class="finding {f.severity}">{html.escape(_finding(f, lang))}</p>'


def _css_class(status: AdESStatus) -> str:
    return {AdESStatus.PASSED: "ok", AdESStatus.FAILED: "bad"}.get(status, "unsure")


def render_html(reports: Sequence[DocumentReport], lang: str = "vi") -> str:
    """A self-contained page: no scripts, no external resources, everything escaped."""
    w = _LABELS[lang]
    esc = html.escape
    title = "Kết quả kiểm tra chữ ký số" if lang == "vi" else "Signature validation report"
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    for report in reports:
        cls = _css_class(report.indication)
        parts.append(
            f'<h2>{esc(report.file)}: <span class="{cls}">'
            f"{esc(_verdict(report.indication, report.sub_indication, lang))}</span></h2>"
        )
        legal_cls = "ok" if report.legal.valid else "bad"
        legal = w["legal_ok"] if report.legal.valid else w["legal_bad"]
        parts.append(f'<p class="{legal_cls}"><strong>{esc(legal)}</strong></p>')
        shown: set[tuple[str, str]] = set()
        for reason in _once((*report.legal.reasons, *report.findings), shown):
            parts.append(_html_finding(reason, lang))
        if not report.signatures:
            parts.append(f"<p>{esc(w['no_signatures'])}</p>")
        for sig in report.signatures:
            sig_cls = _css_class(sig.indication)
            parts.append('<div class="box">')
            parts.append(
                f'<p><strong>#{esc(sig.id)}</strong>: <span class="{sig_cls}">'
                f"{esc(_verdict(sig.indication, sig.sub_indication, lang))}</span></p>"
            )
            parts.append("<table>")
            for key, value in _signature_lines(sig, lang):
                parts.append(f"<tr><td>{esc(key)}</td><td>{esc(value)}</td></tr>")
            parts.append("</table>")
            for finding in _once(sig.findings, set()):
                parts.append(_html_finding(finding, lang))
            parts.append("</div>")
        parts.append(f"<p>{esc(w['time'])}: {esc(_when(report.validation_time))}</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
