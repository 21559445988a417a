"""``lienthong user``: the users of an agency hosted on this node."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import agency_option, config_option, format_option, operator, run, settings

ROLES = ("clerk", "signer", "archivist", "admin")
ROLE_HELP = Text(
    "A role (repeat for several): clerk = văn thư, signer = lãnh đạo, archivist, admin.",
    "Vai trò (lặp lại nếu nhiều): clerk = văn thư, signer = lãnh đạo, archivist = lưu trữ, "
    "admin = quản trị.",
)


@click.group(cls=Group)
@vietnamese("Người dùng của một cơ quan: thêm, liệt kê, khóa.")
def user() -> None:
    """Users of an agency: add, list, disable."""


@user.command("add")
@config_option
@agency_option
@click.argument("username")
@click.option(
    "--role", "roles", type=click.Choice(ROLES), multiple=True, required=True, help=ROLE_HELP
)
@click.option("--full-name", default="", help=Text("The person's full name.", "Họ và tên."))
@click.option(
    "--password-env",
    metavar="NAME",
    help=Text(
        "Read the password from this environment variable (default: ask for it).",
        "Đọc mật khẩu từ biến môi trường này (mặc định: hỏi khi chạy).",
    ),
)
@vietnamese("Thêm người dùng vào một cơ quan.")
def user_add(
    config_file: Path | None,
    organ_id: str,
    username: str,
    roles: tuple[str, ...],
    full_name: str,
    password_env: str | None,
) -> None:
    """Add a user to an agency."""
    from exchange import accounts
    from exchange.errors import BadRequest
    from exchange.service import open_services

    node = settings(config_file)
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise BadRequest(
                f"The environment variable {password_env} is not set.",
                f"Biến môi trường {password_env} chưa được đặt.",
            )
    else:
        password = click.prompt(
            pick("Password", "Mật khẩu"), hide_input=True, confirmation_prompt=True
        )

    async def go() -> accounts.UserView:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            return await accounts.add_user(
                session,
                admin,
                username=username,
                password=password,
                roles=accounts.parse_roles(roles),
                full_name=full_name,
            )

    view = run(go)
    roles_text = " ".join(view.roles)
    click.echo(
        pick(
            f"user {view.username} added to {view.organ_id} ({roles_text})",
            f"đã thêm người dùng {view.username} vào {view.organ_id} ({roles_text})",
        )
    )


@user.command("list")
@config_option
@agency_option
@format_option
@vietnamese("Danh sách người dùng của một cơ quan.")
def user_list(config_file: Path | None, organ_id: str, output_format: str) -> None:
    """List an agency's users."""
    from exchange import accounts
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[accounts.UserView]:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            return await accounts.list_users(session, admin)

    users = run(go)
    if output_format == "json":
        records = [{**asdict(u), "created_at": u.created_at.isoformat()} for u in users]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    for u in users:
        state = pick("disabled", "đã khóa") if u.disabled else pick("active", "hoạt động")
        click.echo(f"{u.username:<24} {' '.join(u.roles):<28} {state:<10} {u.full_name}")


@user.command("disable")
@config_option
@agency_option
@click.argument("username")
@vietnamese("Khóa người dùng và thu hồi các phiên đăng nhập của họ.")
def user_disable(config_file: Path | None, organ_id: str, username: str) -> None:
    """Disable a user and revoke their sessions."""
    from exchange import accounts
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> accounts.UserView:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await accounts.operator(session, organ_id, operator())
            return await accounts.disable_user(session, admin, username)

    view = run(go)
    click.echo(
        pick(
            f"user {view.username} of {view.organ_id} disabled",
            f"đã khóa người dùng {view.username} của {view.organ_id}",
        )
    )
