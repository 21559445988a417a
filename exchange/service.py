"""The live parts one process needs, opened from settings: the database engine and its
sessions, the blob store. The API and the command line both open them here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from exchange.accounts import LoginPolicy
from exchange.blobs import BlobStore, FileBlobStore
from exchange.db.engine import READ_ONLY, open_engine, sessions
from exchange.db.migrate import require_current_schema
from exchange.errors import Conflict, ExchangeError, StorageError
from exchange.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    blobs: BlobStore

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(
            max_failures=self.settings.login_max_failures,
            window=timedelta(seconds=self.settings.login_window_seconds),
            session_lifetime=timedelta(hours=self.settings.session_hours),
        )

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """One use case's transaction: committed at the end of the block, rolled back if it
        raises. A constraint the database enforces (two requests racing for one name) becomes
        a :class:`Conflict`; a database that cannot be written, a :class:`StorageError`.
        ``read_only``: the use case only reads (on SQLite it then does not wait for a writer,
        such as an issue sealing a document)."""
        try:
            async with self.sessions() as session, session.begin():
                if read_only:
                    await session.connection(execution_options={READ_ONLY: True})
                yield session
        except ExchangeError:
            raise
        except IntegrityError as exc:
            raise Conflict(
                "This conflicts with a record that exists already.",
                "Việc này trùng với một bản ghi đã có.",
            ) from exc
        except (OperationalError, SQLAlchemyTimeoutError) as exc:  # the pool exhausted too
            raise StorageError(
                "The database cannot be used right now.",
                "Hiện không dùng được cơ sở dữ liệu.",
            ) from exc


@asynccontextmanager
async def open_services(
    settings: Settings, *, check_schema: bool = True
) -> AsyncIterator[Services]:
    """The services of ``settings``; with ``check_schema``, refuse an out-of-date database."""
    async with open_engine(settings.database) as engine:
        if check_schema:
            try:
                await require_current_schema(engine)
            except OperationalError as exc:
                raise StorageError(
                    "The database cannot be reached.", "Không kết nối được cơ sở dữ liệu."
                ) from exc
        yield Services(
            settings=settings,
            engine=engine,
            sessions=sessions(engine),
            blobs=FileBlobStore(settings.blobs),
        )
