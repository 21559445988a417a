"""``lienthong dossier``: the agency's dossiers (hồ sơ): open one, file outgoing and incoming
documents into it, close it into the archive — calling the same service functions as the
HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from exchange.cli.document import _principal, _user_option
from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import agency_option, config_option, format_option, run, settings

if TYPE_CHECKING:
    from exchange.dossiers import Closed, DossierView

_CODE = click.argument("code", metavar="CODE")


@click.group(cls=Group)
@vietnamese(
    "Hồ sơ của cơ quan: lập hồ sơ, đưa văn bản đi và đến vào hồ sơ, đóng hồ sơ và nộp vào "
    "kho lưu trữ."
)
def dossier() -> None:
    """The agency's dossiers: open one, file outgoing and incoming documents into it, close it
    into the archive."""


@dossier.command("create")
@config_option
@agency_option
@click.argument("notation", metavar="NOTATION")
@click.option("--title", required=True, help=Text("The dossier's title.", "Tiêu đề hồ sơ."))
@click.option(
    "--year",
    type=int,
    help=Text(
        "FileCatalog, the year of the dossier list (default: this year).",
        "FileCatalog: năm của danh mục hồ sơ (mặc định: năm nay).",
    ),
)
@click.option(
    "--maintenance",
    default="01",
    show_default=True,
    help=Text(
        "Retention: 01 permanent, 02 70 years, 03 50, 04 30, 05 20, 06 10, 07 other "
        "(or the App. VI text: 'vĩnh viễn', '10 năm', …).",
        "Thời hạn bảo quản: 01 vĩnh viễn, 02 70 năm, 03 50, 04 30, 05 20, 06 10, 07 khác "
        "(hoặc ghi như Phụ lục VI: 'vĩnh viễn', '10 năm', …).",
    ),
)
@click.option(
    "--rights",
    "--mode",
    "rights",
    default="01",
    show_default=True,
    help=Text(
        "Use (App. VI Rights, TT 05 mode): 01 public, 02 restricted, 03 secret.",
        "Chế độ sử dụng (Rights, mode của TT 05): 01 công khai, 02 hạn chế, 03 mật.",
    ),
)
@click.option(
    "--language",
    default="01",
    show_default=True,
    help=Text("Language code (01 Vietnamese … 11).", "Mã ngôn ngữ (01 tiếng Việt … 11)."),
)
@click.option(
    "--creator",
    default="",
    help=Text(
        "Who keeps the dossier (default: the user).",
        "Người lập hồ sơ (mặc định: người dùng).",
    ),
)
@_user_option(required=False)
@format_option
@vietnamese(
    "Lập hồ sơ mới trong danh mục hồ sơ; mã hồ sơ là OrganId.Năm.NOTATION (Phụ lục VI); "
    "NOTATION cũng có thể là cả mã hồ sơ."
)
def create(
    config_file: Path | None,
    organ_id: str,
    notation: str,
    title: str,
    year: int | None,
    maintenance: str,
    rights: str,
    language: str,
    creator: str,
    username: str | None,
    output_format: str,
) -> None:
    """Open a new dossier in the dossier list; its code is OrganId.Year.NOTATION (App. VI);
    NOTATION may also be the whole code."""
    from exchange import dossiers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DossierView:
        async with open_services(node) as svc, svc.transaction() as session:
            clerk = await _principal(session, organ_id, username)
            return await dossiers.create_dossier(
                session,
                clerk,
                notation=notation,
                title=title,
                year=year,
                maintenance=maintenance,
                rights=rights,
                language=language,
                creator=creator,
            )

    _show(run(go), output_format)


@dossier.command("add")
@config_option
@agency_option
@_CODE
@click.option(
    "--outgoing", metavar="ID", help=Text("An issued outgoing document.", "Văn bản đi đã ban hành.")
)
@click.option(
    "--incoming",
    metavar="ID",
    help=Text("A registered incoming document.", "Văn bản đến đã vào sổ."),
)
@_user_option(required=False)
@format_option
@vietnamese("Đưa một văn bản đi đã ban hành hoặc một văn bản đến đã vào sổ vào hồ sơ CODE.")
def add(
    config_file: Path | None,
    organ_id: str,
    code: str,
    outgoing: str | None,
    incoming: str | None,
    username: str | None,
    output_format: str,
) -> None:
    """File an issued outgoing document or a registered incoming one into the dossier CODE."""
    from exchange import dossiers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DossierView:
        async with open_services(node) as svc, svc.transaction() as session:
            clerk = await _principal(session, organ_id, username)
            return await dossiers.add_document(
                session, clerk, code, outgoing=outgoing, incoming=incoming
            )

    _show(run(go), output_format)


@dossier.command("remove")
@config_option
@agency_option
@_CODE
@click.argument("ordinal", type=int)
@_user_option(required=False)
@format_option
@vietnamese("Bỏ văn bản số ORDINAL ra khỏi hồ sơ CODE (khi hồ sơ còn mở).")
def remove(
    config_file: Path | None,
    organ_id: str,
    code: str,
    ordinal: int,
    username: str | None,
    output_format: str,
) -> None:
    """Take document number ORDINAL out of the dossier CODE (while it is open)."""
    from exchange import dossiers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DossierView:
        async with open_services(node) as svc, svc.transaction() as session:
            clerk = await _principal(session, organ_id, username)
            return await dossiers.remove_document(session, clerk, code, ordinal)

    _show(run(go), output_format)


@dossier.command("list")
@config_option
@agency_option
@format_option
@vietnamese("Danh mục hồ sơ của cơ quan.")
def list_command(config_file: Path | None, organ_id: str, output_format: str) -> None:
    """The agency's dossier list."""
    from exchange import dossiers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[DossierView]:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            admin = await _principal(session, organ_id, None)
            return await dossiers.list_dossiers(session, admin)

    views = run(go)
    if output_format == "json":
        click.echo(json.dumps([_record(v) for v in views], ensure_ascii=False, indent=2))
        return
    for view in views:
        click.echo(_headline(view))
    if not views:
        click.echo(pick("no dossier yet", "chưa có hồ sơ nào"))


@dossier.command("show")
@config_option
@agency_option
@_CODE
@format_option
@vietnamese("Xem hồ sơ CODE và các văn bản trong đó.")
def show(config_file: Path | None, organ_id: str, code: str, output_format: str) -> None:
    """Show the dossier CODE and the documents in it."""
    from exchange import dossiers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DossierView:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            admin = await _principal(session, organ_id, None)
            return await dossiers.show_dossier(session, admin, code)

    _show(run(go), output_format)


@dossier.command("close")
@config_option
@agency_option
@_CODE
@_user_option(required=False)
@format_option
@vietnamese(
    "Đóng hồ sơ CODE và nộp vào kho lưu trữ: mỗi văn bản (tệp đã ký, gói tin edXML, vết xử lý "
    "và trạng thái) được kiểm tra lại, nâng lên dạng lưu trữ dài hạn và lưu hai bản. Lỗi thì hồ "
    "sơ vẫn mở; đóng lại lần nữa là an toàn."
)
def close(
    config_file: Path | None,
    organ_id: str,
    code: str,
    username: str | None,
    output_format: str,
) -> None:
    """Close the dossier CODE into the archive: each document (its signed files, its edXML
    package, its trail and statuses) validated again, taken to long-term form, kept twice. On
    an error the dossier stays open; closing again is safe."""
    from exchange import dossiers
    from exchange.archiving import open_archive
    from exchange.cli.archive import _notice
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> Closed:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                clerk = await _principal(session, organ_id, username)
            await dossiers.closable(svc, clerk, code)
            async with open_archive(node, notice=_notice) as archive:
                return await dossiers.close_dossier(svc, clerk, code, archive)

    closed = run(go)
    if output_format == "json":
        body = _record(closed.dossier)
        body["archived"] = [
            {
                "name": d.name,
                "sha256": d.sha256,
                "indication": d.indication,
                "augmented": d.augmented,
                "already": d.already,
            }
            for d in closed.archived.documents
        ]
        body["destroyed"] = [i.ordinal for i in closed.destroyed]
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for d in closed.archived.documents:
        state = (
            pick("already in the archive", "đã có trong kho")
            if d.already
            else pick("archived", "đã nộp lưu")
        )
        lta = " B-LTA" if d.augmented else ""
        click.echo(f"{d.name}: {state}, {d.indication}{lta}")
    for item in closed.destroyed:
        click.echo(
            pick(
                f"document {item.ordinal} ({item.code}): its copy was destroyed after a recall "
                "or revocation; only its metadata, validation report, evidence and statuses "
                "were archived",
                f"văn bản số {item.ordinal} ({item.code}): bản sao đã bị hủy sau khi thu hồi; "
                "chỉ nộp lưu thông tin, báo cáo kiểm tra, chứng cứ và trạng thái của nó",
            )
        )
    click.echo(
        pick(
            f"dossier {closed.dossier.code} closed: {len(closed.archived.documents)} file(s) in "
            f"the archive; seal them with: lienthong archive seal",
            f"đã đóng hồ sơ {closed.dossier.code}: {len(closed.archived.documents)} tệp đã vào "
            f"kho; niêm phong bằng: lienthong archive seal",
        )
    )


def _headline(view: DossierView) -> str:
    states = {"open": pick("open", "đang mở"), "closed": pick("closed", "đã đóng")}
    return (
        f"{pick('dossier', 'hồ sơ')} {view.code} | {states.get(view.state, view.state)} | "
        f"{view.title}"
    )


def _show(view: DossierView, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(_record(view), ensure_ascii=False, indent=2))
        return
    click.echo(_headline(view))
    kinds = {"outgoing": pick("outgoing", "đi"), "incoming": pick("incoming", "đến")}
    for item in view.items:
        click.echo(
            f"  {item.ordinal:3d}. {kinds[item.kind]} {item.id} | {item.code} | {item.subject}"
        )


def _record(view: DossierView) -> dict[str, Any]:
    return {
        "id": view.id,
        "code": view.code,
        "title": view.title,
        "maintenance": view.maintenance,
        "rights": view.rights,
        "language": view.language,
        "creator": view.creator,
        "state": view.state,
        "created_at": view.created_at.isoformat(),
        "closed_at": view.closed_at.isoformat() if view.closed_at else None,
        "items": [
            {
                "ordinal": i.ordinal,
                "kind": i.kind,
                "id": i.id,
                "code": i.code,
                "subject": i.subject,
                "state": i.state,
            }
            for i in view.items
        ],
    }
