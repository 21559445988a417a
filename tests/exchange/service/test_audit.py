"""The audit log: who, what, when, which document, from where; a hash chain that shows an
edited or deleted entry."""

from __future__ import annotations

from datetime import UTC

import httpx
import pytest
from sqlalchemy import delete, select, update

from exchange import audit
from exchange.accounts import Role
from exchange.db import AuditEntry
from exchange.service import Services
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer

pytestmark = pytest.mark.db


async def _some_activity(client: httpx.AsyncClient, seeded: Seed) -> None:
    token = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    for _ in range(3):
        r = await client.post(
            "/api/v1/registers/DI/numbers", headers=token, json={"notation": "SNV"}
        )
        assert r.status_code == 201


async def test_entries_say_who_what_when_which_and_from_where(
    client: httpx.AsyncClient, seeded: Seed, services: Services
) -> None:
    await _some_activity(client, seeded)
    async with services.transaction() as session:
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert last is not None
    assert last.actor == "token:robot-clerk"
    assert last.action == "register.number"
    assert last.document == "03/SNV"
    assert last.agency == AGENCY_A
    assert last.origin == "192.0.2.10"  # the client's address
    assert last.at.tzinfo is UTC
    async with services.transaction() as session:
        report = await audit.verify(session)
    assert report.intact and report.head == last.hash
    # seeding was done at the command line
    async with services.transaction() as session:
        first = await session.get(AuditEntry, 1)
    assert first is not None and first.origin == "cli" and first.prev_hash == audit.GENESIS


async def test_an_edited_entry_is_found(
    client: httpx.AsyncClient, seeded: Seed, services: Services
) -> None:
    await _some_activity(client, seeded)
    async with services.transaction() as session:
        count = (await audit.verify(session)).entries
        await session.execute(
            update(AuditEntry).where(AuditEntry.seq == count - 1).values(actor="user:someone-else")
        )
    async with services.transaction() as session:
        report = await audit.verify(session)
    assert [(p.seq, p.kind) for p in report.problems] == [(count - 1, "edited")]
    assert "changed" in report.problems[0].message("en")
    assert "sửa" in report.problems[0].message("vi")


async def test_a_rehashed_edit_breaks_the_next_link(services: Services) -> None:
    async with services.transaction() as session:
        entry = await session.get(AuditEntry, 3)
        assert entry is not None
        entry.action = "user.delete"
        entry.hash = audit.entry_hash(
            seq=entry.seq,
            at=entry.at,
            agency=entry.agency,
            actor=entry.actor,
            action=entry.action,
            document=entry.document,
            origin=entry.origin,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
    async with services.transaction() as session:
        report = await audit.verify(session)
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "relinked")]


async def test_a_deleted_entry_is_found(services: Services) -> None:
    async with services.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    async with services.transaction() as session:
        report = await audit.verify(session)
    assert [(p.seq, p.kind) for p in report.problems] == [(6, "missing")]
    async with services.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 1))
        report = await audit.verify(session)
    assert (2, "missing") in [(p.seq, p.kind) for p in report.problems]
