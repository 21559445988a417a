"""Alembic from the program: where the revisions are, upgrading, and whether a database's
schema is the one this program was written for."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.errors import ConfigurationError, SchemaOutOfDate


def migrations_dir() -> Path:
    """The ``migrations`` directory: beside the rooms in a checkout, else the installed one."""
    beside = Path(__file__).resolve().parents[2] / "migrations"
    if (beside / "env.py").is_file():
        return beside
    spec = importlib.util.find_spec("migrations")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise ConfigurationError(
        "The database migrations are not installed with this program.",
        "Không tìm thấy các bản chuyển đổi cơ sở dữ liệu (migrations) đi kèm chương trình.",
    )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaState:
    current: tuple[str, ...]
    """The revisions the database is at (empty: never migrated)."""
    head: tuple[str, ...]
    """The revisions this program expects."""

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.head)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    return SchemaState(current=current, head=head_revisions())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> SchemaState:
    """Apply the migrations up to ``revision`` (PostgreSQL: under an advisory lock, so two
    processes upgrading at once take turns). One upgrade at a time per process: Alembic
    keeps the running migration in module-level proxies (``alembic.context``, ``op``)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
    return await schema_state(engine)


async def require_current_schema(engine: AsyncEngine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at this program's head."""
    state = await schema_state(engine)
    if state.up_to_date:
        return
    if not state.current:
        raise SchemaOutOfDate(
            "The database has no tables yet: run the database upgrade first.",
            "Cơ sở dữ liệu chưa có bảng: cần chạy nâng cấp cơ sở dữ liệu (db upgrade) trước.",
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if not set(state.current) <= known:
        raise SchemaOutOfDate(
            f"The database schema ({', '.join(state.current)}) is newer than this program.",
            f"Lược đồ cơ sở dữ liệu ({', '.join(state.current)}) mới hơn chương trình này.",
        )
    raise SchemaOutOfDate(
        f"The database schema is out of date ({', '.join(state.current)}, this program needs "
        f"{', '.join(state.head)}): run the database upgrade first.",
        f"Lược đồ cơ sở dữ liệu đã cũ ({', '.join(state.current)}, cần "
        f"{', '.join(state.head)}): cần chạy nâng cấp cơ sở dữ liệu (db upgrade) trước.",
    )
