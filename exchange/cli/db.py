"""``lienthong db``: the database schema (Alembic migrations)."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import config_option, run, settings


@click.group(cls=Group)
@vietnamese("Cơ sở dữ liệu: áp dụng các bản chuyển đổi, xem phiên bản lược đồ.")
def db() -> None:
    """The database: apply migrations, show the schema revision."""


@db.command("upgrade")
@config_option
@click.option(
    "--revision",
    default="head",
    show_default=True,
    help=Text("Target revision.", "Phiên bản đích."),
)
@vietnamese("Nâng cấp lược đồ cơ sở dữ liệu (mặc định SQLite trong thư mục dữ liệu).")
def db_upgrade(config_file: Path | None, revision: str) -> None:
    """Apply the migrations (SQLite under the data directory by default)."""
    from exchange.db import open_engine, upgrade

    node = settings(config_file)

    async def go() -> tuple[str, ...]:
        async with open_engine(node.database) as engine:
            return (await upgrade(engine, revision)).current

    current = ", ".join(run(go)) or "base"
    click.echo(pick(f"database schema at {current}", f"lược đồ cơ sở dữ liệu: {current}"))


@db.command("current")
@config_option
@vietnamese("Phiên bản lược đồ; báo lỗi khi không phải phiên bản của chương trình này.")
def db_current(config_file: Path | None) -> None:
    """The schema revision; fails when it is not this program's."""
    from exchange.db import open_engine, require_current_schema, schema_state

    node = settings(config_file)

    async def go() -> None:
        async with open_engine(node.database) as engine:
            state = await schema_state(engine)
            current, head = ", ".join(state.current) or "base", ", ".join(state.head)
            click.echo(
                pick(
                    f"database schema at {current}; this program: {head}",
                    f"lược đồ cơ sở dữ liệu: {current}; chương trình này: {head}",
                )
            )
            await require_current_schema(engine)

    run(go)
