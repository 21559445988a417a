"""``lienthong token``: what the PKCS#11 module sees; ``issue`` and ``revoke`` are API
tokens for machines (:mod:`exchange.cli.apitoken`)."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.apitoken import token_issue, token_revoke
from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.options import default_module


@click.group(cls=Group)
@vietnamese("Token, HSM và những gì trong đó (PKCS#11); issue, revoke: mã truy cập API cho máy.")
def token() -> None:
    """What a token or HSM holds (PKCS#11); issue, revoke: API tokens for machines."""


token.add_command(token_issue)
token.add_command(token_revoke)


_KINDS_EN = ("private key", "public key", "certificate")
_KINDS_VI = {
    "private key": "khóa bí mật",
    "public key": "khóa công khai",
    "certificate": "chứng thư số",
}
"""The kinds of object ``list_tokens`` reports, as a Vietnamese reader names them."""


@token.command("list")
@click.option(
    "--module",
    default=default_module,
    show_default="$LIENTHONG_PKCS11_MODULE | SoftHSM2",
    help=Text("PKCS#11 module (.so) of the token.", "Mô-đun PKCS#11 (.so) của token."),
)
@click.option(
    "--pin-env",
    metavar="NAME",
    help=Text(
        "Log in with the PIN in this environment variable, to see private objects too.",
        "Đăng nhập bằng mã PIN trong biến môi trường này, để thấy cả khóa bí mật.",
    ),
)
@click.option(
    "--pin-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text("Log in with the PIN in this file.", "Đăng nhập bằng mã PIN trong tệp này."),
)
@vietnamese("Liệt kê khe, token, khóa và chứng thư số.")
def token_list(module: str, pin_env: str | None, pin_file: Path | None) -> None:
    """List slots, tokens, keys and certificates."""
    from signing import PinOptions, list_tokens, pkcs11_uri

    pin = PinOptions(env=pin_env, file=pin_file).source()
    tokens = list_tokens(module, pin)
    if not tokens:
        click.echo(
            pick(f"no token found (module {module})", f"không thấy token nào (mô-đun {module})")
        )
        return
    for info in tokens:
        # with a PIN given, list_tokens logged in (a wrong PIN is an error): say so
        login = ""
        if info.login_required:
            login = (
                pick("; logged in", "; đã đăng nhập")
                if pin
                else pick("; PIN needed", "; cần mã PIN")
            )
        slot, serial = pick("slot", "khe"), pick("serial", "số sê-ri")
        click.echo(
            f"{slot} {info.slot_id}: token {info.label!r} {serial} {info.serial} "
            f"({info.manufacturer} {info.model}){login}"
        )
        width = 1 + max(len(k) for k in pick(_KINDS_EN, tuple(_KINDS_VI.values())))
        for obj in sorted(info.objects, key=lambda o: (o.kind, o.label)):
            kind = pick(obj.kind, _KINDS_VI.get(obj.kind, obj.kind))
            click.echo(f"  {kind:<{width}} {obj.label!r} id={obj.id_hex}  {obj.detail}")
            if obj.kind == "private key":
                click.echo(f"    --key '{pkcs11_uri(info.label, obj.label, module)}'")
