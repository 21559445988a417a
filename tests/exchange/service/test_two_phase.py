"""The two-phase personal signature through the API: the server hands out what must be
signed, the signer's key (held here by the test, never by the server) signs it, and the
server embeds the value, only into the draft it was prepared for."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import update

from exchange.accounts import Role
from exchange.db.models import SigningState
from exchange.service import Services
from signing.dev.pki import DevPki, Identity
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_documents import draft
from tests.exchange.service.test_signing import (
    sample_metadata,
    session_of,
    settings,
    tsa_urls,
)
from tests.plugin import pdfsig

pytestmark = [pytest.mark.db, pytest.mark.hsm]
__all__ = ["settings", "tsa_urls"]  # the server-side keys and the TSA of test_signing


def external_signature(identity: Identity, request: dict[str, Any]) -> str:
    """What the signer's own token does: sign the bytes handed out (hash-and-sign)."""
    data = base64.b64decode(request["to_be_signed"])
    assert request["digest_algorithm"] == "sha256"
    key = identity.key
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        value = key.sign(data, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(value).decode("ascii")


def chain_pem(pki: DevPki, name: str = "personal") -> bytes:
    return pki.signers[name].cert_pem() + pki.issuing.cert_pem() + pki.root.cert_pem()


async def prepare(
    client: httpx.AsyncClient, doc_id: str, headers: dict[str, str], pki: DevPki
) -> httpx.Response:
    return await client.post(
        f"/api/v1/documents/{doc_id}/sign/prepare",
        headers=headers,
        files={"certificate": ("chain.pem", chain_pem(pki), "application/x-pem-file")},
        params={"lang": "en"},
    )


async def finish(
    client: httpx.AsyncClient,
    doc_id: str,
    headers: dict[str, str],
    state_id: str,
    signature: str,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/documents/{doc_id}/sign/finish",
        headers=headers,
        json={"state_id": state_id, "signature": signature},
        params={"lang": "en"},
    )


async def new_draft(client: httpx.AsyncClient, seeded: Seed, pdf: bytes) -> dict[str, Any]:
    created = await draft(client, seeded.tokens[(AGENCY_A, Role.CLERK)], pdf, sample_metadata())
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def test_the_signers_own_key_signs_in_two_phases(
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    pki: DevPki,
    nssdb: Path,
    tmp_path: Path,
) -> None:
    created = await new_draft(client, seeded, sample_pdf)
    doc_id = created["id"]
    signer = await session_of(client, "a-signer")
    prepared = await prepare(client, doc_id, signer, pki)
    assert prepared.status_code == 200, prepared.text
    request = prepared.json()
    assert request["document_id"] == doc_id and request["signature_algorithm"]
    assert len(base64.b64decode(request["digest"])) == 32
    # phase one changes nothing yet
    still = await client.get(f"/api/v1/documents/{doc_id}", headers=signer)
    assert still.json()["state"] == "draft"
    assert still.json()["current_sha256"] == created["current_sha256"]

    value = external_signature(pki.signers["personal"], request)
    done = await finish(client, doc_id, signer, request["state_id"], value)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "signed"
    pdf = (await client.get(f"/api/v1/documents/{doc_id}/pdf", headers=signer)).content
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.field_name == "personal-1"
    assert signature.signer_cert.dump() == pki.signers["personal"].asn1.dump()
    # poppler's second opinion: intact, and the certificate trusted
    (tmp_path / "signed.pdf").write_bytes(pdf)
    [opinion] = pdfsig(tmp_path / "signed.pdf", nssdb)
    assert opinion.valid and opinion.trusted, opinion.raw

    # a request is used once
    again = await finish(client, doc_id, signer, request["state_id"], value)
    assert again.status_code == 409 and "already used" in again.json()["detail"]
    audit = await client.get("/api/v1/audit", headers=bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)]))
    actions = [e["action"] for e in audit.json() if e["document"] == f"document:{doc_id}"]
    assert "document.sign_prepare" in actions and "document.sign" in actions


async def test_a_wrong_signature_value_changes_nothing(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki: DevPki
) -> None:
    created = await new_draft(client, seeded, sample_pdf)
    doc_id = created["id"]
    signer = await session_of(client, "a-signer")
    request = (await prepare(client, doc_id, signer, pki)).json()
    # signed by another key than the certificate's
    wrong = external_signature(pki.signers["agency"], request)
    refused = await finish(client, doc_id, signer, request["state_id"], wrong)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "does not match" in refused.json()["detail"]
    garbage = await finish(client, doc_id, signer, request["state_id"], "not base64!")
    assert garbage.status_code == 400 and "base64" in garbage.json()["detail"]
    doc = await client.get(f"/api/v1/documents/{doc_id}", headers=signer)
    assert doc.json()["state"] == "draft"
    assert doc.json()["current_sha256"] == created["current_sha256"]
    # the request still stands: the right value completes it
    right = external_signature(pki.signers["personal"], request)
    done = await finish(client, doc_id, signer, request["state_id"], right)
    assert done.status_code == 200, done.text


async def test_a_stale_request_is_refused(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki: DevPki
) -> None:
    created = await new_draft(client, seeded, sample_pdf)
    doc_id = created["id"]
    signer = await session_of(client, "a-signer")
    request = (await prepare(client, doc_id, signer, pki)).json()
    # meanwhile the draft was signed on the server
    server = await client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
    assert server.status_code == 200, server.text
    value = external_signature(pki.signers["personal"], request)
    stale = await finish(client, doc_id, signer, request["state_id"], value)
    assert stale.status_code == 409 and "changed since" in stale.json()["detail"]
    doc = await client.get(f"/api/v1/documents/{doc_id}", headers=signer)
    assert doc.json()["current_sha256"] == server.json()["current_sha256"]
    # and a signed document is not prepared again
    late = await prepare(client, doc_id, signer, pki)
    assert late.status_code == 409


async def test_who_may_sign_in_two_phases(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki: DevPki
) -> None:
    created = await new_draft(client, seeded, sample_pdf)
    doc_id = created["id"]
    signer = await session_of(client, "a-signer")
    request = (await prepare(client, doc_id, signer, pki)).json()
    value = external_signature(pki.signers["personal"], request)
    # the clerk is no signer
    clerk = await session_of(client, "a-clerk")
    assert (await prepare(client, doc_id, clerk, pki)).status_code == 403
    assert (await finish(client, doc_id, clerk, request["state_id"], value)).status_code == 403
    # a machine token is no person
    robot = bearer(seeded.tokens[(AGENCY_A, Role.SIGNER)])
    refused = await prepare(client, doc_id, robot, pki)
    assert refused.status_code == 422 and "log in as the signer" in refused.json()["detail"]
    # another agency's signer finds neither the document nor the request
    other = await session_of(client, "b-signer")
    theirs = await finish(client, doc_id, other, request["state_id"], value)
    missing = await finish(client, "aaaaaaaaaaaaaaaaaaaa", other, request["state_id"], value)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]
    assert (await prepare(client, doc_id, other, pki)).status_code == 404
    # an unknown request id on the right document
    unknown = await finish(client, doc_id, signer, "aaaaaaaaaaaaaaaaaaaa", value)
    assert unknown.status_code == 404
    # a certificate file that holds none
    bad = await client.post(
        f"/api/v1/documents/{doc_id}/sign/prepare",
        headers=signer,
        files={"certificate": ("chain.pem", b"no certificate", "application/x-pem-file")},
        params={"lang": "en"},
    )
    assert bad.status_code == 422 and "certificate" in bad.json()["detail"]
    doc = await client.get(f"/api/v1/documents/{doc_id}", headers=signer)
    assert doc.json()["state"] == "draft"
    assert doc.json()["current_sha256"] == created["current_sha256"]


async def test_an_expired_signing_request_is_refused(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki: DevPki, services: Services
) -> None:
    created = await new_draft(client, seeded, sample_pdf)
    signer = await session_of(client, "a-signer")
    request = (await prepare(client, created["id"], signer, pki)).json()
    async with services.transaction() as session:
        await session.execute(
            update(SigningState)
            .where(SigningState.public_id == request["state_id"])
            .values(created_at=datetime.now(UTC) - timedelta(days=1, minutes=1))
        )
    value = external_signature(pki.signers["personal"], request)
    late = await finish(client, created["id"], signer, request["state_id"], value)
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    again = (await client.get(f"/api/v1/documents/{created['id']}", headers=signer)).json()
    assert again["state"] == "draft"
