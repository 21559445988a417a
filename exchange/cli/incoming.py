"""``lienthong incoming``: documents arriving for an agency of this node (flow 2)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import agency_option, config_option, format_option, operator, run, settings
from exchange.cli.options import default_module, pin_options

if TYPE_CHECKING:
    from exchange.incoming import IncomingView


@click.group(cls=Group)
@vietnamese("Văn bản đến: tiếp nhận gói tin edXML, liệt kê, báo trạng thái xử lý cho cơ quan gửi.")
def incoming() -> None:
    """Incoming documents: receive an edXML package, list, tell the sender how the work
    goes."""


@incoming.command("receive")
@config_option
@agency_option
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "Another trust anchor (PEM or DER) besides the node's; repeat for several.",
        "Thêm chứng thư gốc tin cậy (PEM hoặc DER) ngoài các chứng thư của nút; lặp lại được.",
    ),
)
@click.option(
    "--offline",
    is_flag=True,
    help=Text(
        "Never fetch CRLs, OCSP responses or certificates.",
        "Không tải CRL, phản hồi OCSP hay chứng thư số qua mạng.",
    ),
)
@click.option(
    "--revocation",
    type=click.Choice(["hard", "soft"]),
    default="hard",
    show_default=True,
    help=Text(
        "hard: refuse a certificate whose revocation status is unknown; soft: accept it.",
        "hard: không chấp nhận chứng thư số chưa rõ tình trạng thu hồi; soft: chấp nhận.",
    ),
)
@click.option(
    "--key",
    "key_ref",
    metavar="KEY",
    help=Text(
        "The receiving agency's key for its status messages (PKCS#11 URI or PKCS#12 file); "
        "without it they are stored unsigned.",
        "Khóa của cơ quan nhận để ký thông điệp trạng thái (URI PKCS#11 hoặc tệp PKCS#12); "
        "không có thì thông điệp được lưu không ký.",
    ),
)
@click.option(
    "--pin-env",
    metavar="NAME",
    help=Text(
        "Read the key's PIN (or PKCS#12 password) from this environment variable.",
        "Đọc mã PIN (hoặc mật khẩu PKCS#12) của khóa từ biến môi trường này.",
    ),
)
@click.option(
    "--pin-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "Read the key's PIN (or PKCS#12 password) from this file (first line).",
        "Đọc mã PIN (hoặc mật khẩu PKCS#12) của khóa từ tệp này (dòng đầu).",
    ),
)
@format_option
@vietnamese(
    "Tiếp nhận một gói tin edXML cho một cơ quan: kiểm tra chữ ký gói tin và cơ quan gửi, "
    "kiểm tra từng văn bản, rồi vào sổ đến (có số đến) hoặc từ chối (có lý do)."
)
def receive(
    config_file: Path | None,
    organ_id: str,
    path: Path,
    trust: tuple[Path, ...],
    offline: bool,
    revocation: str,
    key_ref: str | None,
    pin_env: str | None,
    pin_file: Path | None,
    output_format: str,
) -> None:
    """Receive an edXML package for an agency: check the package signature and the sender,
    validate every document, then register it (arrival number) or reject it (reason)."""
    from exchange import accounts
    from exchange import incoming as flow
    from exchange.errors import InputUnreadable, NotFound
    from exchange.service import open_services
    from signing import open_key
    from validation import os_reason

    node = settings(config_file)
    if not path.is_file():
        raise NotFound(f"{path} does not exist.", f"{path} không tồn tại.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        raise InputUnreadable(
            f"{path} cannot be read: {en}.", f"Không đọc được {path}: {vi}."
        ) from exc
    for anchor in trust:
        if not anchor.is_file():
            raise NotFound(f"{anchor} does not exist.", f"{anchor} không tồn tại.")
    policy = flow.trust_policy(node.data_dir, organ_id, trust)
    policy = replace(policy, offline=offline, revocation="soft" if revocation == "soft" else "hard")

    async def go() -> IncomingView:
        async with open_services(node) as svc:
            async with svc.transaction() as session:
                clerk = await accounts.operator(session, organ_id, operator())
            if key_ref is None:  # the agency's seal key, if the node configures one
                async with flow.agency_key(node.agencies, organ_id) as configured:
                    receiving = flow.Receiving(policy=policy, status_key=configured)
                    return await flow.receive(svc, clerk, data, receiving)
            async with open_key(
                key_ref, pin_options(pin_env, pin_file), default_module=default_module()
            ) as key:
                receiving = flow.Receiving(policy=policy, status_key=key)
                return await flow.receive(svc, clerk, data, receiving)

    view = run(go)
    if output_format == "json":
        click.echo(json.dumps(_record(view), ensure_ascii=False, indent=2))
        return
    click.echo(_line(view))
    if view.reason is not None:
        click.echo(f"  {pick('reason', 'lý do')}: {view.reason.message(pick('en', 'vi'))}")


@incoming.command("list")
@config_option
@click.option(
    "--agency",
    "organ_id",
    metavar="ORGANID",
    help=Text(
        "Only this agency (OrganId) of the node; default: every agency it hosts.",
        "Chỉ cơ quan này (mã định danh OrganId) của nút; mặc định: mọi cơ quan của nút.",
    ),
)
@format_option
@vietnamese(
    "Liệt kê văn bản đến: số đến, cơ quan gửi, trích yếu, trạng thái, kết quả kiểm tra "
    "(chữ ký và giá trị pháp lý)."
)
def list_incoming(config_file: Path | None, organ_id: str | None, output_format: str) -> None:
    """List incoming documents: arrival number, sender, subject, state, validation verdict
    (signatures and legal check)."""
    from exchange import accounts, directory
    from exchange import incoming as flow
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> list[IncomingView]:
        async with open_services(node) as svc, svc.transaction(read_only=True) as session:
            if organ_id is not None:
                agencies = [organ_id]
            else:
                agencies = [e.organ_id for e in await directory.entries(session) if e.hosted]
            found: list[IncomingView] = []
            for agency in agencies:
                clerk = await accounts.operator(session, agency, operator())
                found.extend(await flow.list_incoming(session, clerk))
            return found

    views = run(go)
    if output_format == "json":
        click.echo(json.dumps([_record(v) for v in views], ensure_ascii=False, indent=2))
        return
    if not views:
        click.echo(pick("no incoming documents", "chưa có văn bản đến"))
    for view in views:
        click.echo(_line(view))


@incoming.command("status")
@config_option
@agency_option
@click.argument("incoming_id", metavar="ID")
@click.argument("code", metavar="CODE", type=click.Choice(["04", "05", "06"]))
@click.option(
    "--description",
    default="",
    metavar="TEXT",
    help=Text(
        "What to tell the sender (at most 1000 characters); default: the status's name.",
        "Nội dung báo cho cơ quan gửi (tối đa 1000 ký tự); mặc định: tên trạng thái.",
    ),
)
@click.option(
    "--user",
    "username",
    metavar="USERNAME",
    help=Text(
        "The agency's user (a clerk or a signer) who reports it (the audit log names them). "
        "Default: the operator of the node.",
        "Người dùng của cơ quan (văn thư hoặc lãnh đạo) báo trạng thái (ghi vào nhật ký). "
        "Mặc định: người vận hành nút.",
    ),
)
@format_option
@vietnamese(
    "Báo cho cơ quan gửi tình hình xử lý một văn bản đến đã vào sổ: 04 phân công, "
    "05 đang xử lý, 06 hoàn thành (chỉ đi tiếp, không lặp lại, không quay lại). Thông điệp "
    "trạng thái được ký bằng khóa của cơ quan và gửi về cơ quan gửi."
)
def status(
    config_file: Path | None,
    organ_id: str,
    incoming_id: str,
    code: str,
    description: str,
    username: str | None,
    output_format: str,
) -> None:
    """Tell the sender how the work on a registered incoming document goes: 04 assigned,
    05 in progress, 06 done (forward only, never repeated, never back). The status message is
    signed with the agency's key and sent back to the sender."""
    from exchange import accounts, documents, progress
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> IncomingView:
        async with open_services(node) as svc:
            async with svc.transaction(read_only=True) as session:
                person = await accounts.operator(session, organ_id, operator())
                if username is not None:
                    person = await documents.as_user(session, person, username, origin="cli")
            return await progress.report(svc, person, incoming_id, code, description)

    view = run(go)
    if output_format == "json":
        click.echo(json.dumps(_record(view), ensure_ascii=False, indent=2))
        return
    click.echo(_line(view))
    for given in view.statuses:
        signed = pick("signed", "đã ký") if given.signed else pick("unsigned", "chưa ký")
        click.echo(f"  {given.status_code} {given.description} ({signed})")


# -- output ---------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _record(view: IncomingView) -> dict[str, Any]:
    record: dict[str, Any] = _json_value(asdict(view))
    return record


_VERDICTS = {
    "TOTAL-PASSED": ("valid", "hợp lệ"),
    "TOTAL-FAILED": ("not valid", "không hợp lệ"),
    "INDETERMINATE": ("cannot be determined", "chưa xác định được"),
}


def _verdict(view: IncomingView) -> str:
    if view.indication is None:
        signatures = pick("signatures: none judged", "chữ ký: không có văn bản được kiểm tra")
    else:
        en, vi = _VERDICTS.get(view.indication, (view.indication, view.indication))
        signatures = f"{pick('signatures', 'chữ ký')}: {pick(en, vi)} ({view.indication})"
    if view.legal_valid is None:
        legal = pick("legal: not judged", "pháp lý: chưa kiểm tra")
    elif view.legal_valid:
        legal = pick("legal: passes (Decree 30 Art. 5)", "pháp lý: đạt (Điều 5 NĐ 30)")
    else:
        legal = pick("legal: fails (Decree 30 Art. 5)", "pháp lý: không đạt (Điều 5 NĐ 30)")
    return f"{signatures}; {legal}"


def _line(view: IncomingView) -> str:
    """One document: arrival number, sender, subject, state, verdict."""
    if view.arrival_number is not None:
        number = f"{view.arrival_number}/{view.arrival_year}"
    else:
        number = "-"
    state = {
        "registered": pick("registered", "đã vào sổ"),
        "rejected": pick("rejected", "bị từ chối"),
    }.get(view.state, view.state)
    return (
        f"{pick('arrival', 'số đến')} {number} | {view.agency} <- {view.sender} "
        f"{view.sender_name} | {view.code} {view.subject} | {state} | {_verdict(view)}"
    )
