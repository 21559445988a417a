"""A dossier out of the archive as a zipped TT 05/2025 package, and the offline check of such
a package: everything holds for an intact package; a tampered document, a removed file or a
broken evidence record is named; without renewal, the proof has run out by 2045."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive import Archive, PackageInvalid, ingest, seal
from archive.exporting import export_package, verify_package
from archive.package import PackageSummary
from signing.dev import DevPki
from validation import TrustAnchors


def _rewrite(src: Path, dest: Path, change: dict[str, bytes | None]) -> None:
    """A copy of the zip with members replaced (bytes) or removed (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    zout.writestr(info, data)
                continue
            zout.writestr(info, zin.read(info))


async def test_export_then_verify_offline(
    archive: Archive, signed_pdf: Path, tmp_path: Path, pki: DevPki
) -> None:
    await ingest(archive, [signed_pdf], dossier="H53.2026.10", title="Hồ sơ xuất")
    out = tmp_path / "goi.zip"
    with pytest.raises(PackageInvalid):  # not sealed yet: no evidence record to carry
        await export_package(archive, "H53.2026.10", out)
    await seal(archive)
    summary = await export_package(archive, "H53.2026.10", out)
    assert summary.kind == "AIP" and out.is_file()
    name = signed_pdf.name
    data_path = f"representations/rep1/data/{name}"
    ers_path = f"metadata/preservation/evidence/{name}.ers"
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        prefix = next(m for m in names if m.endswith(data_path))[: -len(data_path)]
        stored = z.read(prefix + data_path)
    assert prefix + ers_path in names
    # the document travels byte-exact: the archived (B-LTA) bytes, which the record covers
    assert hashlib.sha256(stored).hexdigest() == summary_document(summary, data_path)

    anchors = TrustAnchors({"public": (pki.root.asn1,)})
    verdict = await verify_package(out, anchors=anchors)
    assert verdict.proven, verdict.problems + tuple(
        p for d in verdict.documents for p in d.problems
    )
    [doc] = verdict.documents
    assert doc.indication == "TOTAL-PASSED" and doc.evidence is not None

    # nobody trusted: the timestamps prove nothing
    assert not (await verify_package(out, anchors=TrustAnchors())).proven
    # 2045 without renewal: the development TSA's certificate has long expired
    late = await verify_package(out, anchors=anchors, at=datetime(2045, 1, 1, tzinfo=UTC))
    assert not late.proven

    flipped = bytearray(stored)
    flipped[len(flipped) // 3] ^= 0x20
    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, {prefix + data_path: bytes(flipped)})
    bad = await verify_package(tampered, anchors=anchors)
    assert not bad.proven
    assert any(name in en for en, _ in bad.problems + bad.documents[0].problems)

    removed = tmp_path / "removed.zip"
    _rewrite(out, removed, {prefix + ers_path: None})
    gone = await verify_package(removed, anchors=anchors)
    assert not gone.proven
    assert any(name in en for en, _ in gone.problems + gone.documents[0].problems)

    with zipfile.ZipFile(out) as z:
        record = bytearray(z.read(prefix + ers_path))
    record[-40] ^= 0x01
    broken = tmp_path / "broken.zip"
    _rewrite(out, broken, {prefix + ers_path: bytes(record)})
    assert not (await verify_package(broken, anchors=anchors)).proven


def summary_document(summary: PackageSummary, path: str) -> str:
    return next(f.sha256 for f in summary.files if f.path.endswith(path))
