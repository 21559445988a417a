"""200 issue requests at once, through the HTTP API, on one register: every one is served
(none fails on the connection pool or a lock wait), the numbers are exactly 1..200, each
document carries its own number in its filled field and in its seal, and the audit chain
still verifies. PostgreSQL is the point (the register row is locked while a document is
sealed, so the issues take turns). It runs on PostgreSQL only: about 2.5 minutes on two
cores (a personal signature about 0.3 s, an issue about 0.45 s); SQLite, whose database lock
serialises writers anyway, passes it in about the same time."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from pyhanko.pdf_utils.reader import PdfFileReader

from exchange import audit
from exchange.accounts import Role
from exchange.service import Services
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_documents import draft
from tests.exchange.service.test_signing import (
    sample_metadata,
    session_of,
    settings,
    tsa_urls,
    verify_json,
)

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["settings", "tsa_urls"]  # the server-side keys and the TSA of test_signing

ISSUES = 200
PREPARING = 4
"""Drafts made at a time (the machine has two cores)."""
T = TypeVar("T")


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


def filled_number(pdf: bytes) -> str:
    fields = PdfFileReader(io.BytesIO(pdf)).root["/AcroForm"]["/Fields"]
    values = {str(f.get_object().get("/T")): str(f.get_object().get("/V")) for f in fields}
    return values["so"]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_200_parallel_issues_get_200_consecutive_numbers(
    client: httpx.AsyncClient,
    app: FastAPI,
    seeded: Seed,
    sample_pdf: bytes,
    pki_files: Path,
    tmp_path: Path,
) -> None:
    clerk_token = seeded.tokens[(AGENCY_A, Role.CLERK)]
    clerk = bearer(clerk_token)
    signer = await session_of(client, "a-signer")
    started = time.monotonic()

    async def drafted() -> str:
        created = await draft(client, clerk_token, sample_pdf, sample_metadata())
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def signing(doc_id: str) -> Callable[[], Awaitable[None]]:
        async def sign() -> None:
            signed = await client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
            assert signed.status_code == 200, signed.text

        return sign

    doc_ids = await bounded(PREPARING, [drafted] * ISSUES)
    # one at a time: two logins to one PKCS#11 token at once fail (CKR_USER_ALREADY_LOGGED_IN)
    await bounded(1, [signing(d) for d in doc_ids])
    prepared = time.monotonic()

    # all at once: each request authenticates, then queues for the register
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/documents/{d}/issue", headers=clerk) for d in doc_ids)
    )
    issued_at = time.monotonic()
    failed = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {ISSUES} failed, first: {failed[:3]}"
    docs = {d: r.json() for d, r in zip(doc_ids, responses, strict=True)}
    assert all(doc["state"] == "issued" for doc in docs.values())
    numbers = sorted(doc["metadata"]["code_number"] for doc in docs.values())
    assert numbers == list(range(1, ISSUES + 1))  # no gap, no duplicate
    register = await client.get("/api/v1/registers/DI", headers=clerk)
    assert register.json()["next_number"] == ISSUES + 1
    entries = await client.get("/api/v1/registers/DI/numbers", headers=clerk)
    assert sorted(e["number"] for e in entries.json()) == numbers

    # each document carries its own number: the filled field, and the seal validates
    by_number = {doc["metadata"]["code_number"]: d for d, doc in docs.items()}
    for number in (1, 2, ISSUES // 2, ISSUES - 1, ISSUES):
        pdf = await client.get(f"/api/v1/documents/{by_number[number]}/pdf", headers=clerk)
        assert filled_number(pdf.content) == f"{number:02d}"
        if number in (1, ISSUES):
            path = tmp_path / f"{number}.pdf"
            path.write_bytes(pdf.content)
            report = verify_json(path, pki_files)
            assert report["indication"] == "TOTAL-PASSED", json.dumps(report)[:3000]
    # every issue is in the audit log once, with its number, and the chain holds
    svc = app.state.services
    assert isinstance(svc, Services)
    async with svc.transaction(read_only=True) as session:
        chain = await audit.verify(session)
        logged = [
            e.details
            for e in await audit.entries_of(session, AGENCY_A, limit=100_000)
            if e.action == "document.issue"
        ]
    assert chain.intact, chain.problems
    assert sorted(json.loads(d)["number"] for d in logged) == sorted(
        f"{n:02d}/SNV-VP" for n in numbers
    )
    print(  # the figures, seen with -s
        f"\n{svc.engine.dialect.name}: {ISSUES} drafted and signed in "
        f"{prepared - started:.1f} s, issued in parallel in {issued_at - prepared:.1f} s "
        f"({(issued_at - prepared) / ISSUES:.2f} s each)"
    )
