"""The whole outgoing flow through the HTTP API: a clerk's draft, the personal signature
(server-side with SoftHSM2, or two-phase with a key the server never sees), the number and
date, the agency signature, the edXML package. The package verifies with xmlsec1 and the
document inside it validates, offline, with the real ``lienthong verify`` program."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from exchange.accounts import Role
from exchange.edxml import Edoc, parse_package
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_documents import blank_pdf, draft
from tests.exchange.service.test_signing import (
    sample_metadata,
    session_of,
    settings,
    tsa_urls,
)
from tests.exchange.service.test_two_phase import external_signature, finish, prepare
from tests.exchange.test_edxml_package import xmlsec1_verify
from tests.plugin import run_cli

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["settings", "tsa_urls"]  # the server-side keys and the TSA of test_signing


@pytest.mark.parametrize("how", ["server", "two-phase"])
async def test_the_whole_outgoing_flow(
    how: str,
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    pki: DevPki,
    pki_files: Path,
    tmp_path: Path,
) -> None:
    clerk = await session_of(client, "a-clerk")
    signer = await session_of(client, "a-signer")
    # 1. the clerk's draft, with one separate attachment
    created = await draft(
        client,
        seeded.tokens[(AGENCY_A, Role.CLERK)],
        sample_pdf,
        sample_metadata(),
        [("phu-luc.pdf", blank_pdf())],
    )
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]

    # 2. the personal signature
    if how == "server":
        signed = await client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
    else:
        prepared = await prepare(client, doc_id, signer, pki)
        assert prepared.status_code == 200, prepared.text
        request = prepared.json()
        value = external_signature(pki.signers["personal"], request)
        signed = await finish(client, doc_id, signer, request["state_id"], value)
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "signed"

    # 3. the number and date, then the agency signature (B-LT) and the package
    issued = await client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
    assert issued.status_code == 200, issued.text
    doc = issued.json()
    assert doc["state"] == "issued" and doc["metadata"]["code_number"] == 1

    # 4. the edXML package: xmlsec1 verifies its signature
    response = await client.get(f"/api/v1/documents/{doc_id}/package", headers=clerk)
    assert response.status_code == 200, response.text
    package = tmp_path / "package.edxml"
    package.write_bytes(response.content)
    checked = xmlsec1_verify(package, pki_files)
    assert checked.returncode == 0, checked.stderr
    edoc = parse_package(response.content).message
    assert isinstance(edoc, Edoc)
    assert str(edoc.code) == "01/SNV-VP"
    assert len(edoc.attachments) == 2

    # 5. the document taken from the package: TOTAL-PASSED, legal check passing, offline
    main = tmp_path / edoc.attachments[0].name
    main.write_bytes(edoc.attachments[0].data)
    result = run_cli(
        "verify", str(main), "--trust", str(pki_files / "root.pem"), "--offline", "--format", "json"
    )
    [report] = json.loads(result.out)["reports"]
    assert report["indication"] == "TOTAL-PASSED", json.dumps(report, ensure_ascii=False)[:6000]
    assert report["legal"]["valid"] is True
    assert (report["legal"]["personal"], report["legal"]["agency"]) == ("personal-1", "agency-1")
    signatures = {s["id"]: s for s in report["signatures"]}
    assert signatures["personal-1"]["role"] == "personal"
    assert signatures["agency-1"]["role"] == "agency"
    personal = signatures["personal-1"]["signer"]["sha256"]
    assert personal == hashlib.sha256(pki.signers["personal"].asn1.dump()).hexdigest()

    # every step in the audit log, by the one who did it
    audit = await client.get("/api/v1/audit", headers=bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)]))
    steps = [
        (e["action"], e["actor"]) for e in audit.json() if e["document"] == f"document:{doc_id}"
    ]
    assert ("document.sign", "user:a-signer") in steps
    assert ("document.issue", "user:a-clerk") in steps
