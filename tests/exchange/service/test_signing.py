"""The personal signature of a draft with the signer's key on the server (SoftHSM2): the
signature sits where Decree 30 puts it, the number and date fields stay fillable, and only a
signer with a configured key signs, once."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from exchange.accounts import Role
from exchange.edxml import Edoc, parse_package
from exchange.settings import AgencyConfig, SealKey, Settings, SignerKey
from signing import fill_text_fields
from signing.dev.assets import SampleDocument
from signing.dev.services import DevServices
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, PASSWORD, REMOTE, Seed, bearer
from tests.exchange.service.test_documents import blank_pdf, draft, metadata
from tests.exchange.test_edxml_package import xmlsec1_verify
from tests.plugin import SoftHsmToken, run_cli

pytestmark = [pytest.mark.db, pytest.mark.hsm]
DOC = SampleDocument()


@pytest.fixture
def tsa_urls(dev_services: DevServices) -> tuple[str, ...]:
    return (dev_services.tsa_url,)


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    token: SoftHsmToken,
    signature_png: bytes,
    seal_png: bytes,
    pki_files: Path,
    tsa_urls: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    image = tmp_path / "chu-ky.png"
    image.write_bytes(signature_png)
    seal = tmp_path / "con-dau.png"
    seal.write_bytes(seal_png)
    monkeypatch.setenv("SIGNER_PIN", token.pin)
    monkeypatch.setenv("SEAL_PIN", token.pin)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        tsa_urls=tsa_urls,
        agencies={
            AGENCY_A: AgencyConfig(
                seal=SealKey(
                    key=token.uri("agency"),
                    pin_env="SEAL_PIN",
                    chain=pki_files / "chain.pem",
                    seal_image=seal,
                ),
                signers={
                    "a-signer": SignerKey(
                        key=token.uri("personal"), pin_env="SIGNER_PIN", signature_image=image
                    ),
                    "a-clerk": SignerKey(
                        key=token.uri("personal"), pin_env="SIGNER_PIN", signature_image=image
                    ),
                },
            )
        },
    )


async def session_of(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


def sample_metadata() -> dict[str, object]:
    return metadata(signer_full_name=DOC.signer_name, signer_position=DOC.position)


async def test_the_signer_signs_a_draft_on_the_server(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    created = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, sample_metadata()
    )
    doc_id = created.json()["id"]
    signer = await session_of(client, "a-signer")
    signed = await client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "signed"
    assert signed.json()["current_sha256"] != created.json()["current_sha256"]
    pdf = (await client.get(f"/api/v1/documents/{doc_id}/pdf", headers=signer)).content
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.field_name == "personal-1"
    assert "Nguyễn Thị" in signature.signer_cert.subject.human_friendly
    # the number and date can still be filled after it (a form-filling update)
    fill_text_fields(pdf, {"so": "1", "ngay": "01", "thang": "12"})
    again = await client.post(
        f"/api/v1/documents/{doc_id}/sign", headers=signer, params={"lang": "en"}
    )
    assert again.status_code == 409 and "Only a draft" in again.json()["detail"]
    audit = await client.get("/api/v1/audit", headers=bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)]))
    assert [e["actor"] for e in audit.json() if e["action"] == "document.sign"] == ["user:a-signer"]


async def test_who_may_sign(client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes) -> None:
    created = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, sample_metadata()
    )
    doc_id = created.json()["id"]
    path = f"/api/v1/documents/{doc_id}/sign"
    # the clerk is no signer, even with a key configured
    clerk = await session_of(client, "a-clerk")
    assert (await client.post(path, headers=clerk)).status_code == 403
    # a machine token with the signer role is no person
    robot = await client.post(
        path, headers=bearer(seeded.tokens[(AGENCY_A, Role.SIGNER)]), params={"lang": "en"}
    )
    assert robot.status_code == 422 and "log in as the signer" in robot.json()["detail"]
    # a signer of another agency has no key here, and would not find the document anyway
    other = await session_of(client, "b-signer")
    refused = await client.post(path, headers=other, params={"lang": "en"})
    assert refused.status_code == 422 and "No signing key" in refused.json()["detail"]
    state = await client.get(
        f"/api/v1/documents/{doc_id}", headers=await session_of(client, "a-signer")
    )
    assert state.json()["state"] == "draft"


async def test_a_wrong_pin_is_a_clear_error_and_changes_nothing(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, sample_metadata()
    )
    doc_id = created.json()["id"]
    monkeypatch.setenv("SIGNER_PIN", "000000")  # read when the key is opened
    signer = await session_of(client, "a-signer")
    response = await client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
    assert response.status_code == 422
    assert response.json()["code"] == "exchange.signing_failed"
    assert "PIN" in response.json()["detail"]
    doc = await client.get(f"/api/v1/documents/{doc_id}", headers=signer)
    assert doc.json()["state"] == "draft"
    assert doc.json()["current_sha256"] == created.json()["current_sha256"]


async def test_another_agencys_document_is_not_found(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    created = await draft(
        client, seeded.tokens[(AGENCY_B, Role.CLERK)], sample_pdf, sample_metadata()
    )
    signer = await session_of(client, "a-signer")
    theirs = await client.post(f"/api/v1/documents/{created.json()['id']}/sign", headers=signer)
    missing = await client.post("/api/v1/documents/aaaaaaaaaaaaaaaaaaaa/sign", headers=signer)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]


async def signed_draft(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, attachments: int = 0
) -> str:
    extra = [(f"phu-luc-{i}.pdf", blank_pdf()) for i in range(attachments)]
    created = await draft(
        client, seeded.tokens[(AGENCY_A, Role.CLERK)], sample_pdf, sample_metadata(), extra
    )
    doc_id = str(created.json()["id"])
    signed = await client.post(
        f"/api/v1/documents/{doc_id}/sign", headers=await session_of(client, "a-signer")
    )
    assert signed.status_code == 200, signed.text
    return doc_id


def verify_json(path: Path, pki_files: Path) -> dict[str, object]:
    result = run_cli(
        "verify", str(path), "--trust", str(pki_files / "root.pem"), "--offline", "--format", "json"
    )
    [report] = json.loads(result.out)["reports"]
    return report  # type: ignore[no-any-return]


@pytest.mark.slow
async def test_issue_numbers_dates_and_seals_at_b_lt(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki_files: Path, tmp_path: Path
) -> None:
    doc_id = await signed_draft(client, seeded, sample_pdf, attachments=1)
    clerk = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    issued = await client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
    assert issued.status_code == 200, issued.text
    doc = issued.json()
    assert doc["state"] == "issued"
    assert doc["metadata"]["code_number"] == 1 and doc["metadata"]["year"] >= 2026
    main = tmp_path / "issued.pdf"
    main.write_bytes((await client.get(f"/api/v1/documents/{doc_id}/pdf", headers=clerk)).content)
    fields = PdfFileReader(io.BytesIO(main.read_bytes())).root["/AcroForm"]["/Fields"]
    values = {str(f.get_object().get("/T")): str(f.get_object().get("/V")) for f in fields}
    assert values["so"] == "01"
    # offline, from the document alone: both signatures valid and the legal check passes
    report = verify_json(main, pki_files)
    assert report["indication"] == "TOTAL-PASSED", json.dumps(report, ensure_ascii=False)[:6000]
    legal = report["legal"]
    assert isinstance(legal, dict) and legal["valid"] is True
    assert (legal["personal"], legal["agency"]) == ("personal-1", "agency-1")
    (attachment_id,) = doc["attachment_file_ids"]
    attachment = tmp_path / "phu-luc.pdf"
    attachment.write_bytes(
        (await client.get(f"/api/v1/files/{attachment_id}/content", headers=clerk)).content
    )
    assert verify_json(attachment, pki_files)["indication"] == "TOTAL-PASSED"
    register = await client.get("/api/v1/registers/DI", headers=clerk)
    assert register.json()["next_number"] == 2
    again = await client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
    assert again.status_code == 409

    # the signed edXML package: xmlsec1 verifies it, and it carries the issued files
    package = tmp_path / "package.edxml"
    response = await client.get(f"/api/v1/documents/{doc_id}/package", headers=clerk)
    assert response.status_code == 200 and response.headers["content-type"] == "application/xml"
    package.write_bytes(response.content)
    assert hashlib.sha256(response.content).hexdigest() == doc["package_sha256"]
    checked = xmlsec1_verify(package, pki_files)
    assert checked.returncode == 0, checked.stderr
    edoc = parse_package(response.content).message
    assert isinstance(edoc, Edoc)
    assert edoc.from_.organ_id == AGENCY_A and edoc.from_.organ_name == "Sở Nội vụ tỉnh Thái Bình"
    assert [o.organ_id for o in edoc.to] == [REMOTE, AGENCY_B]
    assert str(edoc.code) == "01/SNV-VP" and edoc.subject == sample_metadata()["subject"]
    assert (
        edoc.document_id
        == f"{AGENCY_A},{doc['metadata']['issued_date'].replace('-', '/')},01/SNV-VP"
    )
    assert [a.data for a in edoc.attachments] == [main.read_bytes(), attachment.read_bytes()]


async def test_a_failed_seal_leaves_no_hole_and_no_half_issued_document(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = await signed_draft(client, seeded, sample_pdf)
    monkeypatch.setenv("SEAL_PIN", "000000")  # the seal fails after the number was taken
    clerk = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    failed = await client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
    assert failed.status_code == 422, failed.text
    assert failed.json()["code"] == "exchange.signing_failed"
    doc = await client.get(f"/api/v1/documents/{doc_id}", headers=clerk)
    assert doc.json()["state"] == "signed" and "code_number" not in doc.json()["metadata"]
    register = await client.get("/api/v1/registers/DI", headers=clerk)
    assert register.json()["next_number"] == 1
    numbers = await client.get("/api/v1/registers/DI/numbers", headers=clerk)
    assert numbers.json() == []


async def test_only_a_signed_document_is_issued(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes
) -> None:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    created = await draft(client, clerk, sample_pdf, sample_metadata())
    path = f"/api/v1/documents/{created.json()['id']}/issue"
    refused = await client.post(path, headers=bearer(clerk), params={"lang": "en"})
    assert refused.status_code == 409 and "personal signature" in refused.json()["detail"]
    no_package = await client.get(
        f"/api/v1/documents/{created.json()['id']}/package", headers=bearer(clerk)
    )
    assert no_package.status_code == 404
    signer = await session_of(client, "a-signer")
    assert (await client.post(path, headers=signer)).status_code == 403
