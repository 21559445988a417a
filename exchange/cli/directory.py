"""``lienthong directory``: the agency directory (JSON or CSV files)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from exchange.cli.node import config_option, run, settings

FORMATS = ("json", "csv")


def _format(path: Path | None, given: str | None) -> str:
    if given:
        return given
    if path is not None and path.suffix.lower() == ".csv":
        return "csv"
    return "json"


@click.group()
def directory() -> None:
    """Danh bạ cơ quan / the agency directory: add, import, export, list."""


@directory.command("add")
@config_option
@click.argument("organ_id")
@click.option("--name", required=True, help="Tên cơ quan (OrganName).")
@click.option("--in-charge", default="", help="Cơ quan chủ quản (OrganizationInCharge).")
@click.option("--address", default="", help="Địa chỉ (OrganAdd).")
@click.option("--email", default="", help="Contact e-mail.")
@click.option("--telephone", default="", help="Telephone.")
@click.option("--node-url", help="URL of the agency's lienthong node.")
@click.option("--mail-address", help="Where documents go by e-mail (mail-only agencies).")
@click.option("--hosted", is_flag=True, help="The agency is a tenant of this node.")
@click.option(
    "--certificate",
    "certificates",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PEM certificate the agency signs with (repeat for several).",
)
def directory_add(
    config_file: Path | None,
    organ_id: str,
    name: str,
    in_charge: str,
    address: str,
    email: str,
    telephone: str,
    node_url: str | None,
    mail_address: str | None,
    hosted: bool,
    certificates: tuple[Path, ...],
) -> None:
    """Thêm hoặc sửa một cơ quan / add or update one agency."""
    from exchange import directory as agencies
    from exchange.cli.node import operator
    from exchange.service import open_services

    record = {
        "organ_id": organ_id,
        "name": name,
        "organization_in_charge": in_charge,
        "address": address,
        "email": email,
        "telephone": telephone,
        "node_url": node_url,
        "mail_address": mail_address,
        "hosted": hosted,
        "certificates": [p.read_text() for p in certificates],
    }
    spec = agencies.AgencySpec.parse(record, organ_id)
    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            await agencies.save(session, [spec], actor=operator())

    run(go)
    click.echo(f"agency {spec.organ_id} saved{' (hosted on this node)' if spec.hosted else ''}")


@directory.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help="Default: by suffix.")
def directory_import(config_file: Path | None, file: Path, file_format: str | None) -> None:
    """Nhập danh bạ / import agencies from a JSON or CSV file (all or nothing)."""
    from exchange import directory as agencies
    from exchange.cli.node import operator
    from exchange.errors import InputUnreadable
    from exchange.service import open_services

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputUnreadable(
            f"{file} cannot be read as UTF-8 text.", f"Không đọc được {file} (UTF-8)."
        ) from exc
    fmt = _format(file, file_format)
    specs = agencies.read_csv(text) if fmt == "csv" else agencies.read_json(text)
    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            await agencies.save(session, specs, actor=operator())

    run(go)
    click.echo(f"{len(specs)} agencies imported from {file}")


@directory.command("export")
@config_option
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help="Default: by suffix.")
def directory_export(config_file: Path | None, file: Path | None, file_format: str | None) -> None:
    """Xuất danh bạ / export the directory as JSON or CSV (to FILE, or standard output)."""
    from exchange import directory as agencies
    from exchange.errors import StorageError
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[agencies.AgencySpec]:
        async with open_services(node) as svc, svc.transaction() as session:
            return await agencies.entries(session)

    specs = run(go)
    fmt = _format(file, file_format)
    text = agencies.write_csv(specs) if fmt == "csv" else agencies.write_json(specs)
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        _write_atomically(file, text.encode())
    except OSError as exc:
        raise StorageError(
            f"{file} cannot be written: {exc.strerror}.", f"Không ghi được {file}: {exc.strerror}."
        ) from exc
    click.echo(f"{len(specs)} agencies exported to {file}", err=True)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@directory.command("list")
@config_option
def directory_list(config_file: Path | None) -> None:
    """Danh sách cơ quan / list the directory."""
    from exchange import directory as agencies
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[agencies.AgencySpec]:
        async with open_services(node) as svc, svc.transaction() as session:
            return await agencies.entries(session)

    for spec in run(go):
        reach = "hosted" if spec.hosted else (spec.node_url or spec.mail_address or "")
        click.echo(f"{spec.organ_id:<20} {spec.name}  [{reach}]")
