"""Outgoing drafts: App. VI metadata checked with its lengths, the empty number and date
fields added to the PDF, every file stored before its row, scoped to the agency."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from pypdf import PdfReader, PdfWriter

from exchange.accounts import Role
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, REMOTE, Seed, bearer

pytestmark = pytest.mark.db


def metadata(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "register": "DI",
        "type_name": "Công văn",
        "code_notation": "SNV-VP",
        "subject": "V/v triển khai liên thông văn bản điện tử",
        "signer_position": "Giám đốc",
        "signer_full_name": "Nguyễn Văn An",
        "recipients": [REMOTE, AGENCY_B],
        "priority": 1,
        "due_date": "2026-12-15",
        "page_amount": 1,
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


async def draft(
    client: httpx.AsyncClient,
    token: str,
    pdf: bytes,
    record: dict[str, Any],
    attachments: list[tuple[str, bytes]] | None = None,
) -> httpx.Response:
    parts: list[tuple[str, tuple[str, bytes, str]]] = [
        ("main", ("cong-van.pdf", pdf, "application/pdf"))
    ]
    for name, data in attachments or []:
        parts.append(("attachments", (name, data, "application/pdf")))
    return await client.post(
        "/api/v1/documents",
        headers=bearer(token),
        data={"metadata": json.dumps(record, ensure_ascii=False)},
        files=parts,
        params={"lang": "en"},
    )


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_a_draft_gets_its_empty_number_and_date_fields(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    appendix = blank_pdf()
    response = await draft(client, clerk, sample_pdf, metadata(), [("phu-luc.pdf", appendix)])
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["state"] == "draft" and doc["created_by"] == "token:robot-clerk"
    assert doc["metadata"]["recipients"] == [REMOTE, AGENCY_B]
    assert doc["metadata"]["priority"] == 1 and doc["metadata"]["language"] == "vi"
    # the signer reads it; the PDF now has the fields the number and date will fill
    signer = bearer(seeded.tokens[(AGENCY_A, Role.SIGNER)])
    pdf = await client.get(f"/api/v1/documents/{doc['id']}/pdf", headers=signer)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    fields = PdfReader(io.BytesIO(pdf.content)).get_fields() or {}
    assert {"so", "ngay", "thang"} <= set(fields)
    assert all(not fields[name].get("/V") for name in ("so", "ngay", "thang"))
    assert pdf.content.startswith(sample_pdf)  # an incremental update of the upload
    # the original and the attachment are kept as uploaded
    original = await client.get(f"/api/v1/files/{doc['main_file_id']}/content", headers=signer)
    assert original.content == sample_pdf
    (attachment,) = doc["attachment_file_ids"]
    kept = await client.get(f"/api/v1/files/{attachment}/content", headers=signer)
    assert kept.content == appendix
    listed = await client.get("/api/v1/documents", headers=signer)
    assert [d["id"] for d in listed.json()] == [doc["id"]]
    audit = await client.get("/api/v1/audit", headers=bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)]))
    assert any(
        e["action"] == "document.draft" and e["document"] == f"document:{doc['id']}"
        for e in audit.json()
    )


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"subject": "x" * 501}, 400, "Subject: is longer than 500"),
        ({"type_name": "x" * 101}, 400, "TypeName: is longer than 100"),
        ({"signer_full_name": "x" * 51}, 400, "SignerInfo.FullName: is longer than 50"),
        ({"signer_position": None}, 400, "SignerInfo.Position: is missing"),
        ({"code_notation": "SNV/VP"}, 400, "CodeNotation: may not contain"),
        ({"recipients": []}, 400, "at least one recipient"),
        ({"recipients": ["NOT.THERE"]}, 400, "NOT.THERE is not in the agency directory"),
        ({"recipients": ["bad id"]}, 400, "not a valid OrganId"),
        ({"priority": 7}, 400, "Priority: must be 0 to 4"),
        ({"due_date": "15/12/2026"}, 400, "DueDate: must be a date"),
        ({"page_amount": 1000}, 400, "PageAmount: must be a number from 1 to 999"),
        ({"colour": "red"}, 400, "colour: is not a metadata field"),
        ({"register": "DEN"}, 400, "register: is not an outgoing register"),
        ({"register": "NO-SUCH"}, 404, "No such register"),
    ],
)
async def test_metadata_is_checked(
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    changes: dict[str, Any],
    status: int,
    words: str,
) -> None:
    response = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, metadata(**changes)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


async def test_unusable_pdfs_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    for pdf, words in (
        (b"PK\x03\x04 a zip file", "not a PDF"),
        (b"%PDF-1.7 garbage", "not a readable PDF"),
        (blank_pdf(), "anchor text 'Số:'"),  # no box 3 to put the number in
    ):
        response = await draft(client, clerk, pdf, metadata())
        assert response.status_code == 422, response.text
        assert words in response.json()["detail"]
    files = await client.get("/api/v1/files", headers=bearer(clerk))
    assert files.json() == []
    assert (await client.get("/api/v1/documents", headers=bearer(clerk))).json() == []
    garbled = await client.post(
        "/api/v1/documents",
        headers=bearer(clerk),
        data={"metadata": "{not json"},
        files={"main": ("a.pdf", b"%PDF-1.7", "application/pdf")},
        params={"lang": "en"},
    )
    assert garbled.status_code == 400 and "not valid JSON" in garbled.json()["detail"]


async def test_roles_and_agencies(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    for role in (Role.SIGNER, Role.ARCHIVIST, Role.ADMIN):
        refused = await draft(client, seeded.tokens[(AGENCY_A, role)], sample_pdf, metadata())
        assert refused.status_code == 403
    created = await draft(client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, metadata())
    doc_id = created.json()["id"]
    admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])
    assert (await client.get(f"/api/v1/documents/{doc_id}", headers=admin)).status_code == 403
    other = bearer(seeded.tokens[(AGENCY_B, Role.CLERK)])
    for suffix in ("", "/pdf"):
        theirs = await client.get(f"/api/v1/documents/{doc_id}{suffix}", headers=other)
        missing = await client.get(f"/api/v1/documents/aaaaaaaaaaaaaaaaaaaa{suffix}", headers=other)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["detail"] == missing.json()["detail"]
    assert (await client.get("/api/v1/documents", headers=other)).json() == []
