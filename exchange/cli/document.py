"""``lienthong document``: outgoing documents of an agency on this node (flow 1), calling the
same service functions as the HTTP API."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import agency_option, config_option, format_option, operator, run, settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from exchange.accounts import Principal
    from exchange.documents import DocumentView, SigningRequestView
    from exchange.registers import RegisterView

F = TypeVar("F", bound=Callable[..., Any])


def _user_option(*, required: bool) -> Callable[[F], F]:
    extra = (
        ("", "")
        if required
        else (
            " Default: the operator of the node.",
            " Mặc định: người vận hành nút.",
        )
    )
    return click.option(
        "--user",
        "username",
        required=required,
        metavar="USERNAME",
        help=Text(
            "The agency's user who does this (the audit log names them)." + extra[0],
            "Người dùng của cơ quan thực hiện việc này (ghi vào nhật ký)." + extra[1],
        ),
    )


_ID = click.argument("document_id", metavar="ID")


def _read(path: Path) -> bytes:
    from exchange.errors import InputUnreadable, NotFound
    from validation import os_reason

    if not path.is_file():
        raise NotFound(f"{path} does not exist.", f"{path} không tồn tại.")
    try:
        return path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        raise InputUnreadable(
            f"{path} cannot be read: {en}.", f"Không đọc được {path}: {vi}."
        ) from exc


async def _principal(session: AsyncSession, organ_id: str, username: str | None) -> Principal:
    from exchange import accounts, documents

    node_operator = await accounts.operator(session, organ_id, operator())
    if username is None:
        return node_operator
    return await documents.as_user(session, node_operator, username, origin="cli")


@click.group(cls=Group)
@vietnamese("Văn bản đi: dự thảo, ký số cá nhân, ban hành, gói tin edXML.")
def document() -> None:
    """Outgoing documents: draft, personal signature, issue, edXML package."""


@document.command("register")
@config_option
@agency_option
@click.argument("code")
@click.option("--name", required=True, help=Text("The register's name.", "Tên sổ."))
@click.option(
    "--kind",
    type=click.Choice(["outgoing", "incoming"]),
    default="outgoing",
    show_default=True,
    help=Text("Outgoing or incoming register.", "Sổ văn bản đi hoặc đến."),
)
@vietnamese("Tạo sổ đăng ký văn bản (đi hoặc đến) của cơ quan; đánh số từ 1 mỗi năm.")
def register_add(config_file: Path | None, organ_id: str, code: str, name: str, kind: str) -> None:
    """Create a register (outgoing or incoming) of the agency; numbered from 1 every year."""
    from exchange import registers
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> RegisterView:
        async with open_services(node) as svc, svc.transaction() as session:
            admin = await _principal(session, organ_id, None)
            return await registers.create_register(session, admin, code=code, name=name, kind=kind)

    view = run(go)
    kinds = {
        "outgoing": pick("outgoing", "văn bản đi"),
        "incoming": pick("incoming", "văn bản đến"),
    }
    click.echo(f"{pick('register', 'sổ')} {view.code} | {view.name} | {kinds[view.kind]}")


@document.command("draft")
@config_option
@agency_option
@click.argument("main_path", metavar="MAIN.pdf", type=click.Path(path_type=Path))
@click.option(
    "--metadata",
    "metadata_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "A JSON file with the App. VI metadata (register, type_name, code_notation, subject, "
        "signer_position, signer_full_name, recipients, …).",
        "Tệp JSON siêu dữ liệu Phụ lục VI (register, type_name, code_notation, subject, "
        "signer_position, signer_full_name, recipients, …).",
    ),
)
@click.option(
    "--attachment",
    "attachment_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text("A separate attachment (repeat for several).", "Phụ lục kèm theo (lặp lại được)."),
)
@_user_option(required=False)
@format_option
@vietnamese("Tạo bản dự thảo văn bản đi; hệ thống thêm ô số và ngày còn trống vào PDF.")
def draft(
    config_file: Path | None,
    organ_id: str,
    main_path: Path,
    metadata_path: Path,
    attachment_paths: tuple[Path, ...],
    username: str | None,
    output_format: str,
) -> None:
    """Create an outgoing draft; the system adds the empty number and date fields."""
    from exchange import documents
    from exchange.accounts import Role
    from exchange.errors import BadRequest
    from exchange.service import open_services

    node = settings(config_file)
    try:
        record = json.loads(_read(metadata_path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            "The metadata is not valid JSON.", "Siêu dữ liệu không phải JSON hợp lệ."
        ) from exc
    if not isinstance(record, dict):
        raise BadRequest(
            "The metadata must be a JSON object.", "Siêu dữ liệu phải là một đối tượng JSON."
        )
    metadata = documents.OutgoingMetadata.parse(record)
    main = documents.Upload(
        filename=main_path.name, media_type="application/pdf", data=_read(main_path)
    )
    attachments = [
        documents.Upload(filename=p.name, media_type="application/pdf", data=_read(p))
        for p in attachment_paths
    ]

    async def go() -> DocumentView:
        async with open_services(node) as svc, svc.transaction() as session:
            clerk = await _principal(session, organ_id, username)
            clerk.require(Role.CLERK)
            return await documents.create_draft(
                session,
                svc.blobs,
                clerk,
                metadata=metadata,
                main=main,
                attachments=attachments,
                max_size=node.max_upload_bytes,
            )

    _show(run(go), output_format)


@document.command("list")
@config_option
@agency_option
@format_option
@vietnamese("Liệt kê văn bản đi của cơ quan: số, trạng thái, trích yếu.")
def list_documents(config_file: Path | None, organ_id: str, output_format: str) -> None:
    """List the agency's outgoing documents: number, state, subject."""
    from exchange import documents
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[DocumentView]:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            return await documents.list_documents(
                session, await _principal(session, organ_id, None)
            )

    views = run(go)
    if output_format == "json":
        click.echo(json.dumps([_record(v) for v in views], ensure_ascii=False, indent=2))
        return
    if not views:
        click.echo(pick("no outgoing documents", "chưa có văn bản đi"))
    for view in views:
        click.echo(_line(view))


@document.command("show")
@config_option
@agency_option
@_ID
@format_option
@vietnamese("Xem một văn bản đi: trạng thái, siêu dữ liệu, tệp.")
def show(config_file: Path | None, organ_id: str, document_id: str, output_format: str) -> None:
    """Show one outgoing document: state, metadata, files."""
    from exchange import documents
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DocumentView:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            principal = await _principal(session, organ_id, None)
            return await documents.get_document(session, principal, document_id)

    view = run(go)
    if output_format == "json":
        click.echo(json.dumps(_record(view), ensure_ascii=False, indent=2))
        return
    click.echo(_line(view))
    for key, value in view.metadata.items():
        if value not in (None, "", []):
            shown = ", ".join(value) if isinstance(value, list) else value
            click.echo(f"  {key}: {shown}")
    click.echo(f"  sha256: {view.current_sha256}")
    if view.package_sha256:
        click.echo(f"  {pick('package', 'gói tin')} sha256: {view.package_sha256}")


@document.command("recipients")
@config_option
@agency_option
@_ID
@format_option
@vietnamese(
    "Theo dõi văn bản đã gửi: với từng nơi nhận, trạng thái chuyển và toàn bộ các trạng thái "
    "nơi nhận đã báo lại (01 đã đến, 02 từ chối, 03 đã vào sổ, …)."
)
def recipients(
    config_file: Path | None, organ_id: str, document_id: str, output_format: str
) -> None:
    """Follow a sent document: per recipient, the delivery and every status it sent back
    (01 arrived, 02 rejected, 03 registered, …)."""
    from exchange import tracking
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[Any]:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            principal = await _principal(session, organ_id, None)
            return await tracking.recipients_of(session, principal, document_id)

    views = run(go)
    if output_format == "json":
        click.echo(
            json.dumps([asdict(v) for v in views], ensure_ascii=False, indent=2, default=str)
        )
        return
    deliveries = {
        "pending": pick("pending", "đang chờ gửi"),
        "delivered": pick("delivered", "đã chuyển"),
        "failed": pick("failed", "không chuyển được"),
        "none": pick("not sent", "chưa gửi"),
    }
    for view in views:
        line = f"{view.recipient} | {deliveries.get(view.delivery, view.delivery)}"
        if view.status_code:
            line += f" | {pick('status', 'trạng thái')} {view.status_code}"
        click.echo(line)
        if view.last_error and view.delivery != "delivered":
            click.echo(f"  {pick('last error', 'lỗi gần nhất')}: {view.last_error}")
        changes = {
            "revoke": pick("revocation", "thu hồi"),
            "update": pick("update", "cập nhật"),
            "replace": pick("replacement", "thay thế"),
        }
        for event in view.timeline:
            at = event.stated_at.astimezone(_vietnam()).strftime("%d/%m/%Y %H:%M:%S")
            about = ""
            if event.change:
                about = f"[{changes.get(event.change, event.change)} {event.document}] "
            click.echo(f"  {at}  {event.status_code}  {about}{event.description}")


@document.command("sign")
@config_option
@agency_option
@_ID
@_user_option(required=True)
@format_option
@vietnamese("Ký số cá nhân bản dự thảo bằng khóa của người ký trên máy chủ (cấu hình của cơ quan).")
def sign(
    config_file: Path | None, organ_id: str, document_id: str, username: str, output_format: str
) -> None:
    """The personal signature of a draft, with the signer's key on the server (the agency's
    configuration)."""
    from exchange import documents
    from exchange.accounts import Role
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DocumentView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                signer = await _principal(session, organ_id, username)
            signer.require(Role.SIGNER)
            key = documents.server_key(node.agencies, signer)
            return await documents.sign_personal(
                svc, signer, document_id, key=key, tsa_urls=node.tsa_urls
            )

    _show(run(go), output_format)


@document.command("sign-prepare")
@config_option
@agency_option
@_ID
@_user_option(required=True)
@click.option(
    "--certificate",
    "certificate_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "The signer's certificate, then its chain (PEM).",
        "Chứng thư số của người ký, tiếp theo là chuỗi chứng thư (PEM).",
    ),
)
@click.option(
    "--signature-image",
    "image_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "The signer's signature image (PNG); default: the one configured for them.",
        "Hình chữ ký của người ký (PNG); mặc định: hình được cấu hình cho người đó.",
    ),
)
@vietnamese(
    """Ký hai bước, bước 1: những gì khóa của người ký cần ký.

    In ra JSON: mã yêu cầu ký (state_id), thuật toán băm và thuật toán ký, dữ liệu cần ký
    và giá trị băm của nó, dạng base64."""
)
def sign_prepare(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    username: str,
    certificate_path: Path,
    image_path: Path | None,
) -> None:
    """Two-phase personal signature, phase one: what the signer's key must sign.

    Prints JSON: the signing request's id (state_id), the digest and signature algorithms,
    the bytes to be signed and their digest, base64.
    """
    from exchange import documents
    from exchange.accounts import Role
    from exchange.service import open_services

    node = settings(config_file)
    certificates = _read(certificate_path)
    image = _read(image_path) if image_path is not None else None

    async def go() -> SigningRequestView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                signer = await _principal(session, organ_id, username)
            signer.require(Role.SIGNER)
            return await documents.prepare_personal(
                svc,
                signer,
                document_id,
                certificates=certificates,
                signature_png=image,
                agencies=node.agencies,
                tsa_urls=node.tsa_urls,
            )

    click.echo(json.dumps(asdict(run(go)), indent=2))


@document.command("sign-finish")
@config_option
@agency_option
@_ID
@_user_option(required=True)
@click.option(
    "--state-id",
    required=True,
    help=Text("The signing request's id from phase one.", "Mã yêu cầu ký của bước 1."),
)
@click.option(
    "--signature",
    "signature_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "The signature value: raw bytes, or base64 text.",
        "Giá trị chữ ký: dạng byte thô, hoặc văn bản base64.",
    ),
)
@format_option
@vietnamese("Ký hai bước, bước 2: gắn giá trị chữ ký vào bản dự thảo (nếu chưa thay đổi).")
def sign_finish(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    username: str,
    state_id: str,
    signature_path: Path,
    output_format: str,
) -> None:
    """Two-phase personal signature, phase two: embed the signature value into the draft
    (if unchanged)."""
    from exchange import documents
    from exchange.accounts import Role
    from exchange.service import open_services

    node = settings(config_file)
    raw = _read(signature_path)
    try:
        value = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        value = raw

    async def go() -> DocumentView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                signer = await _principal(session, organ_id, username)
            signer.require(Role.SIGNER)
            return await documents.finish_personal(
                svc, signer, document_id, state_id=state_id, signature_value=value
            )

    _show(run(go), output_format)


@document.command("issue")
@config_option
@agency_option
@_ID
@_user_option(required=False)
@format_option
@vietnamese(
    "Ban hành: số và ngày từ sổ, chữ ký số của cơ quan (B-LT) trên văn bản và từng phụ lục, "
    "rồi gói tin edXML đã ký."
)
def issue(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    username: str | None,
    output_format: str,
) -> None:
    """Issue: number and date from the register, the agency signature (B-LT) on the document
    and every attachment, then the signed edXML package."""
    from exchange import documents
    from exchange.accounts import Role
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DocumentView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                clerk = await _principal(session, organ_id, username)
            clerk.require(Role.CLERK)
            seal = documents.seal_of(node.agencies, clerk)
            return await documents.issue(svc, clerk, document_id, seal=seal, tsa_urls=node.tsa_urls)

    _show(run(go), output_format)


_REASON = click.option(
    "--reason",
    default="",
    help=Text("Why (BussinessDocReason).", "Lý do (BussinessDocReason)."),
)
_BY = click.option(
    "--by",
    "by",
    required=True,
    metavar="NEW_ID",
    help=Text(
        "The new document: drafted and personally signed, not issued yet.",
        "Văn bản mới: đã dự thảo và ký số cá nhân, chưa ban hành.",
    ),
)


@document.command("revoke")
@config_option
@agency_option
@_ID
@click.option(
    "--reason",
    required=True,
    help=Text("Why the document is revoked.", "Lý do thu hồi văn bản."),
)
@_user_option(required=False)
@format_option
@vietnamese(
    "Thu hồi văn bản đã gửi (BussinessDocType 1): văn bản bị đóng băng, thông báo thu hồi đã "
    "ký gửi đến từng nơi nhận; nơi nhận trả lời 03 (đã hủy bản nhận, giữ siêu dữ liệu) hoặc "
    "02 (từ chối, có lý do)."
)
def revoke(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    reason: str,
    username: str | None,
    output_format: str,
) -> None:
    """Revoke a sent document (BussinessDocType 1): it is frozen and a signed revocation goes
    to every recipient, who answers 03 (its copy destroyed, metadata kept) or 02 (refused,
    with the reason)."""
    from exchange import changes
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> DocumentView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                clerk = await _principal(session, organ_id, username)
            return await changes.revoke(svc, clerk, document_id, reason)

    _show(run(go), output_format)


def _change(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    by: str,
    reason: str,
    username: str | None,
    output_format: str,
    *,
    replace: bool,
) -> None:
    from exchange import changes
    from exchange.service import open_services

    node = settings(config_file)
    act = changes.replace if replace else changes.update

    async def go() -> DocumentView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                clerk = await _principal(session, organ_id, username)
            return await act(svc, clerk, document_id, by=by, reason=reason)

    _show(run(go), output_format)


@document.command("update")
@config_option
@agency_option
@_ID
@_BY
@_REASON
@_user_option(required=False)
@format_option
@vietnamese(
    "Cập nhật văn bản đã gửi (BussinessDocType 2): ban hành bản dự thảo đã ký NEW_ID làm văn "
    "bản đã sửa, giữ số, ngày và DocumentId, gửi đúng các nơi nhận; nơi nhận trả lời 15 (đồng "
    "ý) hoặc 16 (từ chối)."
)
def update(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    by: str,
    reason: str,
    username: str | None,
    output_format: str,
) -> None:
    """Update a sent document (BussinessDocType 2): issue the signed draft NEW_ID as the
    corrected document, with the same number, date and DocumentId, to the same recipients;
    they answer 15 (accepted) or 16 (refused)."""
    _change(config_file, organ_id, document_id, by, reason, username, output_format, replace=False)


@document.command("replace")
@config_option
@agency_option
@_ID
@_BY
@_REASON
@_user_option(required=False)
@format_option
@vietnamese(
    "Thay thế văn bản đã gửi (BussinessDocType 3): ban hành bản dự thảo đã ký NEW_ID với số "
    "mới, nêu văn bản bị thay thế, gửi đúng các nơi nhận; nơi nhận trả lời 15 (đồng ý) hoặc "
    "16 (từ chối)."
)
def replace(
    config_file: Path | None,
    organ_id: str,
    document_id: str,
    by: str,
    reason: str,
    username: str | None,
    output_format: str,
) -> None:
    """Replace a sent document (BussinessDocType 3): issue the signed draft NEW_ID with its
    own number, naming the document it replaces, to the same recipients; they answer 15
    (accepted) or 16 (refused)."""
    _change(config_file, organ_id, document_id, by, reason, username, output_format, replace=True)


@document.command("package")
@config_option
@agency_option
@_ID
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text("Write the package to this file.", "Ghi gói tin vào tệp này."),
)
@vietnamese("Ghi gói tin edXML đã ký của một văn bản đã ban hành ra tệp.")
def package(config_file: Path | None, organ_id: str, document_id: str, output: Path) -> None:
    """Write the signed edXML package of an issued document to a file."""
    from exchange import documents
    from exchange.service import open_services
    from signing import atomic_output

    node = settings(config_file)

    async def go() -> bytes:
        async with open_services(node) as svc, svc.transaction() as session:
            principal = await _principal(session, organ_id, None)
            chunks = await documents.open_package(session, svc.blobs, principal, document_id)
            return b"".join([chunk async for chunk in chunks])

    data = run(go)
    with atomic_output(output) as out:
        out.write(data)
    click.echo(f"{output} ({len(data)} {pick('bytes', 'byte')})")


# -- output ---------------------------------------------------------------------------------


def _record(view: DocumentView) -> dict[str, Any]:
    record = asdict(view)
    for key, value in record.items():
        if isinstance(value, datetime):
            record[key] = value.isoformat()
    return record


def _show(view: DocumentView, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(_record(view), ensure_ascii=False, indent=2))
    else:
        click.echo(_line(view))


def _vietnam() -> Any:
    from signing import VIETNAM

    return VIETNAM


def _line(view: DocumentView) -> str:
    """One document: id, state, number (once issued), subject."""
    states = {
        "draft": pick("draft", "dự thảo"),
        "signed": pick("signed", "đã ký"),
        "issued": pick("issued", "đã ban hành"),
        "revoked": pick("revoked", "đã thu hồi"),
        "updated": pick("updated", "đã được cập nhật"),
        "replaced": pick("replaced", "đã được thay thế"),
    }
    meta = view.metadata
    if "code_number" in meta:
        number = f"{int(meta['code_number']):02d}/{meta['code_notation']} {meta['issued_date']}"
    else:
        number = f"-/{meta['code_notation']}"
    line = (
        f"{pick('document', 'văn bản')} {view.id} | {states.get(view.state, view.state)} | "
        f"{number} | {meta['subject']}"
    )
    if view.superseded_by:
        line += f" | {pick('by', 'bởi')} {view.superseded_by}"
    if view.supersedes:
        what = (
            pick("updates", "cập nhật") if view.change_type == 2 else pick("replaces", "thay thế")
        )
        line += f" | {what} {view.supersedes}"
    return line
