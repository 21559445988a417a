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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.ers import Judge, Verification, timestamp_judge, verify
from archive.mets import PackageCheck, PackageEntry, check_package
from validation import TrustAnchors, ValidationPolicy, report_json, validate_bytes


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
    """Problems of the package itself (METS checksums, missing or unlisted files)."""

    @property
    def proven(self) -> bool:
        return not self.problems and all(d.proven for d in self.documents)


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
    return PackageVerdict(
        path=path,
        objid=check.objid,
        at=when,
        documents=tuple(proofs),
        problems=tuple((f"{f.path}: {f.en}", f"{f.path}: {f.vi}") for f in check.findings),
    )


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
    record = await asyncio.to_thread(check.read_member, entry.ers_path)
    data = await asyncio.to_thread(lambda: b"".join(check.iter_member(entry.data_path)))
    result = await verify(record, io.BytesIO(data), judge=judge, at=when)
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
    policy = ValidationPolicy(
        anchors=anchors, validation_time=result.proven_time, offline=True, revocation="soft"
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


__all__ = ["DocumentProof", "PackageVerdict", "verify_package"]
