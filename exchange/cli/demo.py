"""``lienthong demo``: two nodes on one machine, a document sent and registered end to end."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from exchange.cli.i18n import Command, Text, pick, vietnamese
from exchange.demo import PASSWORD, DemoResult, run_demo_sync


@click.command(cls=Command)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("LIENTHONG_DATA_DIR", "var/demo"),
    show_default="var/demo | $LIENTHONG_DATA_DIR",
    help=Text(
        "Where the development PKI, tokens and the runs' nodes live (reused next time).",
        "Nơi giữ PKI, token phát triển và dữ liệu các nút của mỗi lần chạy (dùng lại lần sau).",
    ),
)
@vietnamese(
    "Chạy thử: hai nút trên máy này gửi một công văn mẫu từ đầu đến cuối (chỉ để phát triển). "
    "Hai nút (Sở Tài chính, UBND tỉnh): công văn được soạn, ký số cá nhân và ký số cơ quan, gửi, "
    "nhận, kiểm tra, vào sổ và báo lại trạng thái 03."
)
def demo(data_dir: Path) -> None:
    """Two nodes on this machine send a sample công văn end to end (development only). The
    two nodes (Sở Tài chính, UBND tỉnh): the công văn is drafted, signed (personal and agency),
    sent, received, verified, registered and acknowledged with status 03."""

    def say(en: str, vi: str) -> None:
        click.echo(f"• {pick(en, vi)}", err=True)

    result = run_demo_sync(data_dir, say)
    for line in report(result, program()):
        click.echo(line)


def _at(value: str) -> str:
    from datetime import datetime

    from signing import VIETNAM

    return datetime.fromisoformat(value).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def _verdict(incoming: dict[str, Any]) -> str:
    indication = incoming.get("indication")
    names = {
        "TOTAL-PASSED": pick("valid", "hợp lệ"),
        "TOTAL-FAILED": pick("not valid", "không hợp lệ"),
        "INDETERMINATE": pick("cannot be determined", "chưa xác định được"),
    }
    signatures = (
        f"{names.get(indication, indication)} ({indication})"
        if indication
        else pick("none judged", "không có văn bản được kiểm tra")
    )
    legal = incoming.get("legal_valid")
    if legal is None:
        legal_text = pick("not judged", "chưa kiểm tra")
    elif legal:
        legal_text = pick("passes (Decree 30/2020 Art. 5)", "đạt (Điều 5 Nghị định 30/2020)")
    else:
        legal_text = pick("fails (Decree 30/2020 Art. 5)", "không đạt (Điều 5 Nghị định 30/2020)")
    return (
        f"{pick('signatures', 'chữ ký số')}: {signatures}; "
        f"{pick('legal check', 'giá trị pháp lý')}: {legal_text}"
    )


def report(result: DemoResult, prog: str) -> list[str]:
    """What the user reads on standard output after a run."""
    sender, receiver, incoming = result.sender, result.receiver, result.incoming
    lines = [
        "",
        pick(
            f"Timeline at the sender ({sender.name}), document {result.document_id} to "
            f"{receiver.name} ({receiver.organ_id}):",
            f"Dòng thời gian tại nơi gửi ({sender.name}), văn bản {result.document_id} gửi "
            f"{receiver.name} ({receiver.organ_id}):",
        ),
    ]
    for event in result.recipient.get("timeline", ()):
        lines.append(f"  {_at(event['stated_at'])}  {event['status_code']}  {event['description']}")
    lines += [
        "",
        pick(
            f"Verification at the receiver ({receiver.name}):",
            f"Kết quả kiểm tra tại nơi nhận ({receiver.name}):",
        ),
    ]
    if incoming:
        number = f"{incoming.get('arrival_number')}/{incoming.get('arrival_year')}"
        state = {
            "registered": pick("registered", "đã vào sổ"),
            "rejected": pick("rejected", "bị từ chối"),
        }.get(incoming.get("state", ""), incoming.get("state"))
        lines += [
            f"  {pick('arrival number', 'số đến')} {number} ({state}): {incoming.get('code')} "
            f"{incoming.get('subject')}",
            f"  {_verdict(incoming)}",
        ]
    else:
        lines.append(
            pick("  (not in its incoming list)", "  (không có trong danh sách văn bản đến)")
        )
    lines += [
        "",
        pick(
            f"Time to status 03: {result.elapsed:.1f} s",
            f"Thời gian đến trạng thái 03: {result.elapsed:.1f} giây".replace(".", ","),
        ),
        pick(f"This run's folder: {result.run_dir}", f"Thư mục của lần chạy: {result.run_dir}"),
        pick(
            f"Issued document (as the sender keeps it): {result.output}",
            f"Văn bản đã ban hành (bản nơi gửi giữ): {result.output}",
        ),
    ]
    for node in (sender, receiver):
        lines.append(
            pick(
                f"  {node.name}: {node.home} (settings {node.config.name}, database "
                f"{node.database.relative_to(node.home)}, log {node.log.name})",
                f"  {node.name}: {node.home} (cấu hình {node.config.name}, cơ sở dữ liệu "
                f"{node.database.relative_to(node.home)}, nhật ký {node.log.name})",
            )
        )
    lines.append(
        pick(
            f"  users on both nodes: vanthu (clerk), giamdoc (signer), password {PASSWORD!r}",
            f"  người dùng trên cả hai nút: vanthu (văn thư), giamdoc (lãnh đạo ký), mật khẩu "
            f"{PASSWORD!r}",
        )
    )
    lines += [
        pick(
            "Both nodes are stopped. Try next (the lines run as printed):",
            "Hai nút đã dừng. Thử tiếp (các dòng chạy được như in):",
        ),
        *(f"  {command}" for command in try_next(result, prog)),
    ]
    return lines


def program() -> str:
    """How to call this program from any directory: ``lienthong`` when that name on PATH is
    this program, else the full path of the script beside the running interpreter
    (``…/.venv/bin/lienthong``: ``scripts/demo`` changes directory, so a relative path
    would not hold in the caller's shell)."""
    script = Path(sys.executable).parent / "lienthong"
    on_path = shutil.which("lienthong")
    if on_path is not None and (not script.exists() or Path(on_path).samefile(script)):
        return "lienthong"
    return shlex.quote(str(script)) if script.exists() else "lienthong"


def try_next(result: DemoResult, prog: str) -> tuple[str, ...]:
    """Shell lines that run as printed, on the nodes' data the run left."""
    q = shlex.quote
    sender, receiver = result.sender, result.receiver
    return (
        f"{prog} document recipients {q(result.document_id)} --config {q(str(sender.config))} "
        f"--agency {q(sender.organ_id)}",
        f"{prog} incoming list --config {q(str(receiver.config))}",
        f"{prog} document list --config {q(str(sender.config))} --agency {q(sender.organ_id)}",
    )
