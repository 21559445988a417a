"""The incoming flow through the HTTP API, on SQLite and PostgreSQL: upload, list, show, report;
roles; another agency's incoming document answers exactly like a missing one; a malformed
package is problem+json 422 and leaves no record; the same upload twice answers the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from exchange.accounts import Role
from exchange.api import create_app
from exchange.edxml import build_signed, verify_package
from exchange.service import Services
from exchange.settings import AgencyConfig, SealKey, Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, Seed, bearer
from tests.exchange.service.test_incoming import add_senders, edoc, key, receiving
from tests.plugin import Decree30Documents, SoftHsmToken

pytestmark = pytest.mark.db

RECEIVE = frozenset({Role.CLERK})
READ = frozenset({Role.CLERK, Role.SIGNER, Role.ARCHIVIST})
XML = {"Content-Type": "application/xml"}


async def prepare(app: FastAPI, settings: Settings, pki: DevPki, pki_files: Path) -> FastAPI:
    """The node trusts the development PKI's root and knows the sending agencies."""
    trust = settings.data_dir / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pki_files / "root.pem", trust / "root.pem")
    services = app.state.services
    assert isinstance(services, Services)
    await add_senders(services, pki)
    return app


@pytest.fixture
async def node(app: FastAPI, settings: Settings, pki: DevPki, pki_files: Path) -> FastAPI:
    return await prepare(app, settings, pki, pki_files)


@pytest.fixture
async def package(pki: DevPki, decree30: Decree30Documents) -> bytes:
    return await build_signed(edoc(decree30.final), key(pki, "agency"))


async def post(client: httpx.AsyncClient, token: str, data: bytes, **params: str) -> httpx.Response:
    return await client.post(
        "/api/v1/incoming", headers={**bearer(token), **XML}, content=data, params=params
    )


async def test_receive_list_show_and_report(
    node: FastAPI, client: httpx.AsyncClient, seeded: Seed, package: bytes
) -> None:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    first = await post(client, clerk, package)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["state"] == "registered", body["reason"]
    assert body["arrival_number"] == 1 and body["agency"] == AGENCY_A
    assert body["package_indication"] == "TOTAL-PASSED"
    assert body["indication"] == "TOTAL-PASSED" and body["legal_valid"] is True
    assert [s["status_code"] for s in body["statuses"]] == ["01", "03"]

    again = await post(client, clerk, package)
    assert again.status_code == 200 and again.json() == body

    listed = await client.get("/api/v1/incoming", headers=bearer(clerk))
    assert [d["id"] for d in listed.json()] == [body["id"]]
    shown = await client.get(f"/api/v1/incoming/{body['id']}", headers=bearer(clerk))
    assert shown.json() == body
    report = await client.get(f"/api/v1/incoming/{body['id']}/report", headers=bearer(clerk))
    assert report.status_code == 200
    assert report.json()["package"]["indication"] == "TOTAL-PASSED"
    assert report.json()["documents"][0]["legal"]["valid"] is True


async def test_roles(
    node: FastAPI, client: httpx.AsyncClient, seeded: Seed, package: bytes
) -> None:
    created = await post(client, seeded.tokens[(AGENCY_A, Role.CLERK)], package)
    document = created.json()["id"]
    for role in Role:
        token = seeded.tokens[(AGENCY_A, role)]
        upload = await post(client, token, package)
        assert upload.status_code == (200 if role in RECEIVE else 403), (role, upload.text)
        for path in ("", f"/{document}", f"/{document}/report"):
            response = await client.get(f"/api/v1/incoming{path}", headers=bearer(token))
            assert response.status_code == (200 if role in READ else 403), (role, path)
            if role not in READ:
                assert response.json()["code"] == "exchange.forbidden"
    anonymous = await client.get("/api/v1/incoming")
    assert anonymous.status_code == 401


async def test_another_agencys_incoming_answers_like_a_missing_one(
    node: FastAPI, client: httpx.AsyncClient, seeded: Seed, package: bytes
) -> None:
    created = await post(client, seeded.tokens[(AGENCY_A, Role.CLERK)], package)
    theirs = created.json()["id"]
    b_clerk = seeded.tokens[(AGENCY_B, Role.CLERK)]
    assert (await client.get("/api/v1/incoming", headers=bearer(b_clerk))).json() == []
    for suffix in ("", "/report"):
        for lang in ("vi", "en"):
            one = await client.get(
                f"/api/v1/incoming/{theirs}{suffix}", headers=bearer(b_clerk), params={"lang": lang}
            )
            other = await client.get(
                f"/api/v1/incoming/{'aaaaaaaaaaaaaaaaaaaa'}{suffix}",
                headers=bearer(b_clerk),
                params={"lang": lang},
            )
            assert one.status_code == other.status_code == 404
            strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
            assert strip(one) == strip(other)
    # B uploading A's package: it is not addressed to B
    refused = await post(client, b_clerk, package, lang="en")
    assert refused.status_code == 422
    assert f"not addressed to {AGENCY_B}" in refused.json()["detail"]


async def test_malformed_and_oversized_packages(
    node: FastAPI, client: httpx.AsyncClient, seeded: Seed, settings: Settings
) -> None:
    clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
    malformed = await post(client, clerk, b"<edXMLEnvelope><broken>", lang="en")
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    assert malformed.json()["code"].startswith("edxml.")
    vietnamese = await post(client, clerk, b"<edXMLEnvelope><broken>")
    assert vietnamese.json()["lang"] == "vi" and vietnamese.json()["detail"]
    assert (await client.get("/api/v1/incoming", headers=bearer(clerk))).json() == []


async def test_a_package_over_the_upload_limit_is_refused(settings: Settings, seeded: Seed) -> None:
    small = Settings(
        data_dir=settings.data_dir, database_url=settings.database_url, max_upload_bytes=4096
    )
    application = create_app(small)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("192.0.2.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://lienthong.test") as c:
            clerk = seeded.tokens[(AGENCY_A, Role.CLERK)]
            oversized = await post(c, clerk, b"<x>" + b" " * 5000 + b"</x>")
            assert oversized.status_code == 413
            assert oversized.json()["code"] == "exchange.payload_too_large"
            assert (await c.get("/api/v1/incoming", headers=bearer(clerk))).json() == []


async def test_rejected_package_through_the_api(
    node: FastAPI,
    client: httpx.AsyncClient,
    seeded: Seed,
    pki: DevPki,
    decree30: Decree30Documents,
) -> None:
    forged = await build_signed(edoc(decree30.final), key(pki, "agency-ec"))
    answer = await post(client, seeded.tokens[(AGENCY_A, Role.CLERK)], forged)
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "rejected" and body["arrival_number"] is None
    assert body["reason"]["code"] == "incoming.signed_by_other_agency"
    assert [s["status_code"] for s in body["statuses"]] == ["01", "02"]


async def test_openapi_lists_the_incoming_routes(node: FastAPI, client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/incoming" in spec["paths"]
    assert "application/xml" in spec["paths"]["/api/v1/incoming"]["post"]["requestBody"]["content"]


@pytest.mark.hsm
async def test_statuses_are_signed_with_the_agencys_configured_key(
    settings: Settings,
    seeded: Seed,
    package: bytes,
    pki: DevPki,
    pki_files: Path,
    token: SoftHsmToken,
    seal_png: bytes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    image = tmp_path / "con-dau.png"
    image.write_bytes(seal_png)
    monkeypatch.setenv("SEAL_PIN", token.pin)
    configured = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        agencies={
            AGENCY_A: AgencyConfig(
                seal=SealKey(key=token.uri("agency"), pin_env="SEAL_PIN", seal_image=image)
            )
        },
    )
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        await prepare(application, configured, pki, pki_files)
        transport = httpx.ASGITransport(app=application, client=("192.0.2.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://lienthong.test") as c:
            answer = await post(c, seeded.tokens[(AGENCY_A, Role.CLERK)], package)
            assert answer.status_code == 200, answer.text
            statuses = answer.json()["statuses"]
            assert [(s["status_code"], s["signed"]) for s in statuses] == [
                ("01", True),
                ("03", True),
            ]
            services = application.state.services
            assert isinstance(services, Services)
            for status in statuses:
                data = b"".join([chunk async for chunk in services.blobs.read(status["sha256"])])
                verdict = await verify_package(data, receiving(pki_files).policy)
                assert verdict.passed, verdict.reasons
                assert verdict.signer_certificate == pki.signers["agency"].asn1.dump()
