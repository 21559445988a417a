"""``lienthong token``: what the PKCS#11 module sees."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.options import default_module


@click.group()
def token() -> None:
    """Token / HSM (PKCS#11)."""


@token.command("list")
@click.option(
    "--module",
    default=default_module,
    show_default="$LIENTHONG_PKCS11_MODULE or SoftHSM2",
    help="PKCS#11 module (.so) of the token.",
)
@click.option(
    "--pin-env",
    metavar="NAME",
    help="Log in with the PIN in this environment variable, to see private objects too.",
)
@click.option(
    "--pin-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Log in with the PIN in this file.",
)
def token_list(module: str, pin_env: str | None, pin_file: Path | None) -> None:
    """Liệt kê token, khóa, chứng thư / list slots, tokens, keys and certificates."""
    from signing import PinOptions, list_tokens, pkcs11_uri

    tokens = list_tokens(module, PinOptions(env=pin_env, file=pin_file).source())
    if not tokens:
        click.echo(f"no token found (module {module})")
        return
    for info in tokens:
        click.echo(
            f"slot {info.slot_id}: token {info.label!r} serial {info.serial} "
            f"({info.manufacturer} {info.model}){'; PIN needed' if info.login_required else ''}"
        )
        for obj in sorted(info.objects, key=lambda o: (o.kind, o.label)):
            click.echo(f"  {obj.kind:<12} {obj.label!r} id={obj.id_hex}  {obj.detail}")
            if obj.kind == "private key":
                click.echo(f"    --key '{pkcs11_uri(info.label, obj.label, module)}'")
