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
