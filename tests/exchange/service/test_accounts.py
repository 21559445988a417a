"""Logins, throttling, no user enumeration, tokens stored hashed and revocable."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text

from exchange.accounts import PRUNE_BATCH, Role
from exchange.db import ApiToken, User
from exchange.db.models import LoginThrottle
from exchange.service import Services
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, PASSWORD, Seed, bearer

pytestmark = pytest.mark.db


async def login(
    client: httpx.AsyncClient, username: str, password: str, **kwargs: object
) -> httpx.Response:
    return await client.post(
        "/api/v1/login",
        json={"username": username, "password": password},
        **kwargs,  # type: ignore[arg-type]
    )


async def test_login_gives_a_session_with_the_users_roles(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await login(client, "A-Signer", PASSWORD)  # names are case-insensitive
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["organ_id"] == AGENCY_A and body["roles"] == ["signer"]
    me = await client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.json() == {"organ_id": AGENCY_A, "actor": "user:a-signer", "roles": ["signer"]}
    # only the SHA-256 of the secret is stored
    secret = body["token"].split("_", 2)[2]
    async with services.transaction() as session:
        stored = [t.secret_sha256 for t in await session.scalars(select(ApiToken))]
        hashes = [u.password_hash for u in await session.scalars(select(User))]
    assert secret not in stored and all(len(h) == 64 for h in stored)
    assert all(h.startswith("$argon2id$") for h in hashes)
    # logout ends the session
    assert (await client.post("/api/v1/logout", headers=bearer(body["token"]))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(body["token"]))).status_code == 401


async def test_wrong_password_unknown_user_and_disabled_account_look_the_same(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])
    assert (
        await client.post("/api/v1/users/a-archivist/disable", headers=admin)
    ).status_code == 200
    answers = [
        await login(client, "a-clerk", "not the password", params={"lang": "en"}),
        await login(client, "no-such-user", PASSWORD, params={"lang": "en"}),
        await login(client, "a-archivist", PASSWORD, params={"lang": "en"}),
    ]
    assert {r.status_code for r in answers} == {401}
    bodies = [{k: v for k, v in r.json().items()} for r in answers]
    assert bodies[0] == bodies[1] == bodies[2]


async def test_no_enumeration_by_timing(app: object) -> None:
    """An unknown name costs a password check too (argon2id dominates both answers)."""

    async def timed(username: str, i: int) -> float:
        # a fresh address each time, so that throttling does not answer first
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{i}", 1))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            start = time.perf_counter()
            response = await login(client, username, "wrong password")
            elapsed = time.perf_counter() - start
        assert response.status_code == 401
        return elapsed

    known, unknown = [], []
    for i in range(6):
        known.append(await timed("b-clerk" if i % 2 else "a-clerk", 2 * i))
        unknown.append(await timed(f"ghost-{i}", 2 * i + 1))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)


async def test_throttling_counts_per_account_and_address_whether_or_not_it_exists(
    client: httpx.AsyncClient, services: Services
) -> None:
    limit = services.settings.login_max_failures
    for name in ("a-clerk", "ghost"):
        for i in range(limit):
            response = await login(client, name, f"guess {i}")
            assert response.status_code == 401
        # now even the right password is refused, the same way for both names
        throttled = await login(client, name, PASSWORD, params={"lang": "en"})
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "exchange.too_many_attempts"
        assert "Too many failed logins" in throttled.json()["detail"]
        # the counters were reset for the next name, as a new window would
        async with services.transaction() as session:
            await session.execute(text("DELETE FROM login_throttle"))


async def test_throttling_per_address(services: Services, app: object) -> None:
    limit = services.settings.login_max_failures
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 1234))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for i in range(limit):
            assert (await login(client, f"name-{i}", "wrong password")).status_code == 401
        assert (await login(client, "b-clerk", PASSWORD)).status_code == 429
    # the same account from another address still logs in
    transport = httpx.ASGITransport(app=app, client=("198.51.100.8", 1234))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await login(client, "b-clerk", PASSWORD)).status_code == 200


async def test_disabling_a_user_ends_their_sessions(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    session = (await login(client, "b-signer", PASSWORD)).json()["token"]
    assert (await client.get("/api/v1/me", headers=bearer(session))).status_code == 200
    admin = bearer(seeded.tokens[(AGENCY_B, Role.ADMIN)])
    disabled = await client.post("/api/v1/users/b-signer/disable", headers=admin)
    assert disabled.json()["disabled"] is True
    assert (await client.get("/api/v1/me", headers=bearer(session))).status_code == 401


async def test_machine_tokens_shown_once_scoped_and_revocable(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])
    issued = await client.post(
        "/api/v1/tokens", headers=admin, json={"name": "scanner", "roles": ["clerk", "archivist"]}
    )
    assert issued.status_code == 201
    token = issued.json()
    assert token["secret"].startswith(f"lt_{token['public_id']}_")
    me = (await client.get("/api/v1/me", headers=bearer(token["secret"]))).json()
    assert me == {"organ_id": AGENCY_A, "actor": "token:scanner", "roles": ["archivist", "clerk"]}
    # a wrong secret with the right id is refused
    forged = token["secret"][:-4] + "AAAA"
    assert (await client.get("/api/v1/me", headers=bearer(forged))).status_code == 401
    revoked = await client.delete(f"/api/v1/tokens/{token['public_id']}", headers=admin)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(token["secret"]))).status_code == 401
    expired = await client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"name": "old", "roles": ["clerk"], "expires_at": "2020-01-01T00:00:00+07:00"},
    )
    old = expired.json()["secret"]
    assert (await client.get("/api/v1/me", headers=bearer(old))).status_code == 401


async def test_user_management_checks_its_input(client: httpx.AsyncClient, seeded: Seed) -> None:
    admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])
    short = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "new-one", "password": "short", "roles": ["clerk"]},
        params={"lang": "en"},
    )
    assert short.status_code == 400 and "at least 10" in short.json()["detail"]
    taken = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "b-clerk", "password": PASSWORD, "roles": ["clerk"]},
    )
    assert taken.status_code == 409  # names are unique on the node
    bad_role = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "new-one", "password": PASSWORD, "roles": ["king"]},
    )
    assert bad_role.status_code == 400
    added = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "new-one", "password": PASSWORD, "roles": ["clerk", "signer"]},
    )
    assert added.status_code == 201 and added.json()["roles"] == ["clerk", "signer"]
    assert (await login(client, "new-one", PASSWORD)).status_code == 200


async def test_parallel_guesses_cannot_slip_past_the_limit(services: Services, app: object) -> None:
    """From one address, exactly ``max_failures`` guesses are checked; from many addresses,
    exactly the name's ceiling."""
    import asyncio

    policy = services.login_policy
    limit, ceiling = policy.max_failures, policy.name_ceiling

    async def guess(i: int, address: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(address, 1))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await login(client, "a-admin", f"guess {i}")).status_code

    one = await asyncio.gather(*(guess(i, "203.0.113.99") for i in range(4 * limit)))
    assert sorted(one) == [401] * limit + [429] * (3 * limit)
    many = await asyncio.gather(
        *(guess(i, f"198.18.{i // 200}.{i % 200}") for i in range(ceiling + 2 * limit))
    )
    # the refused guesses from the first address did not use up the name's ceiling
    assert sorted(many) == [401] * (ceiling - limit) + [429] * (3 * limit)


async def test_wrong_guesses_from_elsewhere_do_not_lock_the_user_out(
    services: Services, app: object
) -> None:
    policy = services.login_policy

    async def attempt(address: str, password: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(address, 1))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await login(client, "a-clerk", password)).status_code

    # the user logs in once from the office
    assert await attempt("192.0.2.10", PASSWORD) == 200
    # many wrong guesses, each from its own address, up to just under the name's ceiling
    # (every guess counts on the name; a successful login does not)
    for i in range(policy.name_ceiling - 1):
        assert await attempt(f"198.18.{i // 200}.{i % 200}", "wrong password") == 401
    # the right password from a new address that has not failed is accepted
    assert await attempt("203.0.113.50", PASSWORD) == 200
    assert await attempt("198.18.9.9", "wrong password") == 401  # the name at its ceiling
    # at the ceiling, a new address is refused even with the right password ...
    assert await attempt("203.0.113.51", PASSWORD) == 429
    # ... but an address the user logged in from before still gets in
    assert await attempt("192.0.2.10", PASSWORD) == 200
    assert await attempt("203.0.113.50", PASSWORD) == 200
    # only the guesses were counted: not the refused attempt, not the logins
    async with services.transaction() as session:
        failures = dict(
            (await session.execute(text("SELECT key, failures FROM login_throttle"))).all()
        )
    assert failures["user:a-clerk"] == policy.name_ceiling
    assert failures["pair:a-clerk|198.18.0.0"] == 1
    assert "pair:a-clerk|203.0.113.51" not in failures or failures["pair:a-clerk|203.0.113.51"] == 0


async def test_a_machine_token_outlives_the_admin_who_issued_it(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    """A machine token belongs to the agency: disabling the administrator who issued it
    ends the administrator's sessions, not the agency's integrations."""
    admin = (await login(client, "a-admin", PASSWORD)).json()["token"]
    issued = await client.post(
        "/api/v1/tokens", json={"name": "dms", "roles": ["clerk"]}, headers=bearer(admin)
    )
    assert issued.status_code == 201, issued.text
    machine = issued.json()["secret"]
    other_admin = bearer(seeded.tokens[(AGENCY_A, Role.ADMIN)])
    disabled = await client.post("/api/v1/users/a-admin/disable", headers=other_admin)
    assert disabled.json()["disabled"] is True
    assert (await client.get("/api/v1/me", headers=bearer(admin))).status_code == 401
    me = await client.get("/api/v1/me", headers=bearer(machine))
    assert me.status_code == 200 and me.json()["actor"] == "token:dms"


async def test_logins_prune_expired_counters_and_keep_live_ones(
    client: httpx.AsyncClient, services: Services, app: object
) -> None:
    policy = services.login_policy
    now = datetime.now(UTC)
    expired = now - policy.window - timedelta(minutes=1)
    live = now - policy.window + timedelta(minutes=5)
    limit = policy.max_failures
    rows = {
        # counters: gone once their window is over, kept within it
        "pair:old|192.0.2.1": (limit, expired),
        "addr:192.0.2.1": (limit, expired),
        "user:old": (3, expired),
        "pair:busy|192.0.2.2": (limit, live),
        "addr:192.0.2.2": (2, live),
        # remembered addresses: kept for trusted_for, not just the window
        "ok:old|192.0.2.3": (0, expired),
        "ok:gone|192.0.2.4": (0, now - policy.trusted_for - timedelta(minutes=1)),
    }
    async with services.transaction() as session:
        session.add_all(
            LoginThrottle(key=k, failures=f, window_start=w) for k, (f, w) in rows.items()
        )

    async def keys() -> set[str]:
        async with services.transaction() as session:
            return set(await session.scalars(select(LoginThrottle.key)))

    assert (await login(client, "ghost", "wrong password")).status_code == 401  # a failure
    left = await keys()
    assert not left & {"pair:old|192.0.2.1", "addr:192.0.2.1", "user:old", "ok:gone|192.0.2.4"}
    assert {"pair:busy|192.0.2.2", "addr:192.0.2.2", "ok:old|192.0.2.3"} <= left
    # the live counter still throttles: its address is refused
    transport = httpx.ASGITransport(app=app, client=("192.0.2.2", 1))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        assert (await login(other, "busy", PASSWORD)).status_code == 429

    # a success prunes too, a bounded batch at a time
    async with services.transaction() as session:
        session.add_all(
            LoginThrottle(key=f"addr:198.51.100.{i}", failures=1, window_start=expired)
            for i in range(PRUNE_BATCH + 5)
        )
    assert (await login(client, "a-clerk", PASSWORD)).status_code == 200
    stale = {k for k in await keys() if k.startswith("addr:198.51.100.")}
    assert len(stale) == 5
    assert (await login(client, "a-clerk", PASSWORD)).status_code == 200
    assert not {k for k in await keys() if k.startswith("addr:198.51.100.")}
    assert {"pair:busy|192.0.2.2", "addr:192.0.2.2", "ok:old|192.0.2.3"} <= await keys()
    async with services.transaction() as session:
        await session.execute(text("DELETE FROM login_throttle"))


async def test_successful_logins_from_one_address_are_not_throttled(
    client: httpx.AsyncClient, services: Services
) -> None:
    """An office behind one address: its clerks' logins are no failures; the guesses in
    between still count, and enough of them still throttle."""
    limit = services.settings.login_max_failures
    for _ in range(3 * limit):
        assert (await login(client, "a-clerk", PASSWORD)).status_code == 200
        assert (await login(client, "b-clerk", PASSWORD)).status_code == 200
    for i in range(limit):
        assert (await login(client, f"ghost-{i}", "guess")).status_code == 401
    assert (await login(client, "a-clerk", PASSWORD)).status_code == 429
