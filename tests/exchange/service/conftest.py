"""Database fixtures of the service tests: SQLite always, PostgreSQL too.

PostgreSQL comes from ``LIENTHONG_TEST_DATABASE_URL`` (CI sets it), else from a throw-away
cluster started with the installed binaries (``initdb``, ``pg_ctl``) on a free port. The
schema is migrated once per session into a template (a SQLite file, a PostgreSQL template
database) holding two hosted agencies with a user and a machine token per role; each test
gets its own copy (a file copy, ``CREATE DATABASE … TEMPLATE``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from exchange import accounts, directory, registers
from exchange.accounts import Role
from exchange.api import create_app
from exchange.audit import Actor
from exchange.db import open_engine, upgrade
from exchange.service import Services, open_services
from exchange.settings import Settings
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import SoftHsmToken

AGENCY_A = "000.00.01.H01"
AGENCY_B = "000.00.02.H02"
REMOTE = "000.00.00.G22"
PASSWORD = "mật khẩu đủ dài 123"
ROLES = tuple(Role)
OPERATOR = Actor(name="cli:test", origin="cli")
BACKENDS = ("sqlite", "postgresql")


@dataclass(slots=True)
class Seed:
    """What the template database holds, and the secrets to reach it."""

    tokens: dict[tuple[str, Role], str] = field(default_factory=dict)
    """A machine token per (agency, role)."""

    def username(self, organ_id: str, role: Role) -> str:
        return f"{'a' if organ_id == AGENCY_A else 'b'}-{role.value}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL binaries not found ({name}); set LIENTHONG_TEST_DATABASE_URL")
    return str(found[-1])


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A PostgreSQL server (URL of a database to connect to for CREATE DATABASE)."""
    given = os.environ.get("LIENTHONG_TEST_DATABASE_URL")
    if given:
        yield given
        return
    home = Path(tempfile.mkdtemp(prefix="lienthong-pg-"))
    port = free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(home, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = home / "data"
    subprocess.run(
        [*run_as, _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=300",
            "-l",
            str(home / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _pg_execute(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


# -- the template ------------------------------------------------------------------------------


async def seed(settings: Settings) -> Seed:
    """Migrate ``settings``' database and fill it with the agencies, users and tokens."""
    async with open_engine(settings.database) as engine:
        await upgrade(engine)
    result = Seed()
    async with open_services(settings) as svc, svc.transaction() as session:
        specs = [
            directory.AgencySpec.parse(
                {"organ_id": AGENCY_A, "name": "Sở Nội vụ tỉnh Thái Bình", "hosted": True}, "a"
            ),
            directory.AgencySpec.parse(
                {"organ_id": AGENCY_B, "name": "Sở Tài chính tỉnh Thái Bình", "hosted": True}, "b"
            ),
            directory.AgencySpec.parse(
                {
                    "organ_id": REMOTE,
                    "name": "Văn phòng Chính phủ",
                    "node_url": "https://lienthong.example.invalid",
                },
                "remote",
            ),
        ]
        await directory.save(session, specs, actor=OPERATOR)
        for organ_id in (AGENCY_A, AGENCY_B):
            admin = await accounts.operator(session, organ_id, OPERATOR)
            for role in ROLES:
                await accounts.add_user(
                    session,
                    admin,
                    username=result.username(organ_id, role),
                    password=PASSWORD,
                    roles=frozenset({role}),
                    full_name=f"{role.value} of {organ_id}",
                )
                issued = await accounts.issue_token(
                    session, admin, name=f"robot-{role.value}", roles=frozenset({role})
                )
                result.tokens[(organ_id, role)] = issued.secret
            await registers.create_register(
                session, admin, code="DI", name="Sổ văn bản đi", kind="outgoing"
            )
            await registers.create_register(
                session, admin, code="DEN", name="Sổ văn bản đến", kind="incoming"
            )
    return result


@dataclass(frozen=True, slots=True)
class Template:
    backend: str
    url: str
    """The template's URL (a file for SQLite, a template database for PostgreSQL)."""
    seed: Seed


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    home = tmp_path_factory.mktemp("sqlite-template")
    settings = Settings(data_dir=home, database_url=f"sqlite:///{home / 'template.db'}")
    made = asyncio.run(seed(settings))
    return Template("sqlite", f"sqlite:///{home / 'template.db'}", made)


@pytest.fixture(scope="session")
def postgresql_template(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    name = f"lt_template_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(pg_admin_url, f"CREATE DATABASE {name}"))
    url = _with_database(pg_admin_url, name)
    settings = Settings(data_dir=tmp_path_factory.mktemp("pg-template"), database_url=url)
    made = asyncio.run(seed(settings))
    try:
        yield Template("postgresql", url, made)
    finally:
        asyncio.run(_pg_execute(pg_admin_url, f"DROP DATABASE IF EXISTS {name}"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def template(backend: str, request: pytest.FixtureRequest) -> Template:
    return request.getfixturevalue(f"{backend}_template")


@pytest.fixture
async def database_url(
    template: Template, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A database of its own for this test, copied from the template."""
    if template.backend == "sqlite":
        copy = tmp_path / "lienthong.db"
        shutil.copyfile(template.url.removeprefix("sqlite:///"), copy)
        yield f"sqlite:///{copy}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = f"lt_test_{secrets.token_hex(6)}"
    template_name = template.url.rpartition("/")[2]
    await _pg_execute(admin, f"CREATE DATABASE {name} TEMPLATE {template_name}")
    try:
        yield _with_database(admin, name)
    finally:
        with contextlib.suppress(Exception):
            await _pg_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # no delivery worker in the API tests: what they check must not race with deliveries
    # (the delivery tests run their own workers)
    return Settings(data_dir=tmp_path / "data", database_url=database_url, delivery_worker=False)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as svc:
        yield svc


@pytest.fixture
def seeded(template: Template) -> Seed:
    return template.seed


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lienthong.test") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def node_pair(
    tmp_path: Path,
    token: SoftHsmToken,
    pki: DevPki,
    pki_files: Path,
    dev_services: DevServices,
    signature_png: bytes,
    seal_png: bytes,
) -> Iterator[Any]:
    """A function making the two nodes of :mod:`tests.exchange.service.nodes` (``"sqlite"``
    or ``"postgresql"``, the latter given the test's ``request``); every node it made is
    stopped at the end."""
    from tests.exchange.service.nodes import Node, make_nodes

    made: list[Node] = []
    admins: list[str] = []

    def make(database: str, request: pytest.FixtureRequest | None = None) -> tuple[Node, Node]:
        admin = None
        if database == "postgresql":
            assert request is not None
            admin = request.getfixturevalue("pg_admin_url")
            admins.append(admin)
        nodes = make_nodes(
            tmp_path,
            token=token,
            pki=pki,
            pki_files=pki_files,
            tsa_url=dev_services.tsa_url,
            signature_png=signature_png,
            seal_png=seal_png,
            pg_admin_url=admin,
        )
        made.extend(nodes)
        return nodes

    try:
        yield make
    finally:
        for node in made:
            node.stop()
        for node in made:  # the nodes' own databases go with them
            if node.database_url and admins:
                name = node.database_url.rpartition("/")[2]
                asyncio.run(_pg_execute(admins[0], f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
