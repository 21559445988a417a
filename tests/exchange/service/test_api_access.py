"""Every endpoint checks the role, and every query is scoped to the caller's agency: another
agency's object answers exactly like one that does not exist. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from exchange.accounts import Role
from exchange.ids import is_public_id
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, Seed, bearer

pytestmark = pytest.mark.db

ALL = frozenset(Role)
READ_REGISTERS = frozenset({Role.CLERK, Role.ARCHIVIST, Role.ADMIN})
READ_FILES = frozenset({Role.CLERK, Role.SIGNER, Role.ARCHIVIST})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[Role]
    json: dict[str, Any] | None = None
    upload: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = (
    Endpoint("GET", "/api/v1/me", ALL),
    Endpoint("GET", "/api/v1/users", frozenset({Role.ADMIN})),
    Endpoint(
        "POST",
        "/api/v1/users",
        frozenset({Role.ADMIN}),
        json={"username": "new-user", "password": "mật khẩu mới dài", "roles": ["clerk"]},
    ),
    Endpoint("GET", "/api/v1/users/a-clerk", frozenset({Role.ADMIN})),
    Endpoint("POST", "/api/v1/users/a-signer/disable", frozenset({Role.ADMIN})),
    Endpoint(
        "POST", "/api/v1/tokens", frozenset({Role.ADMIN}), json={"name": "x", "roles": ["clerk"]}
    ),
    Endpoint("DELETE", "/api/v1/tokens/0000000000000000", frozenset({Role.ADMIN})),
    Endpoint("GET", "/api/v1/registers", READ_REGISTERS),
    Endpoint(
        "POST",
        "/api/v1/registers",
        frozenset({Role.ADMIN}),
        json={"code": "QD", "name": "Sổ quyết định", "kind": "outgoing"},
    ),
    Endpoint("GET", "/api/v1/registers/DI", READ_REGISTERS),
    Endpoint("GET", "/api/v1/registers/DI/numbers", READ_REGISTERS),
    Endpoint(
        "POST", "/api/v1/registers/DI/numbers", frozenset({Role.CLERK}), json={"notation": "SNV"}
    ),
    Endpoint("POST", "/api/v1/files", frozenset({Role.CLERK}), upload=True),
    Endpoint("GET", "/api/v1/files", READ_FILES),
    Endpoint("GET", "/api/v1/files/{file}", READ_FILES),
    Endpoint("GET", "/api/v1/files/{file}/content", READ_FILES),
    Endpoint("GET", "/api/v1/directory/agencies", ALL),
    Endpoint("GET", f"/api/v1/directory/agencies/{AGENCY_B}", ALL),
    Endpoint("GET", "/api/v1/audit", frozenset({Role.ADMIN, Role.ARCHIVIST})),
    Endpoint("POST", "/api/v1/logout", ALL),
)


async def upload(client: httpx.AsyncClient, token: str, content: bytes = b"%PDF-1.7\n") -> str:
    response = await client.post(
        "/api/v1/files",
        headers=bearer(token),
        files={"file": ("cong-van.pdf", content, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def call(
    client: httpx.AsyncClient, endpoint: Endpoint, token: str | None, file_id: str
) -> httpx.Response:
    headers = bearer(token) if token else {}
    path = endpoint.path.format(file=file_id)
    if endpoint.upload:
        return await client.post(
            path, headers=headers, files={"file": ("a.pdf", b"%PDF-1.7\n", "application/pdf")}
        )
    return await client.request(endpoint.method, path, headers=headers, json=endpoint.json)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_every_endpoint_checks_the_role(
    client: httpx.AsyncClient, seeded: Seed, endpoint: Endpoint
) -> None:
    file_id = await upload(client, seeded.tokens[(AGENCY_A, Role.CLERK)])
    anonymous = await call(client, endpoint, None, file_id)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["code"] == "exchange.unauthenticated"
    forged = await call(client, endpoint, "lt_0000000000000000_forged", file_id)
    assert forged.status_code == 401
    for role in Role:
        response = await call(client, endpoint, seeded.tokens[(AGENCY_A, role)], file_id)
        if role in endpoint.allowed:
            assert response.status_code in (200, 201, 204, 404), (role, response.text)
            if response.status_code == 404:  # only the made-up token id is missing
                assert "tokens" in endpoint.path
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "exchange.forbidden"


def _same_answer(one: httpx.Response, other: httpx.Response) -> None:
    assert one.status_code == other.status_code == 404
    assert one.headers["content-type"] == other.headers["content-type"]
    strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
    assert strip(one) == strip(other)


async def test_another_agencys_objects_answer_like_missing_ones(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    a_admin, a_clerk = seeded.tokens[(AGENCY_A, Role.ADMIN)], seeded.tokens[(AGENCY_A, Role.CLERK)]
    b_admin, b_clerk = seeded.tokens[(AGENCY_B, Role.ADMIN)], seeded.tokens[(AGENCY_B, Role.CLERK)]
    b_file = await upload(client, b_clerk, b"%PDF-1.7 B's document\n")
    created = await client.post(
        "/api/v1/registers",
        headers=bearer(b_admin),
        json={"code": "B-ONLY", "name": "Sổ riêng", "kind": "outgoing"},
    )
    assert created.status_code == 201
    b_token = await client.post(
        "/api/v1/tokens", headers=bearer(b_admin), json={"name": "b-robot", "roles": ["clerk"]}
    )
    b_token_id = b_token.json()["public_id"]

    pairs = [
        (a_clerk, "GET", f"/api/v1/files/{b_file}", "/api/v1/files/aaaaaaaaaaaaaaaaaaaa", None),
        (
            a_clerk,
            "GET",
            f"/api/v1/files/{b_file}/content",
            "/api/v1/files/aaaaaaaaaaaaaaaaaaaa/content",
            None,
        ),
        (a_clerk, "GET", "/api/v1/registers/B-ONLY", "/api/v1/registers/NO-SUCH", None),
        (
            a_clerk,
            "GET",
            "/api/v1/registers/B-ONLY/numbers",
            "/api/v1/registers/NO-SUCH/numbers",
            None,
        ),
        (
            a_clerk,
            "POST",
            "/api/v1/registers/B-ONLY/numbers",
            "/api/v1/registers/NO-SUCH/numbers",
            {"notation": "STC"},
        ),
        (a_admin, "GET", "/api/v1/users/b-clerk", "/api/v1/users/nobody", None),
        (a_admin, "POST", "/api/v1/users/b-clerk/disable", "/api/v1/users/nobody/disable", None),
        (
            a_admin,
            "DELETE",
            f"/api/v1/tokens/{b_token_id}",
            "/api/v1/tokens/ffffffffffffffff",
            None,
        ),
    ]
    for token, method, theirs, missing, body in pairs:
        for lang in ("vi", "en"):
            one = await client.request(
                method, theirs, headers=bearer(token), json=body, params={"lang": lang}
            )
            other = await client.request(
                method, missing, headers=bearer(token), json=body, params={"lang": lang}
            )
            _same_answer(one, other)

    # nothing of B's changed, and B's things are in none of A's lists
    b_user = await client.get("/api/v1/users/b-clerk", headers=bearer(b_admin))
    assert b_user.json()["disabled"] is False
    b_register = await client.get("/api/v1/registers/B-ONLY", headers=bearer(b_admin))
    assert b_register.json()["next_number"] == 1
    still = await client.get("/api/v1/me", headers=bearer(b_token.json()["secret"]))
    assert still.status_code == 200
    a_files = (await client.get("/api/v1/files", headers=bearer(a_clerk))).json()
    assert b_file not in [f["id"] for f in a_files]
    a_users = (await client.get("/api/v1/users", headers=bearer(a_admin))).json()
    assert {u["organ_id"] for u in a_users} == {AGENCY_A}
    assert all(u["username"].startswith("a-") for u in a_users)
    a_registers = (await client.get("/api/v1/registers", headers=bearer(a_admin))).json()
    assert "B-ONLY" not in [r["code"] for r in a_registers]
    a_audit = (await client.get("/api/v1/audit", headers=bearer(a_admin))).json()
    assert a_audit
    assert not any("b-" in e["actor"] or "B-ONLY" in e["details"] for e in a_audit)


async def test_same_register_code_in_two_agencies_numbers_apart(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    a, b = seeded.tokens[(AGENCY_A, Role.CLERK)], seeded.tokens[(AGENCY_B, Role.CLERK)]
    for _ in range(2):
        await client.post(
            "/api/v1/registers/DI/numbers", headers=bearer(a), json={"notation": "SNV"}
        )
    taken = await client.post(
        "/api/v1/registers/DI/numbers", headers=bearer(b), json={"notation": "SNV"}
    )
    assert taken.json()["number"] == 1  # B's own sequence, though A's notation is the same


async def test_problems_speak_vietnamese_and_english(client: httpx.AsyncClient) -> None:
    default = await client.get("/api/v1/me")
    assert default.json()["lang"] == "vi"
    assert "mật khẩu" in default.json()["detail"]
    english = await client.get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.json()["lang"] == "en"
    assert english.headers["content-language"] == "en"
    assert "password" in english.json()["detail"]
    preferred = await client.get(
        "/api/v1/me", headers={"Accept-Language": "fr, en;q=0.5, vi;q=0.9"}
    )
    assert preferred.json()["lang"] == "vi"
    by_param = await client.get(
        "/api/v1/me", params={"lang": "en"}, headers={"Accept-Language": "vi"}
    )
    assert by_param.json()["lang"] == "en"
    body = english.json()
    assert body["type"] == "urn:lienthong:problem:exchange.unauthenticated"
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert english.headers["www-authenticate"] == "Bearer"
    invalid = await client.post("/api/v1/login", json={"username": "x"}, params={"lang": "en"})
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "exchange.bad_request"
    assert "password" in invalid.json()["detail"]
    unknown = await client.get("/api/v1/no-such-route", params={"lang": "en"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "exchange.not_found"


async def test_openapi_is_published(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["info"]["title"] == "lienthong"
    for path in ("/api/v1/login", "/api/v1/registers/{code}/numbers", "/api/v1/files"):
        assert path in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


async def test_what_an_agency_sees_says_nothing_of_the_others_activity(
    client: httpx.AsyncClient, seeded: Seed
) -> None:
    """Identifiers and audit numbers are the agency's own: B's uploads between two of A's
    leave no gap in what A sees (row numbers shared by the node would count B's work)."""
    a_clerk, b_clerk = seeded.tokens[(AGENCY_A, Role.CLERK)], seeded.tokens[(AGENCY_B, Role.CLERK)]
    a_admin = seeded.tokens[(AGENCY_A, Role.ADMIN)]
    before = (await client.get("/api/v1/audit", headers=bearer(a_admin))).json()
    first = await upload(client, a_clerk)
    for _ in range(5):
        await upload(client, b_clerk, b"%PDF-1.7 B\n")
    second = await upload(client, a_clerk)

    ids = {first, second}
    assert all(is_public_id(i) and not i.isdigit() for i in ids) and len(ids) == 2
    audit_a = (await client.get("/api/v1/audit", headers=bearer(a_admin))).json()
    numbers = [e["seq"] for e in audit_a]
    assert numbers == list(range(1, len(numbers) + 1))  # 1, 2, 3, … with no gap for B's work
    new = [e for e in audit_a if e["seq"] > len(before)]
    assert [e["document"] for e in new if e["action"] == "file.add"] == [
        f"file:{first}",
        f"file:{second}",
    ]
    later = (
        await client.get("/api/v1/audit", headers=bearer(a_admin), params={"after": numbers[-2]})
    ).json()
    assert [e["seq"] for e in later] == numbers[-1:]
