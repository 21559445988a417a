"""Database engine and transactions, opened from a URL as context managers (never at import).

SQLite is the embedded default: one file, foreign keys on, WAL, and every transaction begins
``IMMEDIATE`` so that writers queue on the database lock instead of failing half-way (SQLite
has no ``SELECT … FOR UPDATE``; an immediate transaction is its equivalent), except one
opened to read only, which begins ``DEFERRED`` and reads while a writer works. PostgreSQL
is used through asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from exchange.errors import StorageError

SQLITE_BUSY_MS = 30_000
READ_ONLY = "lienthong_read_only"
"""Execution option: this transaction only reads (SQLite begins it DEFERRED)."""


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # take transaction control from the driver, so BEGIN IMMEDIATE below is the only begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # a reading transaction does not queue behind a writer (WAL lets it read meanwhile)
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


@asynccontextmanager
async def open_engine(url: str, *, pool_size: int = 10) -> AsyncIterator[AsyncEngine]:
    """An async engine for ``url`` (an async SQLAlchemy URL), disposed on exit."""
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"The database directory cannot be created: {exc.strerror}.",
                    f"Không tạo được thư mục cơ sở dữ liệu: {exc.strerror}.",
                ) from exc
    else:
        options = {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
    engine = create_async_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory the services use (objects stay readable after commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    async with factory() as session, session.begin():
        yield session


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached at all."""
    return isinstance(exc, OperationalError | OSError)
