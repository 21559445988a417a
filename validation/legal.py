"""The legal check of Decree 30/2020 Art. 5: a main document has the legal value of the paper
original only with a valid signature of the competent person **and** a valid signature of
the agency. Separate attachments and electronic copies need the agency signature alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from validation.report import (
    VERDICT_WORDS,
    Finding,
    LegalVerdict,
    Role,
    SignatureReport,
)

DocumentKind = Literal["main", "attachment", "copy"]


def legal_verdict(
    signatures: Sequence[SignatureReport], kind: DocumentKind = "main"
) -> LegalVerdict:
    regular = [s for s in signatures if s.kind == "signature"]
    personal = [s for s in regular if s.role is Role.PERSONAL]
    agency = [s for s in regular if s.role is Role.AGENCY]
    good_personal = next((s for s in personal if s.passed), None)
    good_agency = next((s for s in agency if s.passed), None)
    reasons: list[Finding] = []
    if kind == "main" and good_personal is None:
        reasons.append(_missing("personal", personal))
    if good_agency is None:
        reasons.append(_missing("agency", agency))
    valid = not reasons
    return LegalVerdict(
        valid=valid,
        personal=good_personal.id if good_personal else None,
        agency=good_agency.id if good_agency else None,
        reasons=tuple(reasons),
        rule="decree30-art5" if kind == "main" else f"decree30-app1-{kind}",
    )


def _missing(role: Literal["personal", "agency"], present: Sequence[SignatureReport]) -> Finding:
    who_en = "the competent person (personal)" if role == "personal" else "the agency"
    who_vi = "người có thẩm quyền (cá nhân)" if role == "personal" else "cơ quan, tổ chức"
    if not present:
        return Finding(
            code=f"legal.no_{role}_signature",
            en=f"no signature of {who_en}: Decree 30 Art. 5 needs it",
            vi=f"không có chữ ký số của {who_vi}: Điều 5 Nghị định 30 yêu cầu",
        )
    ids = ", ".join(s.id for s in present)
    words = ", ".join(
        f"{s.id}: {VERDICT_WORDS[s.indication]['en']}"
        + (f" ({s.sub_indication.name})" if s.sub_indication else "")
        for s in present
    )
    words_vi = ", ".join(f"{s.id}: {VERDICT_WORDS[s.indication]['vi']}" for s in present)
    return Finding(
        code=f"legal.{role}_signature_not_valid",
        en=f"the signature of {who_en} ({ids}) is not valid: {words}",
        vi=f"chữ ký số của {who_vi} ({ids}) không hợp lệ: {words_vi}",
    )
