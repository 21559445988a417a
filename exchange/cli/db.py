"""``lienthong db``: the database schema (Alembic migrations)."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.node import config_option, run, settings


@click.group()
def db() -> None:
    """Cơ sở dữ liệu / the database: apply migrations, show the schema revision."""


@db.command("upgrade")
@config_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(config_file: Path | None, revision: str) -> None:
    """Nâng cấp lược đồ / apply the migrations (SQLite under the data directory by default)."""
    from exchange.db import open_engine, upgrade

    node = settings(config_file)

    async def go() -> tuple[str, ...]:
        async with open_engine(node.database) as engine:
            return (await upgrade(engine, revision)).current

    current = run(go)
    click.echo(f"database schema at {', '.join(current) or 'base'}")


@db.command("current")
@config_option
def db_current(config_file: Path | None) -> None:
    """Phiên bản lược đồ / the schema revision; fails when it is not this program's."""
    from exchange.db import open_engine, require_current_schema, schema_state

    node = settings(config_file)

    async def go() -> None:
        async with open_engine(node.database) as engine:
            state = await schema_state(engine)
            click.echo(
                f"database schema at {', '.join(state.current) or 'base'}; "
                f"this program: {', '.join(state.head)}"
            )
            await require_current_schema(engine)

    run(go)
