"""``lienthong token issue|revoke``: API tokens for machines (not PKCS#11 tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from exchange.cli.node import agency_option, config_option, operator, run, settings
from exchange.cli.user import ROLES


@click.command("issue")
@config_option
@agency_option
@click.option("--name", required=True, help="What the token is for (a machine, a script).")
@click.option(
    "--role", "roles", type=click.Choice(ROLES), multiple=True, required=True, help="A role."
)
@click.option("--days", type=click.IntRange(1, 3650), help="Expire after this many days.")
def token_issue(
    config_file: Path | None, organ_id: str, name: str, roles: tuple[str, ...], days: int | None
) -> None:
    """Cấp mã truy cập API / issue an API token for a machine (printed once)."""
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
    click.echo(f"token {issued.public_id} for {organ_id} ({' '.join(issued.roles)}):", err=True)
    click.echo(issued.secret)


@click.command("revoke")
@config_option
@agency_option
@click.argument("token_id")
def token_revoke(config_file: Path | None, organ_id: str, token_id: str) -> None:
    """Thu hồi mã truy cập API / revoke an API token (by its id)."""
    from exchange import accounts
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            await accounts.revoke_token(session, admin, token_id)

    run(go)
    click.echo(f"token {token_id} revoked")
