"""The archive's use cases on a real catalog (SQLite), a real two-copy store and the
development TSA: ingest (validated again, PDF taken to B-LTA, invalid files kept with their
report), seal (one timestamp for the batch), evidence records that verify and that Bouncy
Castle accepts, the audit's repair, and renewal planned and done through time."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from archive import (
    Archive,
    UsageError,
    audit,
    dispose,
    dossier_summary,
    evidence_record,
    ingest,
    plan_renewal,
    renew,
    seal,
)
from archive.catalog import ArchivedDocument, ArchiveStamp
from archive.ers import timestamp_judge, verify
from signing.dev import DevPki
from tests.archive.bouncycastle import BouncyCastle, compile_check
from validation import TrustAnchors


@pytest.fixture(scope="module")
def bc(tmp_path_factory: pytest.TempPathFactory) -> BouncyCastle:
    return compile_check(tmp_path_factory.mktemp("ers-java"))


async def test_ingest_seal_and_prove(
    archive: Archive, signed_pdf: Path, tmp_path: Path, pki: DevPki, bc: BouncyCastle
) -> None:
    junk = tmp_path / "in" / "ghi-chu.txt"
    junk.write_bytes(b"not signed at all\n")
    result = await ingest(archive, [signed_pdf, junk], dossier="H53.2026.01", title="Hồ sơ thử")
    assert result.created
    pdf, txt = result.documents
    assert pdf.augmented and pdf.indication == "TOTAL-PASSED"
    assert txt.indication == "TOTAL-FAILED" and not txt.augmented  # kept all the same
    # the archived PDF is the signed one plus validation data and a document timestamp
    kept = b"".join(archive.store.read_verified(pdf.sha256))
    assert kept.startswith(signed_pdf.read_bytes())
    assert len(PdfFileReader(io.BytesIO(kept)).embedded_timestamp_signatures) == 1
    for root in archive.store.roots:
        assert any(root.rglob(pdf.sha256))

    again = await ingest(archive, [signed_pdf], dossier="H53.2026.01")
    assert again.documents[0].already and not again.created

    sealed = await seal(archive)
    assert (sealed.stamps, sealed.documents, sealed.damaged) == (1, 2, ())
    assert (await seal(archive)).documents == 0  # nothing left to seal

    judge = timestamp_judge(TrustAnchors({"public": (pki.root.asn1,)}))
    async with archive.sessions() as session:
        docs = list(await session.scalars(select(ArchivedDocument).order_by(ArchivedDocument.id)))
    for doc in docs:
        record = await evidence_record(archive, doc.id)
        data = b"".join(archive.store.read_verified(doc.sha256))
        checked = await verify(record, io.BytesIO(data), judge=judge)
        assert checked.valid, checked.findings
        assert not (await verify(record, io.BytesIO(data + b"x"), judge=judge)).valid
        rec = tmp_path / f"{doc.id}.ers"
        rec.write_bytes(record)
        good = tmp_path / f"{doc.id}.bin"
        good.write_bytes(data)
        other = tmp_path / f"{doc.id}.other"
        other.write_bytes(data[:-1])
        now = datetime.now(UTC)
        assert bc.accepts(rec, good, now)
        assert not bc.accepts(rec, other, now)

    summary = await dossier_summary(archive, "H53.2026.01")
    assert (summary.documents, summary.sealed) == (2, 2)
    assert [t for _, t, _, _ in summary.events].count("seal") == 1
    assert {"ingestion", "validation", "migration"} <= {t for _, t, _, _ in summary.events}


async def test_new_dossier_needs_a_title_and_nothing_is_half_stored(
    archive: Archive, signed_pdf: Path
) -> None:
    with pytest.raises(UsageError) as caught:
        await ingest(archive, [signed_pdf], dossier="H53.2026.02")
    assert "--title" in caught.value.vi
    missing = signed_pdf.parent / "khong-co.pdf"
    with pytest.raises(UsageError):
        await ingest(archive, [signed_pdf, missing], dossier="H53.2026.02", title="Hồ sơ")
    async with archive.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ArchivedDocument)) == 0


async def test_audit_repairs_one_copy_and_reports_two(archive: Archive, signed_pdf: Path) -> None:
    result = await ingest(archive, [signed_pdf], dossier="H53.2026.03", title="Hồ sơ")
    sha = result.documents[0].sha256
    first = archive.store.path(sha, 0)
    second = archive.store.path(sha, 1)
    good = first.read_bytes()

    def flip(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    flip(first)
    report = await audit(archive)
    assert report.ok and [f.sha256 for f in report.findings] == [sha]
    assert first.read_bytes() == good

    flip(first)
    flip(second)
    both = (first.read_bytes(), second.read_bytes())
    report = await audit(archive)
    assert not report.ok
    assert (first.read_bytes(), second.read_bytes()) == both  # never "repaired"
    summary = await dossier_summary(archive, "H53.2026.03")
    kinds = [(t, o) for _, t, o, _ in summary.events]
    assert ("repair", "success") in kinds and ("fixity check", "failure") in kinds
    # a document with no good copy is not sealed
    sealed = await seal(archive)
    assert sealed.documents == 0 and len(sealed.damaged) == 1


async def test_renewal_is_planned_from_the_tsa_expiry(
    archive: Archive, signed_pdf: Path, pki: DevPki
) -> None:
    await ingest(archive, [signed_pdf], dossier="H53.2026.04", title="Hồ sơ")
    await seal(archive)
    assert await plan_renewal(archive) == []
    async with archive.sessions() as session:
        expiry = await session.scalar(select(ArchiveStamp.tsa_not_after))
    assert expiry is not None
    later = expiry.replace(year=expiry.year - 1, tzinfo=UTC) if expiry.tzinfo else expiry
    [step] = await plan_renewal(archive, now=later)
    assert step.kind == "timestamp" and step.documents == 1
    [made] = await renew(archive, [step])
    assert made.kind == "timestamp" and made.leaves == 1
    # the same TSA's certificate expires as soon: still due, and the history says so
    [again] = await plan_renewal(archive, now=later)
    assert again.stamps == (made.id,)
    summary = await dossier_summary(archive, "H53.2026.04")
    assert ("timestamp renewal", "warning") in [(t, o) for _, t, o, _ in summary.events]
    [tree] = await plan_renewal(archive, now=datetime(2039, 6, 1, tzinfo=UTC))
    assert tree.kind == "hashtree" and tree.algorithm == "sha512"


async def test_disposal_needs_the_end_of_retention_and_an_approval(
    archive: Archive, signed_pdf: Path
) -> None:
    kept = await ingest(
        archive, [signed_pdf], dossier="H53.2026.05", title="10 năm", fields={"maintenance": "06"}
    )
    sha = kept.documents[0].sha256
    with pytest.raises(UsageError) as early:
        await dispose(archive, "H53.2026.05", approved_by="Nguyễn Văn A")
    assert "thời hạn bảo quản" in early.value.vi
    later = datetime(datetime.now(UTC).year + 12, 1, 2, tzinfo=UTC)
    with pytest.raises(UsageError):
        await dispose(archive, "H53.2026.05", approved_by="  ", now=later)
    done = await dispose(archive, "H53.2026.05", approved_by="Nguyễn Văn A", now=later)
    assert done.documents == 1 and done.objects_deleted == 2  # the B-LTA file and the original
    assert archive.store.exists(sha) == (False, False)
    summary = await dossier_summary(archive, "H53.2026.05")
    assert summary.disposed_at == later and summary.documents == 1  # the metadata stays
    assert any(t == "deletion" and sha in d for _, t, _, d in summary.events)
    assert (await audit(archive)).ok  # nothing the catalog still names is missing
    permanent = await ingest(archive, [signed_pdf], dossier="H53.2026.06", title="Vĩnh viễn")
    assert permanent.documents[0].sha256
    with pytest.raises(UsageError):
        await dispose(archive, "H53.2026.06", approved_by="Nguyễn Văn A", now=later)


async def test_seal_pages_batches_and_skips_a_damaged_document(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: DevPki
) -> None:
    import archive.service as service

    # small pages and hand-offs, so that a handful of documents crosses every boundary
    monkeypatch.setattr(service, "SEAL_PAGE", 2)
    monkeypatch.setattr(service, "VERIFY_CHUNK", 2)
    folder = tmp_path / "many"
    folder.mkdir()
    files = []
    for n in range(7):
        path = folder / f"ghi-chu-{n}.txt"
        path.write_bytes(f"ghi chú số {n}\n".encode())
        files.append(path)
    result = await ingest(archive, files, dossier="H53.2026.09", title="Nhiều văn bản")
    bad = result.documents[3].sha256
    for root in archive.store.roots:  # both copies of one document damaged
        [path] = list(root.rglob(bad))
        path.write_bytes(b"hong")
    seen: list[tuple[int, int]] = []
    sealed = await seal(archive, batch=3, progress=lambda d, t: seen.append((d, t)))
    # 3 + 3, the damaged one left out, then the dossier's composition record
    assert (sealed.stamps, sealed.documents) == (3, 6)
    assert [name.split("/")[0] for name in sealed.damaged] == ["H53.2026.09"]
    assert seen and seen[-1] == (8, 8)
    async with archive.sessions() as session:
        links = await session.scalar(select(func.count()).select_from(service.StampLink))
        unsealed = await session.scalar(
            select(func.count()).where(ArchivedDocument.sealed.is_(False))
        )
    assert (links, unsealed) == (7, 1)  # each good document (and the record) sealed once
    anchors = TrustAnchors({"public": (pki.root.asn1,)})
    judge = timestamp_judge(anchors)
    async with archive.sessions() as session:
        rows = (await session.execute(select(ArchivedDocument.id, ArchivedDocument.sha256))).all()
    for doc_id, sha in rows:
        if sha == bad:
            continue
        record = await evidence_record(archive, doc_id)
        data = b"".join(archive.store.read_verified(sha))
        assert (await verify(record, io.BytesIO(data), judge=judge)).valid
    assert (await seal(archive)).documents == 0  # nothing left but the damaged one
    ids = [doc_id for doc_id, sha in rows]
    many = await service.evidence_records(archive, ids)
    assert sorted(many) == sorted(i for i, sha in rows if sha != bad)  # the unsealed left out
    for doc_id, record in many.items():
        assert record == await evidence_record(archive, doc_id)


def test_verify_many_checks_each_copy(archive: Archive) -> None:
    store = archive.store
    good = store.put_bytes(b"mot")
    half = store.put_bytes(b"hai")
    gone = store.put_bytes(b"ba")
    store.path(half.sha256, 0).write_bytes(b"hong")  # the second copy still holds it
    for index in (0, 1):
        store.path(gone.sha256, index).unlink()
    missing = "0" * 64
    assert store.verify_many([good.sha256, half.sha256, gone.sha256, missing]) == [
        True,
        True,
        False,
        False,
    ]


async def test_two_seals_at_once_never_seal_a_document_twice(
    archive: Archive, tmp_path: Path
) -> None:
    from dataclasses import replace

    from sqlalchemy import update

    from archive.catalog import StampLink

    files = []
    for n in range(3):
        path = tmp_path / f"ban-{n}.txt"
        path.write_bytes(f"ban so {n}\n".encode())
        files.append(path)
    await ingest(archive, files, dossier="H53.2026.10", title="Hai lần niêm phong")
    inner = archive.timestamper
    assert inner is not None

    class Racing:
        """The TSA answers after another seal has sealed one of the documents."""

        async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> object:
            async with archive.sessions() as session, session.begin():
                first = await session.scalar(select(func.min(ArchivedDocument.id)))
                await session.execute(
                    update(ArchivedDocument).where(ArchivedDocument.id == first).values(sealed=True)
                )
            return await inner.async_timestamp(message_digest, md_algorithm)

    racing = replace(archive, timestamper=Racing())  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="another seal"):
        await seal(racing)
    async with archive.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StampLink)) == 0
        assert await session.scalar(select(func.count()).select_from(ArchiveStamp)) == 0
    again = await seal(archive)  # the two left are sealed; the first stays as the other left it
    assert again.documents == 2


async def test_a_disposal_racing_an_ingest_of_the_same_bytes_loses_nothing(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archive.service as service
    from archive import StorageFailed

    note = tmp_path / "bien-ban.txt"
    note.write_bytes(b"bien ban hop\n")
    first = await ingest(
        archive, [note], dossier="H53.2026.20", title="Hết hạn", fields={"maintenance": "06"}
    )
    sha = first.documents[0].sha256
    later = datetime(datetime.now(UTC).year + 12, 1, 2, tzinfo=UTC)
    real = service._catalogue

    async def disposal_in_between(*args: object, **kwargs: object) -> object:
        # the ingest has put its bytes (already there: a no-op); the disposal of the first
        # dossier now runs to its end before the ingest's catalog transaction
        done = await dispose(archive, "H53.2026.20", approved_by="Hội đồng", now=later)
        assert done.objects_deleted == 1
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_catalogue", disposal_in_between)
    with pytest.raises(StorageFailed):
        await ingest(archive, [note], dossier="H53.2026.21", title="Cùng nội dung")
    monkeypatch.setattr(service, "_catalogue", real)
    with pytest.raises(UsageError):  # nothing was catalogued: the dossier does not exist
        await dossier_summary(archive, "H53.2026.21")
    again = await ingest(
        archive, [note], dossier="H53.2026.21", title="Cùng nội dung", fields={"maintenance": "06"}
    )
    assert again.documents[0].sha256 == sha and archive.store.exists(sha) == (True, True)
    assert (await audit(archive)).ok

    # and the other way round: a dossier with the same bytes still kept keeps them
    await ingest(archive, [note], dossier="H53.2026.22", title="Bản thứ ba")
    third = await dispose(
        archive,
        "H53.2026.21",
        approved_by="Hội đồng",
        now=datetime(datetime.now(UTC).year + 80, 1, 2, tzinfo=UTC),
    )
    assert third.objects_deleted == 0 and archive.store.exists(sha) == (True, True)
