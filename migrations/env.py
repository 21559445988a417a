"""Alembic environment: one metadata for all rooms (``exchange.db.metadata``), async engines,
SQLite and PostgreSQL.

Run from the program (``lienthong db upgrade``: the connection is handed in through
``config.attributes["connection"]``) or by ``alembic`` itself, with the URL from
``LIENTHONG_DATABASE_URL`` or the settings. On PostgreSQL the migrations hold an advisory
lock for their transaction, so two processes upgrading at once take turns.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from exchange.db import UtcDateTime, metadata
from exchange.db.engine import open_engine
from exchange.settings import async_url, load_settings

MIGRATION_LOCK = 0x6C74_6462  # "ltdb": the advisory lock key of the migrations
target_metadata = metadata
config = context.config


def _url() -> str:
    import os

    explicit = os.environ.get("LIENTHONG_DATABASE_URL")
    return async_url(explicit) if explicit else load_settings().database


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Revisions spell our column types in plain SQLAlchemy, so that they never import the
    models they describe."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    async with open_engine(_url()) as engine, engine.begin() as connection:
        await connection.run_sync(_run)


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif isinstance(config.attributes.get("connection"), Connection):
    _run(config.attributes["connection"])
else:
    asyncio.run(_run_async())
