"""A dossier out of the archive as a zipped TT 05/2025 package, and the offline check of such
a package: everything holds for an intact package; a tampered document, a removed file or a
broken evidence record is named; without renewal, the proof has run out by 2045."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from archive import Archive, PackageInvalid, ingest, plan_renewal, renew, seal
from archive.exporting import export_package
from archive.package import PackageSummary
from archive.verifying import verify_package
from signing.dev import DevPki, Identity
from tests.archive.test_ers import _long_lived_tsa
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


async def test_time_travel_through_renewals_to_2045(
    archive: Archive, signed_pdf: Path, tmp_path: Path, pki: DevPki
) -> None:
    """Sealed today by a TSA whose certificate expires in 2027, renewed in 2027 by a second
    TSA (timestamp renewal) and in 2031 under SHA-512 by a third (hash-tree renewal): the
    exported package proves the document at 2045-01-01; stop before either renewal and it
    does not."""
    pki1 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2022, 6, 1, tzinfo=UTC))
    pki2 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2027, 3, 1, tzinfo=UTC))
    pki3 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2031, 6, 1, tzinfo=UTC))
    tsa3 = _long_lived_tsa(pki3, datetime(2046, 1, 1, tzinfo=UTC))
    assert pki1.tsa.cert.not_valid_after_utc.year == 2027
    anchors = TrustAnchors({"public": tuple(p.root.asn1 for p in (pki, pki1, pki2, pki3))})
    at_2045 = datetime(2045, 1, 1, tzinfo=UTC)

    first = replace(archive, timestamper=_tsa(pki1.tsa, pki1, None))
    await ingest(first, [signed_pdf], dossier="H53.2026.20", title="Hồ sơ lâu dài")
    await seal(first)
    sealed_only = tmp_path / "sealed.zip"
    await export_package(first, "H53.2026.20", sealed_only)

    [step] = await plan_renewal(first, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert step.kind == "timestamp"
    second = replace(archive, timestamper=_tsa(pki2.tsa, pki2, datetime(2027, 3, 1, tzinfo=UTC)))
    await renew(second, [step])
    renewed_once = tmp_path / "renewed-once.zip"
    await export_package(second, "H53.2026.20", renewed_once)

    sunsets = {"sha256": date(2032, 1, 1)}
    [tree] = await plan_renewal(second, now=datetime(2031, 6, 1, tzinfo=UTC), sunsets=sunsets)
    assert tree.kind == "hashtree" and tree.algorithm == "sha512"
    third = replace(archive, timestamper=_tsa(tsa3, pki3, datetime(2031, 6, 1, tzinfo=UTC)))
    await renew(third, [tree])
    final = tmp_path / "final.zip"
    await export_package(third, "H53.2026.20", final)

    verdict = await verify_package(final, anchors=anchors, at=at_2045)
    problems = verdict.problems + tuple(p for d in verdict.documents for p in d.problems)
    assert verdict.proven, problems
    [doc] = verdict.documents
    assert doc.evidence is not None and doc.evidence.proven_time is not None
    assert doc.evidence.proven_time < datetime(2027, 1, 1, tzinfo=UTC)
    assert [c.algorithm for c in doc.evidence.timestamps] == ["sha256", "sha256", "sha512"]
    for missing in (sealed_only, renewed_once):
        assert not (await verify_package(missing, anchors=anchors, at=at_2045)).proven


def _tsa(tsa: Identity, pki: DevPki, at: datetime | None) -> DummyTimeStamper:
    chain = [pki.issuing.asn1, pki.root.asn1] if tsa is pki.tsa else [pki.root.asn1]
    return DummyTimeStamper(
        tsa_cert=tsa.asn1,
        tsa_key=tsa.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs(chain),
        fixed_dt=at,
    )
