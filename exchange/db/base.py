"""The one metadata every table is declared on, with a naming convention so that constraint
names are the same on SQLite and PostgreSQL (and migrations can name them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from archive import catalog_metadata

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# The archive room's tables live in the same database and the same migrations; the archive
# declares them on its own metadata (it does not import this room), joined here.
for _table in catalog_metadata.tables.values():
    _table.to_metadata(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC and always read back aware.

    SQLite keeps no time zone, PostgreSQL keeps ``timestamptz``: the value is converted to UTC
    on the way in (a naive datetime is refused) and marked UTC on the way out, so both give
    the same aware value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"the database returned {type(value).__name__} for a timestamp")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
