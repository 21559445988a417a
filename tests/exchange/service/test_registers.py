"""Yearly numbering: starts at 1 on 1 January Vietnam time, number + notation unique in the
agency and year, no gap from a failed request, and no duplicate under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from exchange import accounts, registers
from exchange.accounts import Principal, Role
from exchange.audit import Actor
from exchange.db import Register, RegisterEntry
from exchange.errors import BadRequest, Conflict, NotFound
from exchange.service import Services
from exchange.settings import Settings
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, Seed, bearer

pytestmark = pytest.mark.db
CLERK = Actor(name="user:a-clerk", origin="192.0.2.1")


async def clerk(services: Services, organ_id: str = AGENCY_A) -> Principal:
    async with services.transaction() as session:
        admin = await accounts.operator(session, organ_id, CLERK)
    return Principal(
        agency_id=admin.agency_id,
        organ_id=admin.organ_id,
        roles=frozenset({Role.CLERK}),
        actor=CLERK,
    )


async def take(
    services: Services,
    who: Principal,
    notation: str | None = "SNV",
    *,
    register: str = "DI",
    now: datetime | None = None,
) -> registers.Number:
    async with services.transaction() as session:
        return await registers.allocate(session, who, register=register, notation=notation, now=now)


async def test_numbers_run_from_one_and_restart_on_1_january_vietnam_time(
    services: Services,
) -> None:
    who = await clerk(services)
    first = await take(services, who, now=datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
    second = await take(services, who, now=datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC))
    # 31 Dec 17:00 UTC is 1 January 00:00 in Vietnam: the new year's first number
    new_year = await take(services, who, now=datetime(2026, 12, 31, 17, 0, tzinfo=UTC))
    after = await take(services, who, now=datetime(2027, 1, 2, tzinfo=UTC))
    assert [(n.year, n.number) for n in (first, second, new_year, after)] == [
        (2026, 1),
        (2026, 2),
        (2027, 1),
        (2027, 2),
    ]
    assert new_year.text == "01/SNV"
    # the clock going back into a numbered year is refused, not numbered twice
    with pytest.raises(Conflict):
        await take(services, who, now=datetime(2026, 12, 1, tzinfo=UTC))
    async with services.transaction() as session:
        listed = await registers.entries(session, who, "DI", year=2027)
    assert [n.number for n in listed] == [1, 2]


async def test_arrival_numbers_have_no_notation(services: Services) -> None:
    who = await clerk(services)
    assert (await take(services, who, None, register="DEN")).text == "1"
    with pytest.raises(BadRequest):
        await take(services, who, "SNV", register="DEN")
    with pytest.raises(BadRequest):
        await take(services, who, None)  # an outgoing number needs its notation
    with pytest.raises(BadRequest):
        await take(services, who, "A/B")


async def test_number_and_notation_unique_in_agency_and_year(services: Services) -> None:
    who = await clerk(services)
    async with services.transaction() as session:
        admin = await accounts.operator(session, AGENCY_A, CLERK)
        await registers.create_register(
            session, admin, code="QD", name="Sổ quyết định", kind="outgoing"
        )
    await take(services, who, "QĐ-SNV")
    # another register of the same agency reaching number 1 with the same notation
    with pytest.raises(Conflict):
        await take(services, who, "QĐ-SNV", register="QD")
    # the failed attempt left QD's counter where it was
    async with services.transaction() as session:
        view = await registers.get_register(session, who, "QD")
    assert view.next_number == 1
    # the other agency numbers on its own
    other = await clerk(services, AGENCY_B)
    assert (await take(services, other, "QĐ-SNV")).number == 1


async def test_a_failed_request_leaves_no_gap(services: Services) -> None:
    who = await clerk(services)
    await take(services, who)

    class LaterStepFailed(Exception):
        pass

    with pytest.raises(LaterStepFailed):
        async with services.transaction() as session:
            taken = await registers.allocate(session, who, register="DI", notation="SNV")
            assert taken.number == 2
            raise LaterStepFailed  # e.g. sealing failed after numbering
    assert (await take(services, who)).number == 2


async def test_another_agencys_register_is_not_found(services: Services) -> None:
    other = await clerk(services, AGENCY_B)
    async with services.transaction() as session:
        admin_a = await accounts.operator(session, AGENCY_A, CLERK)
        await registers.create_register(session, admin_a, code="A-ONLY", name="x", kind="incoming")
    with pytest.raises(NotFound):
        await take(services, other, None, register="A-ONLY")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_200_parallel_allocations_give_200_consecutive_numbers(
    settings: Settings, services: Services
) -> None:
    who = await clerk(services)
    failures = 0

    async def one(i: int) -> int:
        nonlocal failures
        async with services.transaction() as session:
            number = await registers.allocate(session, who, register="DI", notation="SNV")
            if i % 20 == 7:  # some requests fail after taking their number
                failures += 1
                raise RuntimeError("sealing failed")
            return number.number

    results = await asyncio.gather(*(one(i) for i in range(211)), return_exceptions=True)
    numbers = sorted(r for r in results if isinstance(r, int))
    assert failures == 11
    assert len(numbers) == 200
    assert numbers == list(range(1, 201))  # distinct, consecutive: no hole from the failures
    async with services.transaction() as session:
        register = await session.scalar(
            select(Register).where(Register.code == "DI", Register.agency_id == who.agency_id)
        )
        assert register is not None and register.next_number == 201
        count = await session.scalar(
            select(func.count())
            .select_from(RegisterEntry)
            .where(RegisterEntry.agency_id == who.agency_id)
        )
    assert count == 200


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_200_parallel_number_requests_over_http(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    token = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])

    async def one() -> int:
        response = await client.post(
            "/api/v1/registers/DI/numbers", headers=token, json={"notation": "SNV"}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["number"])

    numbers = await asyncio.gather(*(one() for _ in range(200)))
    assert sorted(numbers) == list(range(1, 201))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
async def test_readers_do_not_wait_for_a_long_issue(
    services: Services, client: httpx.AsyncClient, seeded: Seed
) -> None:
    """An issue holds the register (and, on SQLite, the database's write lock) while it seals;
    reading requests go on meanwhile."""
    who = await clerk(services)
    holding, done = asyncio.Event(), asyncio.Event()

    async def long_issue() -> None:
        async with services.transaction() as session:
            await registers.allocate(session, who, register="DI", notation="SNV")
            holding.set()
            await done.wait()  # sealing…

    writer = asyncio.create_task(long_issue())
    await holding.wait()
    try:
        token = bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
        listed = await asyncio.wait_for(client.get("/api/v1/registers", headers=token), 5)
        assert listed.status_code == 200
        assert [r["next_number"] for r in listed.json() if r["code"] == "DI"] == [1]
    finally:
        done.set()
        await writer
