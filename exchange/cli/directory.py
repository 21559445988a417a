"""``lienthong directory``: the agency directory (JSON or CSV files)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import config_option, operator, run, settings

FORMATS = ("json", "csv")
FORMAT_HELP = Text(
    "File format (default: by the file name's suffix, else JSON).",
    "Định dạng tệp (mặc định: theo đuôi tên tệp, không có thì JSON).",
)


def _format(path: Path | None, given: str | None) -> str:
    if given:
        return given
    if path is not None and path.suffix.lower() == ".csv":
        return "csv"
    return "json"


@click.group(cls=Group)
@vietnamese("Danh bạ cơ quan: thêm, nhập, xuất, liệt kê.")
def directory() -> None:
    """The agency directory: add, import, export, list."""


@directory.command("add")
@config_option
@click.argument("organ_id")
@click.option("--name", required=True, help=Text("OrganName.", "Tên cơ quan (OrganName)."))
@click.option(
    "--in-charge",
    default="",
    help=Text("OrganizationInCharge.", "Cơ quan chủ quản (OrganizationInCharge)."),
)
@click.option("--address", default="", help=Text("OrganAdd.", "Địa chỉ (OrganAdd)."))
@click.option("--email", default="", help=Text("Contact e-mail.", "Thư điện tử liên hệ."))
@click.option("--telephone", default="", help=Text("Telephone.", "Điện thoại."))
@click.option(
    "--node-url",
    help=Text("URL of the agency's lienthong node.", "Địa chỉ nút lienthong của cơ quan."),
)
@click.option(
    "--mail-address",
    help=Text(
        "Where documents go by e-mail (mail-only agencies).",
        "Địa chỉ thư điện tử nhận văn bản (cơ quan chỉ dùng thư điện tử).",
    ),
)
@click.option(
    "--hosted",
    is_flag=True,
    help=Text("The agency is a tenant of this node.", "Cơ quan được phục vụ trên nút này."),
)
@click.option(
    "--certificate",
    "certificates",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=Text(
        "A PEM certificate the agency signs with (repeat for several).",
        "Chứng thư số PEM cơ quan dùng để ký (lặp lại nếu nhiều).",
    ),
)
@vietnamese("Thêm hoặc sửa một cơ quan.")
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
    """Add or update one agency."""
    from exchange import directory as agencies
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
        "certificates": [_read_text(p) for p in certificates],
    }
    spec = agencies.AgencySpec.parse(record, organ_id)
    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            await agencies.save(session, [spec], actor=operator())

    run(go)
    hosted_note = pick(" (hosted on this node)", " (thuộc nút này)") if spec.hosted else ""
    click.echo(
        pick(f"agency {spec.organ_id} saved", f"đã lưu cơ quan {spec.organ_id}") + hosted_note
    )


def _read_text(path: Path) -> str:
    from exchange.errors import InputUnreadable

    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputUnreadable(
            f"{path} cannot be read as UTF-8 text.", f"Không đọc được {path} (UTF-8)."
        ) from exc


@directory.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help=FORMAT_HELP)
@vietnamese("Nhập danh bạ từ tệp JSON hoặc CSV (tất cả hoặc không gì cả).")
def directory_import(config_file: Path | None, file: Path, file_format: str | None) -> None:
    """Import agencies from a JSON or CSV file (all or nothing)."""
    from exchange import directory as agencies
    from exchange.service import open_services

    text = _read_text(file)
    fmt = _format(file, file_format)
    specs = agencies.read_csv(text) if fmt == "csv" else agencies.read_json(text)
    node = settings(config_file)

    async def go() -> None:
        async with open_services(node) as svc, svc.transaction() as session:
            await agencies.save(session, specs, actor=operator())

    run(go)
    click.echo(
        pick(
            f"{len(specs)} agencies imported from {file}", f"đã nhập {len(specs)} cơ quan từ {file}"
        )
    )


@directory.command("export")
@config_option
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help=FORMAT_HELP)
@vietnamese("Xuất danh bạ ra JSON hoặc CSV (vào FILE, hoặc ra màn hình).")
def directory_export(config_file: Path | None, file: Path | None, file_format: str | None) -> None:
    """Export the directory as JSON or CSV (to FILE, or standard output)."""
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
        raise StorageError(f"{file} cannot be written.", f"Không ghi được {file}.") from exc
    click.echo(
        pick(
            f"{len(specs)} agencies exported to {file}", f"đã xuất {len(specs)} cơ quan ra {file}"
        ),
        err=True,
    )


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
@vietnamese("Danh sách cơ quan trong danh bạ.")
def directory_list(config_file: Path | None) -> None:
    """List the directory."""
    from exchange import directory as agencies
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[agencies.AgencySpec]:
        async with open_services(node) as svc, svc.transaction() as session:
            return await agencies.entries(session)

    for spec in run(go):
        reach = pick("hosted", "thuộc nút này") if spec.hosted else ""
        reach = reach or spec.node_url or spec.mail_address or ""
        click.echo(f"{spec.organ_id:<20} {spec.name}  [{reach}]")
