"""The offline check of a package out of the archive.

:func:`verify_package` needs no database and no network: the METS checksums of every file,
each document's evidence record (its hash in the tree, every archive timestamp valid when the
next one was made, the last valid at the verification time), then the document's own
signatures judged at the time the first archive timestamp proves, from the validation data
the document carries.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.composition import MAX_BYTES as COMPOSITION_LIMIT
from archive.composition import PATH as COMPOSITION_PATH
from archive.composition import RECORD_PATH as COMPOSITION_RECORD_PATH
from archive.composition import Composition, parse_composition
from archive.errors import EvidenceInvalid, PackageInvalid
from archive.ers import Judge, Verification, timestamp_judge, verify
from archive.mets import PackageCheck, PackageEntry, check_package
from validation import VIETNAM, TrustAnchors, ValidationPolicy, report_json, validate_bytes

MAX_DOCUMENT_SIZE = 2 * 1024**3
"""A document is at most 2 GiB: a larger one is refused before it is read."""

COMPOSITION = (
    "each document is proven; the package's composition (METS) is not covered by an "
    "archive timestamp",
    "từng văn bản được chứng minh; thành phần của gói (METS) không được dấu thời gian lưu trữ "
    "nào bao phủ",
)
"""What a proven verdict covers, and what it does not, when the package carries no record
of its composition (packages of dossiers ingested before the archive made them)."""

COMPOSED = (
    "each document is proven; the package holds exactly the documents of the composition "
    "record it carries (version {version}, made {made}), whose timestamp is proven; but the "
    "record is not signed by the archive, so this finds documents lost or added by mistake, "
    "not a forger, who could make and timestamp such a record himself; the descriptive "
    "metadata (EAD, PREMIS) is not covered by an archive timestamp",
    "từng văn bản được chứng minh; gói có đúng các văn bản của bản ghi thành phần hồ sơ đi kèm "
    "(phiên bản {version}, lập lúc {made}), dấu thời gian của bản ghi được chứng minh; nhưng "
    "bản ghi không được kho ký số, nên điều này phát hiện văn bản bị mất hoặc thêm nhầm, không "
    "chống được người giả mạo tự lập và đóng dấu thời gian một bản ghi như vậy; siêu dữ liệu "
    "mô tả (EAD, PREMIS) không được dấu thời gian lưu trữ nào bao phủ",
)
"""What a proven verdict covers when the package carries its composition record and matches
it. The record's evidence record proves when it existed, not who made it: until the archive
signs it, it is a check of completeness, not of authenticity."""


@dataclass(frozen=True, slots=True)
class DocumentProof:
    name: str
    intact: bool
    """Its bytes match METS."""
    evidence: Verification | None
    """None: the package has no evidence record for it."""
    indication: str | None
    """The document's own signatures, judged at the proven time (None: not judged)."""
    legal: str | None
    problems: tuple[tuple[str, str], ...]
    """(en, vi) of each thing that does not hold."""

    @property
    def proven(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class PackageVerdict:
    path: Path
    objid: str
    at: datetime
    documents: tuple[DocumentProof, ...]
    problems: tuple[tuple[str, str], ...]
    """Problems of the package itself (METS checksums, missing or unlisted files, files in
    data/ that are no document, no document at all)."""
    scope: tuple[str, str] = COMPOSITION
    """(en, vi): what ``proven`` claims. The evidence records bind each document's bytes, not
    which documents the dossier holds: a package recomposed from genuinely sealed documents
    (METS rewritten consistently) is proven document by document, nothing more."""

    @property
    def proven(self) -> bool:
        return bool(self.documents) and not self.problems and all(d.proven for d in self.documents)


async def verify_package(
    path: Path, *, anchors: TrustAnchors, at: datetime | None = None
) -> PackageVerdict:
    """Check a package offline at ``at`` (default now), trusting ``anchors`` for the
    timestamp authorities and the signers."""
    when = at or datetime.now(UTC)
    check = await asyncio.to_thread(check_package, path)
    judge = timestamp_judge(anchors)
    proofs = []
    for entry in check.documents:
        proofs.append(await _prove(check, entry.name, entry, anchors, judge, when))
    problems = [(f"{f.path}: {f.en}", f"{f.path}: {f.vi}") for f in check.findings]
    documents = {entry.data_path for entry in check.documents}
    for member in sorted(check.members):
        parts = member.split("/")
        in_data = len(parts) > 3 and parts[0] == "representations" and parts[2] == "data"
        if in_data and member not in documents:
            problems.append(
                (
                    f"{member}: a file in data/ that is not a document of the package: "
                    "no evidence record covers it",
                    f"{member}: tệp trong data/ không phải văn bản của gói: "
                    "không bản ghi bằng chứng nào bao phủ",
                )
            )
    if not check.documents:
        problems.append(
            ("the package lists no document: it proves nothing", "gói không liệt kê văn bản nào")
        )
    scope = COMPOSITION
    if COMPOSITION_PATH in check.members:
        found, composition = await _prove_composition(check, judge, when)
        problems += found
        if not found and composition is not None:
            made = composition.made.astimezone(VIETNAM).isoformat(timespec="seconds")
            scope = (
                COMPOSED[0].format(version=composition.version, made=made),
                COMPOSED[1].format(version=composition.version, made=made),
            )
    elif COMPOSITION_RECORD_PATH in check.members:
        problems.append(
            (
                f"{COMPOSITION_RECORD_PATH}: an evidence record without the composition record",
                f"{COMPOSITION_RECORD_PATH}: bản ghi bằng chứng không có bản ghi thành phần",
            )
        )
    return PackageVerdict(
        path=path,
        objid=check.objid,
        at=when,
        documents=tuple(proofs),
        problems=tuple(problems),
        scope=scope,
    )


async def _prove_composition(
    check: PackageCheck, judge: Judge, when: datetime
) -> tuple[list[tuple[str, str]], Composition | None]:
    """The problems with the package's composition record (none: it is proven and the
    package holds exactly the documents it lists), and the record when readable."""
    where = COMPOSITION_PATH
    if COMPOSITION_RECORD_PATH not in check.members:
        return [(f"{where}: no evidence record", f"{where}: không có bản ghi bằng chứng")], None
    try:
        data = await asyncio.to_thread(check.read_member, where, COMPOSITION_LIMIT)
        composition = parse_composition(data)
        record = await asyncio.to_thread(check.read_member, COMPOSITION_RECORD_PATH)
        result = await verify(record, io.BytesIO(data), judge=judge, at=when)
    except (PackageInvalid, EvidenceInvalid) as exc:
        return [(f"{where}: {exc.en}", f"{where}: {exc.vi}")], None
    problems = [(f"{where}: {f.en}", f"{where}: {f.vi}") for f in result.findings]
    if not result.valid and not problems:
        problems.append(
            (
                f"{where}: its evidence record does not prove it",
                f"{where}: bản ghi bằng chứng không chứng minh được nó",
            )
        )
    if not check.objid.endswith((f"uuid-{composition.objid}", f"uuid:{composition.objid}")):
        problems.append(
            (
                f"{where}: it is the record of another dossier ({composition.dossier})",
                f"{where}: đây là bản ghi của hồ sơ khác ({composition.dossier})",
            )
        )
    recorded = {e.name: e.sha256 for e in composition.documents}
    held = {e.name: e.sha256 for e in check.documents}
    counts = Counter(e.name for e in check.documents)
    twice = sorted(name for name, n in counts.items() if n > 1)
    if twice:  # e.g. a second representation holding another a.pdf
        problems.append(
            (
                f"{where}: the package holds more than one document named {', '.join(twice)}",
                f"{where}: gói có nhiều hơn một văn bản tên {', '.join(twice)}",
            )
        )
    missing = sorted(set(recorded) - set(held))
    added = sorted(set(held) - set(recorded))
    changed = sorted(n for n in set(recorded) & set(held) if recorded[n] != held[n].lower())
    for names, en, vi in (
        (
            missing,
            "the dossier held these documents, the package lacks them",
            "hồ sơ có các văn bản này, gói thiếu",
        ),
        (
            added,
            "the package holds these documents, the dossier did not",
            "gói có các văn bản này, hồ sơ không có",
        ),
        (
            changed,
            "the dossier held other bytes under these names",
            "hồ sơ giữ nội dung khác dưới các tên này",
        ),
    ):
        if names:
            shown = ", ".join(names[:10]) + (f" (+{len(names) - 10})" if len(names) > 10 else "")
            problems.append(
                (
                    f"{where}: {en} (version {composition.version}): {shown}",
                    f"{where}: {vi} (phiên bản {composition.version}): {shown}",
                )
            )
    return problems, composition


async def _prove(
    check: PackageCheck,
    name: str,
    entry: PackageEntry,
    anchors: TrustAnchors,
    judge: Judge,
    when: datetime,
) -> DocumentProof:
    problems: list[tuple[str, str]] = []
    if not entry.intact:
        problems.append(
            (f"{name}: the bytes differ from METS", f"{name}: nội dung khác với METS ghi")
        )
    if entry.ers_path is None:
        problems.append((f"{name}: no evidence record", f"{name}: không có bản ghi bằng chứng"))
        return DocumentProof(name, entry.intact, None, None, None, tuple(problems))
    if not entry.intact or entry.size > MAX_DOCUMENT_SIZE:
        if entry.size > MAX_DOCUMENT_SIZE:
            problems.append(
                (
                    f"{name}: larger than {MAX_DOCUMENT_SIZE} bytes: refused",
                    f"{name}: lớn hơn {MAX_DOCUMENT_SIZE} byte: bị từ chối",
                )
            )
        return DocumentProof(name, entry.intact, None, None, None, tuple(problems))
    record = await asyncio.to_thread(check.read_member, entry.ers_path)
    data = await asyncio.to_thread(_read_bounded, check, entry.data_path)
    try:
        result = await verify(record, io.BytesIO(data), judge=judge, at=when)
    except EvidenceInvalid as exc:
        problems.append((f"{name}: {exc.en}", f"{name}: {exc.vi}"))
        return DocumentProof(name, entry.intact, None, None, None, tuple(problems))
    for finding in result.findings:
        problems.append((f"{name}: {finding.en}", f"{name}: {finding.vi}"))
    if not result.valid or result.proven_time is None:
        if not result.findings:
            problems.append(
                (
                    f"{name}: the evidence record does not prove the document",
                    f"{name}: bản ghi bằng chứng không chứng minh được văn bản",
                )
            )
        return DocumentProof(name, entry.intact, result, None, None, tuple(problems))
    # hard revocation: a document whose signatures rest on no revocation data (none in the
    # document, none beside it) is not proven; what the package carries beside it (CRLs and
    # OCSP responses, signed by their issuers) is used, so a revoked signer stays revoked
    crls, responses = await asyncio.to_thread(_revocation_data, check, entry)
    policy = ValidationPolicy(
        anchors=anchors,
        validation_time=result.proven_time,
        offline=True,
        revocation="hard",
        crls=crls,
        ocsp_responses=responses,
    )
    report = await validate_bytes(data, policy, name=name)
    body = report_json(report)
    indication = str(body["indication"])
    legal_body = body.get("legal")
    legal = None
    if isinstance(legal_body, dict):
        value = legal_body.get("verdict") or legal_body.get("status")
        legal = None if value is None else str(value)
    if indication != "TOTAL-PASSED":
        problems.append(
            (
                f"{name}: its signatures are {indication} at {result.proven_time.isoformat()}",
                f"{name}: chữ ký số {indication} tại thời điểm {result.proven_time.isoformat()}",
            )
        )
    return DocumentProof(name, entry.intact, result, indication, legal, tuple(problems))


def _revocation_data(
    check: PackageCheck, entry: PackageEntry
) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The CRLs and OCSP responses the package carries beside a document (its evidence)."""
    crls: list[bytes] = []
    responses: list[bytes] = []
    for path in entry.evidence_paths:
        name = path.rsplit("/", 1)[-1]
        if name.endswith(".crl"):
            crls.append(check.read_member(path, EVIDENCE_LIMIT))
        elif name.endswith(".ocsp"):
            responses.append(check.read_member(path, EVIDENCE_LIMIT))
    return tuple(crls), tuple(responses)


EVIDENCE_LIMIT = 64 * 1024**2
"""The largest CRL or OCSP response read from a package."""


def _read_bounded(check: PackageCheck, path: str) -> bytes:
    """The member whole, never past :data:`MAX_DOCUMENT_SIZE` (whatever its header says)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in check.iter_member(path):
        size += len(chunk)
        if size > MAX_DOCUMENT_SIZE:
            raise PackageInvalid(
                f"{path} is larger than {MAX_DOCUMENT_SIZE} bytes: refused",
                f"{path} lớn hơn {MAX_DOCUMENT_SIZE} byte: bị từ chối",
            )
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = [
    "COMPOSED",
    "COMPOSITION",
    "MAX_DOCUMENT_SIZE",
    "DocumentProof",
    "PackageVerdict",
    "verify_package",
]
