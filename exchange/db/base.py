"""The one metadata every table is declared on, with a naming convention so that constraint
names are the same on SQLite and PostgreSQL (and migrations can name them).

The naming convention and the aware-datetime column type are the archive room's (its tables
live in the same database and must name their constraints alike); this room uses them, it
does not keep copies."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from archive import NAMING, UtcDateTime, catalog_metadata

metadata = MetaData(naming_convention=NAMING)

# The archive room's tables live in the same database and the same migrations; the archive
# declares them on its own metadata (it does not import this room), joined here.
for _table in catalog_metadata.tables.values():
    _table.to_metadata(metadata)


class Base(DeclarativeBase):
    metadata = metadata


__all__ = ["NAMING", "Base", "UtcDateTime", "metadata"]
