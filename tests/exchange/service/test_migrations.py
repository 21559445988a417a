"""Migrations are production code: they build the schema the models describe, on SQLite and
PostgreSQL, down and up again; a database at another revision is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from exchange.db import metadata, open_engine, require_current_schema, schema_state, upgrade
from exchange.db.migrate import alembic_config, head_revisions
from exchange.errors import SchemaOutOfDate
from exchange.settings import async_url

pytestmark = pytest.mark.db


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_models_match_migrations(database_url: str) -> None:
    """The template was migrated to head: autogenerate finds nothing to add."""
    async with open_engine(async_url(database_url)) as engine:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
        state = await schema_state(engine)
        assert state.up_to_date and state.current == head_revisions()
        await require_current_schema(engine)


async def test_down_to_base_and_up_again(database_url: str) -> None:
    async with open_engine(async_url(database_url)) as engine:

        def down(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        with pytest.raises(SchemaOutOfDate, match="no tables yet"):
            await require_current_schema(engine)
        state = await upgrade(engine)
        assert state.up_to_date
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []


async def test_unknown_revision_is_refused(database_url: str) -> None:
    async with open_engine(async_url(database_url)) as engine:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
        with pytest.raises(SchemaOutOfDate, match="newer than this program"):
            await require_current_schema(engine)


async def test_an_empty_sqlite_file_is_not_up_to_date(tmp_path: Path) -> None:
    async with open_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'x.db'}") as engine:
        with pytest.raises(SchemaOutOfDate) as raised:
            await require_current_schema(engine)
    assert "db upgrade" in raised.value.vi


def test_parallel_upgrades_take_turns_on_postgresql(pg_admin_url: str) -> None:
    """Processes starting at once all run the upgrade: the advisory lock serialises them
    (without it, the later ones fail creating tables the first is creating)."""
    import asyncio
    import os
    import secrets
    import subprocess
    import sys

    from tests.exchange.service.conftest import _pg_execute, _with_database
    from tests.plugin import PROJECT_ROOT

    name = f"lt_race_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(pg_admin_url, f"CREATE DATABASE {name}"))
    try:
        env = {**os.environ, "LIENTHONG_DATABASE_URL": _with_database(pg_admin_url, name)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "exchange.cli", "--lang", "en", "db", "upgrade"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outputs
        assert all(f"database schema at {head_revisions()[0]}" in out for out, _ in outputs)

        async def check() -> None:
            async with open_engine(async_url(env["LIENTHONG_DATABASE_URL"])) as engine:
                await require_current_schema(engine)

        asyncio.run(check())
    finally:
        asyncio.run(_pg_execute(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def test_0006_gives_existing_rows_public_ids_and_agency_numbers(database_url: str) -> None:
    """A node upgraded from 0005 keeps its rows: each file gets its own random public
    identifier, and audit entries are numbered per agency in their order."""
    from sqlalchemy import text

    from exchange.ids import is_public_id

    def to(revision: str) -> object:
        def run(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            if revision == "0005":
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)

        return run

    agency = text(
        "INSERT INTO agencies (id, organ_id, name, organization_in_charge, address, email,"
        " telephone, fax, website, hosted, created_at, updated_at) VALUES"
        " (901, 'X.1', 'X', '', '', '', '', '', '', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    stored = text(
        "INSERT INTO stored_files (agency_id, sha256, size, media_type, filename, created_at,"
        " created_by) VALUES (901, :sha, :size, 'application/pdf', 'f.pdf', CURRENT_TIMESTAMP,"
        " 'cli:test')"
    )
    entry = text(
        "INSERT INTO audit_log (seq, at, agency, actor, action, document, origin, details,"
        " prev_hash, hash) VALUES (:seq, CURRENT_TIMESTAMP, :agency, 'cli:test', 'test', NULL,"
        " 'cli', '{}', :prev, :hash)"
    )
    async with open_engine(async_url(database_url)) as engine, engine.begin() as connection:
        await connection.run_sync(to("0005"))
        await connection.execute(agency)
        for size in (1, 2):
            await connection.execute(stored, {"sha": "0" * 64, "size": size})
        for seq, owner in enumerate(("X.1", None, "Y.2", "X.1"), start=900):
            await connection.execute(
                entry, {"seq": seq, "agency": owner, "prev": "0" * 64, "hash": f"h{seq}"}
            )
        await connection.run_sync(to("head"))
        found = list(
            (
                await connection.execute(
                    text("SELECT public_id FROM stored_files WHERE agency_id = 901")
                )
            ).scalars()
        )
        numbers = (
            await connection.execute(
                text("SELECT agency, agency_seq FROM audit_log WHERE seq >= 900 ORDER BY seq")
            )
        ).all()
    assert len(set(found)) == 2 and all(is_public_id(i) for i in found)
    assert [tuple(r) for r in numbers] == [("X.1", 1), (None, None), ("Y.2", 1), ("X.1", 2)]
