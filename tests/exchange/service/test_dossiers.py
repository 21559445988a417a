"""A clerk's dossier (hồ sơ) closed into the archive, on SQLite and PostgreSQL: an issued
outgoing document and a registered incoming one filed into it, then closed; the archive holds
each signed file, the edXML packages byte-exact, the App. VI metadata as EAD_doc fields and the
processing trail (TraceHeaderList, statuses) with process=1. Drafts, rejected documents and
closed dossiers are refused; an archive failure leaves the dossier open, and closing again is
safe."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from archive import Archive, Submission, UsageError, dossier_summary, export_package, seal
from archive import ingest_submissions as archive_ingest
from archive.mets import check_package
from archive.verifying import verify_package
from exchange import dossiers, incoming
from exchange.accounts import Role
from exchange.archiving import open_archive
from exchange.db.models import Document
from exchange.edxml import build_signed
from exchange.errors import BadRequest, Conflict, NotFound
from exchange.service import Services
from exchange.settings import Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, Seed, bearer
from tests.exchange.service.test_documents import draft
from tests.exchange.service.test_incoming import broken_pdf, clerk, edoc, key, ready, receiving
from tests.exchange.service.test_signing import sample_metadata, settings, signed_draft, tsa_urls
from tests.plugin import Decree30Documents
from validation import TrustAnchors

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["ready", "settings", "tsa_urls"]


async def _issued(client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes) -> str:
    doc_id = await signed_draft(client, seeded, sample_pdf, attachments=1)
    issued = await client.post(
        f"/api/v1/documents/{doc_id}/issue", headers=bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    )
    assert issued.status_code == 200, issued.text
    return doc_id


def _member(z: zipfile.ZipFile, suffix: str) -> bytes:
    [name] = [n for n in z.namelist() if n.endswith(suffix)]
    return z.read(name)


def _values(xml: bytes, name: str) -> list[str | None]:
    return [e.text for e in etree.fromstring(xml).iter() if etree.QName(e).localname == name]


async def test_a_dossier_closes_into_the_archive(
    ready: Services,
    settings: Settings,
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
    tmp_path: Path,
) -> None:
    svc = ready
    principal = await clerk(svc)
    outgoing_id = await _issued(client, seeded, sample_pdf)
    received = await incoming.receive(
        svc, principal, await build_signed(edoc(decree30.final), key(pki, "agency")),
        receiving(pki_files),
    )  # fmt: skip
    assert received.state == "registered"
    rejected = await incoming.receive(
        svc, principal,
        await build_signed(edoc(broken_pdf(decree30.final), number="126"), key(pki, "agency")),
        receiving(pki_files),
    )  # fmt: skip
    assert rejected.state == "rejected"
    made = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, sample_metadata()
    )  # a draft: not issued, no signed package
    draft_id = str(made.json()["id"])

    async with svc.transaction() as session:
        view = await dossiers.create_dossier(
            session, principal, notation="HS01", title="Hồ sơ công tác văn thư", year=2026,
            maintenance="10 năm", rights="01", creator="Văn thư A",
        )  # fmt: skip
    code = f"{AGENCY_A}.2026.HS01"
    assert view.code == code and view.state == "open" and view.maintenance == "06"
    async with svc.transaction() as session:
        with pytest.raises(Conflict):
            await dossiers.create_dossier(session, principal, notation="HS01", title="Lại")
    async with svc.transaction() as session:
        await dossiers.add_document(session, principal, code, outgoing=outgoing_id)
        view = await dossiers.add_document(session, principal, code, incoming=received.id)
    assert [(i.ordinal, i.kind) for i in view.items] == [(1, "outgoing"), (2, "incoming")]
    for bad, refusal in (
        ({"outgoing": draft_id}, "Only an issued outgoing document"),
        ({"incoming": rejected.id}, "Only a registered incoming document"),
        ({"outgoing": outgoing_id}, "in dossier"),
        ({"outgoing": "khong-co"}, "No such outgoing document"),
    ):
        async with svc.transaction() as session:
            with pytest.raises((Conflict, NotFound)) as refused:
                await dossiers.add_document(session, principal, code, **bad)
        assert refusal in refused.value.en and refused.value.vi
    async with svc.transaction() as session:
        with pytest.raises(BadRequest):
            await dossiers.add_document(session, principal, code)
    other = await clerk(svc, AGENCY_B)  # another agency on the node sees nothing of it
    async with svc.transaction() as session:
        with pytest.raises(NotFound):
            await dossiers.show_dossier(session, other, code)

    blocked = f"{AGENCY_A}.2026.HS02"
    async with svc.transaction() as session:
        await dossiers.create_dossier(session, principal, notation="HS02", title="Hồ sơ khác")
        await dossiers.add_document(session, principal, blocked, outgoing=outgoing_id)
    trust = [pki_files / "root.pem"]
    async with open_archive(settings, trust=trust) as archive:
        # the archive already holds another file under HS02's first name: the archive
        # refuses, and the dossier stays open with nothing half-done on this side
        await archive_ingest(
            archive,
            [Submission(name="001-01-SNV-VP.edxml", content=b"<khac/>")],
            dossier=blocked,
            title="Hồ sơ khác",
        )
        with pytest.raises(UsageError):
            await dossiers.close_dossier(svc, principal, blocked, archive)
        async with svc.transaction() as session:
            left = await dossiers.show_dossier(session, principal, blocked)
            assert left.state == "open" and left.closed_at is None

        closed = await dossiers.close_dossier(svc, principal, code, archive)
        assert closed.dossier.state == "closed" and closed.dossier.closed_at is not None
        names = [d.name for d in closed.archived.documents]
        assert names[0].startswith("001-") and names[-1].startswith("002-")
        assert sum(n.endswith(".edxml") for n in names) == 2
        assert not any(d.already for d in closed.archived.documents)
        again = await dossiers.close_dossier(svc, principal, code, archive)  # safe
        assert all(d.already for d in again.archived.documents)
        async with svc.transaction() as session:  # a closed dossier takes no change
            with pytest.raises(Conflict):
                await dossiers.remove_document(session, principal, code, 1)
        async with svc.transaction() as session:
            with pytest.raises(Conflict) as closed_refusal:
                await dossiers.add_document(session, principal, code, incoming=received.id)
        assert "closed" in closed_refusal.value.en

        summary = await dossier_summary(archive, code)
        assert summary.title == "Hồ sơ công tác văn thư"
        await seal(archive)
        out = tmp_path / "hoso.zip"
        await export_package(archive, code, out)
    async with svc.transaction(read_only=True) as session:
        doc = await session.scalar(select(Document).where(Document.public_id == outgoing_id))
        assert doc is not None and doc.package_sha256 is not None
        package_sha = doc.package_sha256
    with zipfile.ZipFile(out) as z:
        edxml = _member(z, "data/001-01-SNV-VP.edxml")
        assert hashlib.sha256(edxml).hexdigest() == package_sha  # byte-exact
        [main] = [n for n in names if n.startswith("001-") and n.endswith(".pdf")][:1]
        ead = _member(z, f"EAD_doc_{main}.xml")
        assert _values(ead, "process") == ["1"]
        assert _values(ead, "codeNotation") == ["SNV-VP"] and _values(ead, "typeName") != ["32"]
        trace = _member(z, f"documentation/{main}.trace.xml")
        assert etree.QName(etree.fromstring(trace)).localname == "TraceHeaderList"
        [incoming_main] = [n for n in names if n.startswith("002-") and n.endswith(".pdf")][:1]
        statuses = _member(z, f"documentation/{incoming_main}.status.xml")
        assert "03" in _values(statuses, "code")  # the registration answer
        dossier_ead = _member(z, "metadata/descriptive/EAD.xml").decode()
        assert code in dossier_ead and "Văn thư A" in dossier_ead
    check = check_package(out)  # METS, checksums, the TT 05 metadata: all in order
    assert check.findings == () and len(check.documents) == len(names)
    verdict = await verify_package(out, anchors=TrustAnchors({"public": (pki.root.asn1,)}))
    assert not verdict.problems, verdict.problems
    [proof] = [d for d in verdict.documents if d.name == main]
    assert proof.proven, proof.problems


async def test_closing_an_empty_or_unknown_dossier(ready: Services, settings: Settings) -> None:
    principal = await clerk(ready)
    async with ready.transaction() as session:
        await dossiers.create_dossier(session, principal, notation="TRONG", title="Hồ sơ trống")
    async with open_archive(settings) as archive:
        assert isinstance(archive, Archive)
        with pytest.raises(Conflict):
            await dossiers.close_dossier(ready, principal, f"{AGENCY_A}.2026.TRONG", archive)
        with pytest.raises(NotFound):
            await dossiers.close_dossier(ready, principal, "khong-co", archive)


async def test_the_api(client: httpx.AsyncClient, seeded: Seed) -> None:
    clerk_h = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    made = await client.post(
        "/api/v1/dossiers",
        headers=clerk_h,
        json={"notation": "HS09", "title": "Hồ sơ qua API", "year": 2026, "maintenance": "04"},
    )
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert code == f"{AGENCY_A}.2026.HS09" and made.json()["maintenance"] == "04"
    shown = await client.get(f"/api/v1/dossiers/{code}", headers=clerk_h)
    assert shown.status_code == 200 and shown.json()["items"] == []
    listed = await client.get("/api/v1/dossiers", headers=clerk_h)
    assert [d["code"] for d in listed.json()] == [code]
    missing = await client.post(
        f"/api/v1/dossiers/{code}/items", headers=clerk_h, json={"outgoing": "khong-co"}
    )
    assert missing.status_code == 404
    empty = await client.post(
        f"/api/v1/dossiers/{code}/close", headers=clerk_h, params={"lang": "en"}
    )
    assert empty.status_code == 409 and "holds no document" in empty.json()["detail"]
    admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])  # not a clerk: may not open one
    refused = await client.post(
        "/api/v1/dossiers", headers=admin, json={"notation": "HS10", "title": "Không"}
    )
    assert refused.status_code == 403
    theirs = await client.get(
        f"/api/v1/dossiers/{code}", headers=bearer(seeded.tokens[(AGENCY_B, Role.CLERK)])
    )
    assert theirs.status_code == 404


async def test_a_dead_timestamp_authority_is_a_503_and_the_dossier_stays_open(
    ready: Services,
    settings: Settings,
    seeded: Seed,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
) -> None:
    from exchange.api.app import create_app

    principal = await clerk(ready)
    received = await incoming.receive(
        ready, principal, await build_signed(edoc(decree30.final), key(pki, "agency")),
        receiving(pki_files),
    )  # fmt: skip
    async with ready.transaction() as session:
        await dossiers.create_dossier(session, principal, notation="HS30", title="TSA chết")
        view = await dossiers.add_document(
            session, principal, f"{AGENCY_A}.{datetime.now(UTC).year}.HS30", incoming=received.id
        )
    from exchange.archiving import TRUST_DIR

    trusted = settings.data_dir / TRUST_DIR  # the archive trusts the signers' root
    trusted.mkdir(parents=True, exist_ok=True)
    (trusted / "root.pem").write_bytes((pki_files / "root.pem").read_bytes())
    dead = settings.model_copy(update={"archive_tsa_urls": ("http://127.0.0.1:9/tsa",)})
    app = create_app(dead)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://lienthong.test") as c:
            closed = await c.post(
                f"/api/v1/dossiers/{view.code}/close",
                headers=bearer(seeded.tokens[(AGENCY_A, Role.CLERK)]),
                params={"lang": "en"},
            )
            assert closed.status_code == 503, closed.text
            assert closed.json()["code"] == "exchange.service_unavailable"
    async with ready.transaction() as session:
        assert (await dossiers.show_dossier(session, principal, view.code)).state == "open"
