"""Alembic environment: one metadata for all rooms, URL from LIENTHONG_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool

# Every room's tables will be registered on this metadata (with a naming convention, so
# constraint names are stable across SQLite and PostgreSQL).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
target_metadata = MetaData(naming_convention=NAMING)

config = context.config
url = os.environ.get("LIENTHONG_DATABASE_URL", "sqlite:///var/lienthong.db")
config.set_main_option("sqlalchemy.url", url)


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
