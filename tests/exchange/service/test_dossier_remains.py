"""What a closed dossier hands the archive for incoming documents, on SQLite and PostgreSQL:
the validation report and the evidence each was judged on when it arrived, byte-exact beside
its files and package; a copy destroyed after a revocation goes in as what remains of it (its
metadata, report, evidence and statuses, no file and no package), and the result says so; a
revocation notice, which carries no file, keeps its statuses on its package. A dossier opens
with its whole FileCode too, and an outgoing document's main file is its issued signed PDF."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from archive import export_package, seal
from archive.mets import check_package
from exchange import dossiers, incoming
from exchange.accounts import Role
from exchange.archiving import open_archive
from exchange.db.models import Document
from exchange.edxml import BussinessDocType, Edoc, build_signed, parse_package
from exchange.errors import BadRequest
from exchange.service import Services
from exchange.settings import Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_changes_incoming import _change
from tests.exchange.service.test_incoming import clerk, edoc, key, ready, receiving
from tests.exchange.service.test_signing import settings, signed_draft, tsa_urls
from tests.plugin import Decree30Documents

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["ready", "settings", "tsa_urls"]


def _values(xml: bytes, name: str) -> list[str | None]:
    return [e.text for e in etree.fromstring(xml).iter() if etree.QName(e).localname == name]


async def test_reports_evidence_and_a_destroyed_copy(
    ready: Services,
    settings: Settings,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
    tmp_path: Path,
) -> None:
    svc = ready
    principal = await clerk(svc)
    kept = await incoming.receive(
        svc, principal, await build_signed(edoc(decree30.final), key(pki, "agency")),
        receiving(pki_files),
    )  # fmt: skip
    original = edoc(decree30.final, number="127")
    doomed = await incoming.receive(
        svc, principal, await build_signed(original, key(pki, "agency")), receiving(pki_files)
    )
    assert kept.state == doomed.state == "registered"
    code = f"{AGENCY_A}.2026.HS20"
    async with svc.transaction() as session:
        await dossiers.create_dossier(
            session, principal, notation="HS20", title="Hồ sơ văn bản đến", year=2026
        )
        await dossiers.add_document(session, principal, code, incoming=kept.id)
        await dossiers.add_document(session, principal, code, incoming=doomed.id)

    revocation = await build_signed(
        _change(
            replace(original, attachments=()),
            BussinessDocType.REVOKE,
            document_id=original.document_id,
            reason="Ban hành sai thẩm quyền",
        ),
        key(pki, "agency"),
    )
    notice = await incoming.receive(svc, principal, revocation, receiving(pki_files))
    assert notice.state == "registered" and notice.doc_type == 1
    async with svc.transaction() as session:
        gone = await incoming.get_incoming(session, principal, doomed.id)
        assert gone.state == "revoked"
        view = await dossiers.add_document(session, principal, code, incoming=notice.id)
    assert [i.state for i in view.items] == ["registered", "revoked", "registered"]

    async with open_archive(settings, trust=[pki_files / "root.pem"]) as archive:
        closed = await dossiers.close_dossier(svc, principal, code, archive)
        assert closed.dossier.state == "closed"
        assert [(i.ordinal, i.code) for i in closed.destroyed] == [(2, "127/UBND-VP")]
        names = [d.name for d in closed.archived.documents]
        assert names == [
            "001-125-UBND-VP.pdf",
            "001-125-UBND-VP.edxml",
            "001-125-UBND-VP.report.json",
            "001-125-UBND-VP.evidence.json",
            "002-127-UBND-VP.report.json",  # the copy destroyed: no file, no package
            "002-127-UBND-VP.evidence.json",
            "003-127-UBND-VP.edxml",  # the revocation notice carries no file
            "003-127-UBND-VP.report.json",
            "003-127-UBND-VP.evidence.json",
        ]
        again = await dossiers.close_dossier(svc, principal, code, archive)
        assert all(d.already for d in again.archived.documents)
        assert [i.ordinal for i in again.destroyed] == [2]
        await seal(archive)
        out = tmp_path / "den.zip"
        await export_package(archive, code, out)

    report = b"".join([c async for c in svc.blobs.read(kept.report_sha256)])
    with zipfile.ZipFile(out) as z:
        listed = z.namelist()

        def member(suffix: str) -> bytes:
            [name] = [n for n in listed if n.endswith(suffix)]
            return z.read(name)

        assert hashlib.sha256(member("data/001-125-UBND-VP.report.json")).digest() == (
            hashlib.sha256(report).digest()
        )  # byte-exact, as judged on arrival
        remains = member("EAD_doc_002-127-UBND-VP.report.json.xml")
        assert _values(remains, "codeNumber") == ["127"] and _values(remains, "process") == ["1"]
        statuses = member("documentation/002-127-UBND-VP.report.json.status.xml")
        assert "03" in _values(statuses, "code")
        assert not [n for n in listed if "002-" in n and n.endswith((".pdf", ".edxml"))]
        notice_statuses = member("documentation/003-127-UBND-VP.edxml.status.xml")
        assert _values(notice_statuses, "code") == ["03"]
        assert member("documentation/001-125-UBND-VP.pdf.trace.xml")
    assert check_package(out).findings == ()


async def test_the_whole_code_and_the_issued_pdf(
    ready: Services, client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    """``create`` takes the whole FileCode too (its year must agree with one given); what an
    outgoing document hands over as its main file is the issued signed PDF itself."""
    principal = await clerk(ready)
    code = f"{AGENCY_A}.2025.HS21"
    async with ready.transaction() as session:
        made = await dossiers.create_dossier(session, principal, notation=code, title="Mã đủ")
    assert made.code == code
    async with ready.transaction() as session:
        with pytest.raises(BadRequest) as refused:
            await dossiers.create_dossier(
                session, principal, notation=f"{AGENCY_A}.2025.HS22", title="T", year=2026
            )
    assert "2025" in refused.value.en and "2025" in refused.value.vi

    doc_id = await signed_draft(client, seeded, sample_pdf)
    issued = await client.post(
        f"/api/v1/documents/{doc_id}/issue", headers=bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    )
    assert issued.status_code == 200, issued.text
    async with ready.transaction() as session:
        await dossiers.add_document(session, principal, code, outgoing=doc_id)
        doc = await session.scalar(select(Document).where(Document.public_id == doc_id))
    assert doc is not None and doc.package_sha256 is not None
    current = b"".join([c async for c in ready.blobs.read(doc.current_sha256)])
    package = b"".join([c async for c in ready.blobs.read(doc.package_sha256)])
    message = parse_package(package).message
    assert isinstance(message, Edoc) and message.attachments[0].data == current
