"""The personal signature of a draft with the signer's key on the server (SoftHSM2): the
signature sits where Decree 30 puts it, the number and date fields stay fillable, and only a
signer with a configured key signs, once."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from exchange.accounts import Role
from exchange.settings import AgencyConfig, Settings, SignerKey
from signing import fill_text_fields
from signing.dev.assets import SampleDocument
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, PASSWORD, Seed, bearer
from tests.exchange.service.test_documents import draft, metadata
from tests.plugin import SoftHsmToken

pytestmark = [pytest.mark.db, pytest.mark.hsm]
DOC = SampleDocument()


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    token: SoftHsmToken,
    signature_png: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    image = tmp_path / "chu-ky.png"
    image.write_bytes(signature_png)
    monkeypatch.setenv("SIGNER_PIN", token.pin)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        agencies={
            AGENCY_A: AgencyConfig(
                signers={
                    "a-signer": SignerKey(
                        key=token.uri("personal"), pin_env="SIGNER_PIN", signature_image=image
                    ),
                    "a-clerk": SignerKey(
                        key=token.uri("personal"), pin_env="SIGNER_PIN", signature_image=image
                    ),
                }
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
    missing = await client.post("/api/v1/documents/987654/sign", headers=signer)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]
