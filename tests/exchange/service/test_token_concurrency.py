"""One token, several uses at once in the server process: two personal signatures requested
at the same time both succeed (both open the signer's key on the same SoftHSM2 token), and an
issue seals while the agency key is held open the way the delivery worker holds it
(``exchange.incoming.agency_key``), which then still signs. Before, the second login to the
token failed with CKR_USER_ALREADY_LOGGED_IN and the request answered 422."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_der_x509_certificate
from pyhanko.pdf_utils.reader import PdfFileReader

from exchange.accounts import Role
from exchange.incoming import agency_key
from exchange.settings import Settings
from signing.dev import DevPki
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_documents import draft
from tests.exchange.service.test_signing import sample_metadata, session_of, settings, tsa_urls
from tests.plugin import pyhanko_verdicts

pytestmark = [pytest.mark.db, pytest.mark.hsm]
__all__ = ["settings", "tsa_urls"]  # the server-side keys and the TSA of test_signing


async def _drafts(client: httpx.AsyncClient, seeded: Seed, pdf: bytes, n: int) -> list[str]:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    ids = []
    for _ in range(n):
        created = await draft(client, clerk, pdf, sample_metadata())
        assert created.status_code == 201, created.text
        ids.append(str(created.json()["id"]))
    return ids


async def _personal_signature_is_intact(
    client: httpx.AsyncClient, headers: dict[str, str], doc_id: str, pki: DevPki
) -> None:
    pdf = (await client.get(f"/api/v1/documents/{doc_id}/pdf", headers=headers)).content
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.field_name == "personal-1"
    assert "Nguyễn Thị" in signature.signer_cert.subject.human_friendly
    [verdict] = await pyhanko_verdicts(pdf, pki)
    assert verdict.intact and verdict.valid and verdict.trusted


async def test_two_personal_signatures_at_once(
    client: httpx.AsyncClient, seeded: Seed, sample_pdf: bytes, pki: DevPki
) -> None:
    ids = await _drafts(client, seeded, sample_pdf, 2)
    signer = await session_of(client, "a-signer")
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/documents/{i}/sign", headers=signer) for i in ids)
    )
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "signed"
    for doc_id in ids:
        await _personal_signature_is_intact(client, signer, doc_id, pki)


async def test_signing_and_issuing_while_the_agency_key_is_held_open(
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    settings: Settings,
    pki: DevPki,
) -> None:
    ids = await _drafts(client, seeded, sample_pdf, 3)
    signer = await session_of(client, "a-signer")
    clerk = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    async with agency_key(settings.agencies, AGENCY_A) as held:  # as the delivery worker does
        assert held is not None
        first = await client.post(f"/api/v1/documents/{ids[0]}/sign", headers=signer)
        assert first.status_code == 200, first.text
        # an issue (the agency key again, and the TSA) beside two more personal signatures
        issued, *signed = await asyncio.gather(
            client.post(f"/api/v1/documents/{ids[0]}/issue", headers=clerk),
            *(client.post(f"/api/v1/documents/{i}/sign", headers=signer) for i in ids[1:]),
        )
        assert issued.status_code == 200, issued.text
        assert issued.json()["state"] == "issued"
        for answer in signed:
            assert answer.status_code == 200, answer.text
        # the uses that ended did not log the worker's key out
        signature = await held.sign_raw(b"a status message", "sha256")
        public = load_der_x509_certificate(held.certificate.dump()).public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, b"a status message", padding.PKCS1v15(), hashes.SHA256())
    for doc_id in ids[1:]:
        await _personal_signature_is_intact(client, signer, doc_id, pki)
