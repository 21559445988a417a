"""``lienthong token issue|revoke``: API tokens for machines (not PKCS#11 tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from exchange.cli.i18n import Command, Text, pick, vietnamese
from exchange.cli.node import agency_option, config_option, operator, run, settings
from exchange.cli.user import ROLE_HELP, ROLES


@click.command("issue", cls=Command)
@config_option
@agency_option
@click.option(
    "--name",
    required=True,
    help=Text(
        "What the token is for (a machine, a script).", "Mã dùng cho máy hay chương trình nào."
    ),
)
@click.option(
    "--role", "roles", type=click.Choice(ROLES), multiple=True, required=True, help=ROLE_HELP
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    help=Text("Expire after this many days.", "Hết hạn sau chừng này ngày."),
)
@vietnamese("Cấp mã truy cập API cho một máy (chỉ in ra một lần).")
def token_issue(
    config_file: Path | None, organ_id: str, name: str, roles: tuple[str, ...], days: int | None
) -> None:
    """Issue an API token for a machine (printed once)."""
    from exchange import accounts
    from exchange.service import open_services

    node = settings(config_file)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None

    async def go() -> accounts.IssuedToken:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            return await accounts.issue_token(
                session, admin, name=name, roles=accounts.parse_roles(roles), expires_at=expires
            )

    issued = run(go)
    roles_text = " ".join(issued.roles)
    click.echo(
        pick(
            f"API token {issued.public_id} for {organ_id} ({roles_text}), shown only now:",
            f"mã truy cập API {issued.public_id} của {organ_id} ({roles_text}), chỉ hiện lần này:",
        ),
        err=True,
    )
    click.echo(issued.secret)


@click.command("revoke", cls=Command)
@config_option
@agency_option
@click.argument("token_id")
@vietnamese("Thu hồi một mã truy cập API (theo mã số của nó).")
def token_revoke(config_file: Path | None, organ_id: str, token_id: str) -> None:
    """Revoke an API token (by its id)."""
    from exchange import accounts
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            await accounts.revoke_token(session, admin, token_id)

    run(go)
    click.echo(pick(f"API token {token_id} revoked", f"đã thu hồi mã truy cập API {token_id}"))
