"""The legal check of Decree 30/2020 Art. 5: a main document has the legal value of the paper
original only with a valid signature of the competent person **and** a valid signature of
the agency. Separate attachments and electronic copies need the agency signature alone.

For a PDF the document is judged **as it was issued** (Art. 5, 14, 15), from what each
revision changed (:class:`~validation.report.RevisionUpdate`):

* the agency signature comes after the personal signature and covers it;
* between them, only the number and date are filled in (once: the fields
  :data:`NUMBER_DATE_FIELDS`), validation data may be added, and the agency signature itself;
* after the agency signature, only validation data and document timestamps without a
  visible appearance.

Anything else (a re-filled number, another field filled, a third signature, an annotation,
a seal applied before the personal signature) makes the verdict false with a reason a clerk
understands, even where the PDF rules call the change "allowed".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal

from pyhanko.sign.ades.report import AdESStatus

from validation.report import (
    VERDICT_WORDS,
    Finding,
    LegalVerdict,
    RevisionUpdate,
    Role,
    SignatureReport,
)

DocumentKind = Literal["main", "attachment", "copy"]

NUMBER_DATE_FIELDS = frozenset({"so", "ngay", "thang", "nam"})
"""The form fields the system fills with the number and date after the personal signature
(the names ``signing`` gives them: Số, ngày, tháng, năm)."""

_WORDS = {
    "signature": ("another signature", "một chữ ký khác"),
    "timestamp": ("a visible document timestamp", "một dấu thời gian có hình hiển thị"),
    "fill": ("field {name} filled in", "ô {name} được điền"),
    "refill": ("field {name} filled in again", "ô {name} bị điền lại"),
    "large-fill": (
        "field {name} filled with more than a number or a date (a box or a text too large, or "
        "an appearance that shows something other than its value)",
        "ô {name} được điền nhiều hơn một số hay một ngày tháng (khung hoặc nội dung quá lớn, "
        "hoặc hình hiển thị khác với giá trị đã điền)",
    ),
    "unsigned-field": ("an unsigned signature field {name}", "một ô chữ ký chưa ký {name}"),
    "appearance": ("the look of field {name} changed", "hình hiển thị của ô {name} bị thay đổi"),
    "revealed": ("a hidden {name} made visible", "một {name} đang ẩn bị cho hiện ra"),
    "hidden": ("{name} hidden or taken off the page", "{name} bị ẩn hoặc bị gỡ khỏi trang"),
    "annotation": ("an annotation {name}", "một chú thích {name}"),
    "form-defaults": ("the form's {name} changed", "{name} của biểu mẫu bị thay đổi"),
}


_AGENCY_FIRST = Finding(
    code="legal.agency_before_personal",
    en="the agency signature was applied before the personal signature: it must come after it "
    "and cover it",
    vi="chữ ký số của cơ quan được ký trước chữ ký của người có thẩm quyền: chữ ký cơ quan phải "
    "ký sau và bao trùm chữ ký cá nhân",
)


def legal_verdict(
    signatures: Sequence[SignatureReport],
    kind: DocumentKind = "main",
    updates: Sequence[RevisionUpdate] = (),
) -> LegalVerdict:
    regular = [s for s in signatures if s.kind == "signature"]
    personal = [s for s in regular if s.role is Role.PERSONAL]
    agency = [s for s in regular if s.role is Role.AGENCY]
    good_personal = next((s for s in personal if s.passed), None)
    good_agency = next((s for s in agency if s.passed), None)
    reasons: list[Finding] = []
    # a signature nobody can read or place (role unknown), or a document timestamp that is
    # broken (not merely untrusted here), is still something added to the document
    unplaced = [
        s
        for s in signatures
        if (s.kind == "signature" and not s.passed and s.role is Role.UNKNOWN)
        or (s.kind == "document-timestamp" and s.indication is AdESStatus.FAILED)
    ]
    if updates and unplaced:
        reasons.append(
            Finding(
                code="legal.unreadable_signature",
                en="the document carries a signature or timestamp that cannot be verified ("
                + ", ".join(s.id for s in unplaced)
                + "): it was not issued as signed",
                vi="văn bản có chữ ký hoặc dấu thời gian không kiểm tra được ("
                + ", ".join(s.id for s in unplaced)
                + "): văn bản không được ban hành đúng như đã ký",
            )
        )
    if kind == "main" and good_personal is None:
        reasons.append(_missing("personal", personal))
    if good_agency is None:
        reasons.append(_missing("agency", agency))
    if good_agency is not None and good_agency.revision is not None:
        if kind == "main" and good_personal is not None and good_personal.revision is not None:
            later = [
                s
                for s in agency
                if s.passed and s.revision is not None and s.revision > good_personal.revision
            ]
            if not later:
                reasons.append(_AGENCY_FIRST)
            else:
                good_agency = later[0]
                reasons.extend(
                    _between(good_personal.revision, good_agency.revision or 0, updates, regular)
                )
        if good_agency.revision is not None:
            reasons.extend(_after(good_agency.revision, updates, signatures))
    if kind == "main" and good_personal is not None and good_agency is not None:
        mismatch = _other_agency(good_personal, good_agency)
        if mismatch is not None:
            reasons.append(mismatch)
    first_personal = min((s.revision for s in personal if s.revision is not None), default=None)
    agency_revisions = [s.revision for s in agency if s.revision is not None]
    if (
        kind == "main"
        and first_personal is not None
        and agency_revisions
        and max(agency_revisions) < first_personal
        and not any(r.code == "legal.agency_before_personal" for r in reasons)
    ):
        reasons.append(_AGENCY_FIRST)
    valid = not reasons
    return LegalVerdict(
        valid=valid,
        personal=good_personal.id if good_personal else None,
        agency=good_agency.id if good_agency else None,
        reasons=tuple(reasons),
        rule="decree30-art5" if kind == "main" else f"decree30-app1-{kind}",
    )


def _same_name(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).casefold().split() == (
        unicodedata.normalize("NFC", b).casefold().split()
    )


def _other_agency(personal: SignatureReport, agency: SignatureReport) -> Finding | None:
    """The seal must be the issuing agency's: when the competent person's certificate names
    an organisation (O), the agency certificate must name the same one (as its O or CN)."""
    person_org = personal.signer.organisation if personal.signer else None
    if not person_org or agency.signer is None:
        return None
    names = [n for n in (agency.signer.organisation, agency.signer.common_name) if n]
    if any(_same_name(person_org, n) for n in names):
        return None
    seal = agency.signer.organisation or agency.signer.common_name
    return Finding(
        code="legal.agency_mismatch",
        en=f"the agency signature is by {seal}, not by the signer's agency ({person_org})",
        vi=f"chữ ký số cơ quan là của {seal}, không phải của cơ quan người ký ({person_org})",
    )


def _describe(kind: str, name: str) -> tuple[str, str]:
    en, vi = _WORDS.get(kind, ("a change ({name})", "một thay đổi ({name})"))
    return en.format(name=name), vi.format(name=name)


def _between(
    personal: int,
    agency: int,
    updates: Sequence[RevisionUpdate],
    regular: Sequence[SignatureReport],
) -> list[Finding]:
    """Between the personal and the agency signature: the number and date, once."""
    found: list[Finding] = []
    extra = [s for s in regular if s.revision is not None and personal < s.revision < agency]
    for sig in extra:
        found.append(
            Finding(
                code="legal.changed_before_agency",
                en=f"between the personal and the agency signature, another signature ({sig.id}) "
                "was added: the document was not issued as signed",
                vi=f"giữa chữ ký cá nhân và chữ ký cơ quan có thêm chữ ký khác ({sig.id}): văn "
                "bản không được ban hành đúng như đã ký",
            )
        )
    for update in updates:
        if not personal < update.revision <= agency:
            continue
        for change, name in update.changes:
            if change == "dss" or (change == "fill" and name in NUMBER_DATE_FIELDS):
                continue
            if change == "signature":
                continue  # the seal itself, or another signature reported above by name
            en, vi = _describe(change, name)
            found.append(
                Finding(
                    code="legal.changed_before_agency",
                    en=f"between the personal and the agency signature: {en} (revision "
                    f"{update.revision}); only the number and date may be filled in",
                    vi=f"giữa chữ ký cá nhân và chữ ký cơ quan: {vi} (phiên bản "
                    f"{update.revision}); chỉ được điền số và ngày tháng văn bản",
                )
            )
    return found


def _after(
    agency: int, updates: Sequence[RevisionUpdate], signatures: Sequence[SignatureReport]
) -> list[Finding]:
    """After the agency signature: validation data and invisible document timestamps only."""
    found: list[Finding] = []
    for sig in signatures:
        if sig.kind == "signature" and sig.revision is not None and sig.revision > agency:
            found.append(
                Finding(
                    code="legal.changed_after_agency",
                    en=f"a signature ({sig.id}) was added after the agency signature: the "
                    "issued document was changed",
                    vi=f"có chữ ký ({sig.id}) được thêm sau chữ ký của cơ quan: văn bản đã ban "
                    "hành bị thay đổi",
                )
            )
    for update in updates:
        if update.revision <= agency:
            continue
        for change, name in update.changes:
            if change == "dss" or change == "signature":
                continue  # validation data; signatures are reported above
            en, vi = _describe(change, name)
            found.append(
                Finding(
                    code="legal.changed_after_agency",
                    en=f"after the agency signature: {en} (revision {update.revision}); only "
                    "validation data and invisible timestamps may be added",
                    vi=f"sau chữ ký của cơ quan: {vi} (phiên bản {update.revision}); chỉ được "
                    "bổ sung dữ liệu kiểm tra và dấu thời gian không hiển thị",
                )
            )
    return found


def _missing(role: Literal["personal", "agency"], present: Sequence[SignatureReport]) -> Finding:
    who_en = "the competent person (personal)" if role == "personal" else "the agency"
    who_vi = "người có thẩm quyền (cá nhân)" if role == "personal" else "cơ quan, tổ chức"
    if not present:
        return Finding(
            code=f"legal.no_{role}_signature",
            en=f"no signature of {who_en}: Decree 30 Art. 5 needs it",
            vi=f"không có chữ ký số của {who_vi}: Điều 5 Nghị định 30 yêu cầu",
        )
    # each signature with its one verdict word ("personal-1 cannot be determined"), not
    # "not valid" followed by a different verdict
    words = ", ".join(
        f"{s.id} {VERDICT_WORDS[s.indication]['en']}"
        + (f" ({s.sub_indication.name})" if s.sub_indication else "")
        for s in present
    )
    words_vi = ", ".join(f"{s.id} {VERDICT_WORDS[s.indication]['vi']}" for s in present)
    return Finding(
        code=f"legal.{role}_signature_not_valid",
        en=f"no valid signature of {who_en}: {words}",
        vi=f"không có chữ ký số hợp lệ của {who_vi}: {words_vi}",
    )
