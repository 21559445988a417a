"""``lienthong archive``: the archivist's commands (flow 3). Scripts and other programs call
them, so their options, output and exit codes are a contract (README, "The archive").

== =====================================================================================
0  success
1  ``verify``: the package does not prove everything (each problem on its own line);
   ``audit``: some object has no good copy left (reported, never "repaired")
64 usage error (an unknown dossier, a bad option)
65 an evidence record or package cannot be read
66 an input file does not exist
69 the timestamp authority did not answer
74 a storage root cannot be written or read (full disk, missing mount)
78 configuration: no timestamp authority in production mode, or the two storage roots on
   one device in production mode
== =====================================================================================
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.node import config_option, format_option, run, settings

if TYPE_CHECKING:
    from archive import Archive
    from exchange.settings import Settings

EXIT_NOT_PROVEN = 1


def _notice(en: str, vi: str) -> None:
    click.echo(f"lienthong: {pick('note', 'lưu ý')}: {pick(en, vi)}", err=True)


def _progress(label_en: str, label_vi: str) -> Any:
    last = [-1.0]
    label = pick(label_en, label_vi)

    def report(done: int, total: int) -> None:
        # a line at most every 5 %, and the last one
        share = done / total if total else 1.0
        if done == total or share - last[0] >= 0.05:
            last[0] = share
            click.echo(f"lienthong: {label} {done}/{total}", err=True)

    return report


def _trust_option(func: Any) -> Any:
    return click.option(
        "--trust",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=Text(
            "Another trust anchor (PEM or DER) besides the node's; repeat for several.",
            "Thêm chứng thư gốc tin cậy (PEM hoặc DER) ngoài các chứng thư của nút; lặp lại được.",
        ),
    )(func)


async def _with_archive(
    node: Settings, trust: tuple[Path, ...], timestamps: bool, work: Any
) -> Any:
    from exchange.archiving import open_archive

    async with open_archive(node, trust=trust, timestamps=timestamps, notice=_notice) as archive:
        return await work(archive)


@click.group(cls=Group)
@vietnamese(
    "Kho lưu trữ: nộp lưu hồ sơ, niêm phong bằng dấu thời gian lưu trữ, gia hạn bằng chứng, "
    "kiểm tra hai bản lưu, xuất và kiểm tra gói tin TT 05/2025."
)
def archive() -> None:
    """The archive: ingest dossiers, seal them under archive timestamps, renew the evidence,
    audit both copies, export and verify TT 05/2025 packages."""


@archive.command("ingest")
@config_option
@click.argument(
    "files", metavar="FILE...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--dossier",
    "code",
    required=True,
    metavar="CODE",
    help=Text("The dossier's code (hồ sơ).", "Mã hồ sơ."),
)
@click.option(
    "--title",
    help=Text("The dossier's title (needed when it is new).", "Tiêu đề hồ sơ (cần khi hồ sơ mới)."),
)
@click.option(
    "--maintenance",
    default="01",
    show_default=True,
    help=Text(
        "Retention code of a new dossier (TT 05/2025): 01 permanent, 02 70 y, 03 50 y, "
        "04 30 y, 05 20 y, 06 10 y, 07 other.",
        "Mã thời hạn bảo quản của hồ sơ mới (TT 05/2025): 01 vĩnh viễn, 02 70 năm, 03 50 năm, "
        "04 30 năm, 05 20 năm, 06 10 năm, 07 khác.",
    ),
)
@_trust_option
@format_option
@vietnamese(
    "Nộp lưu các tệp đã ký vào hồ sơ CODE (tạo hồ sơ nếu chưa có): mỗi tệp được kiểm tra "
    "lại, nâng lên dạng lưu trữ dài hạn (PDF: B-LTA) và ghi vào cả hai bản lưu. Tệp không "
    "hợp lệ vẫn được lưu, kèm báo cáo nói rõ."
)
def ingest_command(
    config_file: Path | None,
    files: tuple[Path, ...],
    code: str,
    title: str | None,
    maintenance: str,
    trust: tuple[Path, ...],
    output_format: str,
) -> None:
    """Ingest signed files as (or into) the dossier CODE: each validated again, taken to
    long-term form (PDF: B-LTA) and written to both copies. A file that is not valid is kept
    too, with its report saying so."""
    from archive import ingest

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await ingest(
            archive,
            list(files),
            dossier=code,
            title=title,
            fields={"maintenance": maintenance},
            progress=_progress("ingested", "đã nộp lưu"),
        )

    result = run(lambda: _with_archive(node, trust, True, work))
    if output_format == "json":
        body = {
            "dossier": result.dossier,
            "created": result.created,
            "documents": [
                {
                    "name": d.name,
                    "sha256": d.sha256,
                    "size": d.size,
                    "indication": d.indication,
                    "legal": d.legal,
                    "augmented": d.augmented,
                    "already": d.already,
                    "note": pick(d.note_en, d.note_vi) or None,
                }
                for d in result.documents
            ],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for d in result.documents:
        state = (
            pick("already in the dossier", "đã có trong hồ sơ")
            if d.already
            else pick("ingested", "đã nộp lưu")
        )
        lta = " B-LTA" if d.augmented else ""
        click.echo(f"{d.name}: {state}, {d.indication}{lta}, SHA-256 {d.sha256}")
        note = pick(d.note_en, d.note_vi)
        if note:
            click.echo(f"  {note}")
    click.echo(
        pick(
            f"dossier {result.dossier}: {len(result.documents)} file(s); seal them with "
            "'lienthong archive seal'",
            f"hồ sơ {result.dossier}: {len(result.documents)} tệp; niêm phong bằng "
            "'lienthong archive seal'",
        )
    )


@archive.command("seal")
@config_option
@vietnamese(
    "Niêm phong mọi văn bản đã nộp lưu mà chưa niêm phong: một cây băm (RFC 4998) và một dấu "
    "thời gian lưu trữ cho mỗi lô đến 100.000 văn bản."
)
def seal_command(config_file: Path | None) -> None:
    """Seal everything ingested and not yet sealed: one hash tree (RFC 4998) and one archive
    timestamp for each batch of up to 100,000 documents."""
    from archive import seal

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await seal(archive, progress=_progress("read back", "đã đọc lại"))

    result = run(lambda: _with_archive(node, (), True, work))
    click.echo(
        pick(
            f"sealed {result.documents} document(s) under {result.stamps} archive timestamp(s)",
            f"đã niêm phong {result.documents} văn bản bằng {result.stamps} dấu thời gian lưu trữ",
        )
    )
    for name in result.damaged:
        click.echo(
            pick(
                f"not sealed, no good copy: {name} (see 'lienthong archive audit')",
                f"chưa niêm phong, không còn bản lưu tốt: {name} (xem 'lienthong archive audit')",
            ),
            err=True,
        )
    if result.damaged:
        sys.exit(74)


@archive.command("renew")
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help=Text("Show the plan, change nothing.", "Chỉ hiện kế hoạch, không thay đổi gì."),
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help=Text(
        "Plan as if it were TIME (ISO 8601), e.g. to see what next year needs.",
        "Lập kế hoạch như thể đang ở thời điểm TIME (ISO 8601), ví dụ để xem năm sau cần gì.",
    ),
)
@vietnamese(
    "Gia hạn bằng chứng trước khi hết hiệu lực: gia hạn dấu thời gian (chứng thư máy chủ dấu "
    "thời gian sắp hết hạn) và gia hạn cây băm (thuật toán băm sắp hết tin cậy), theo RFC 4998 §5."
)
def renew_command(config_file: Path | None, dry_run: bool, at: str | None) -> None:
    """Renew the evidence before it ages out: timestamp renewal (the TSA certificate nears
    expiry) and hash-tree renewal (the digest algorithm nears its sunset), RFC 4998 §5."""
    from archive import plan_renewal, renew

    node = settings(config_file)
    when = _time(at) if at else None

    async def work(archive: Archive) -> Any:
        steps = await plan_renewal(archive, now=when)
        if dry_run or not steps:
            return steps, []
        return steps, await renew(archive, steps, progress=_progress("re-hashed", "đã băm lại"))

    steps, made = run(lambda: _with_archive(node, (), not dry_run, work))
    if not steps:
        click.echo(pick("nothing needs renewal", "không có gì cần gia hạn"))
        return
    for step in steps:
        click.echo(("- " if dry_run else "") + pick(step.en, step.vi))
    if not dry_run:
        click.echo(
            pick(
                f"made {len(made)} archive timestamp(s)",
                f"đã tạo {len(made)} dấu thời gian lưu trữ",
            )
        )


@archive.command("audit")
@config_option
@click.option(
    "--no-repair",
    is_flag=True,
    help=Text(
        "Only report; do not rewrite a damaged copy from the good one.",
        "Chỉ báo cáo; không chép lại bản hỏng từ bản tốt.",
    ),
)
@vietnamese(
    "Kiểm tra tính toàn vẹn: băm lại cả hai bản lưu của mọi đối tượng, so với giá trị đã ghi, "
    "chép lại bản hỏng từ bản tốt; đối tượng không còn bản tốt nào được báo cáo, không bao "
    "giờ bị 'sửa'."
)
def audit_command(config_file: Path | None, no_repair: bool) -> None:
    """Fixity audit: re-hash both copies of every object against the recorded digests,
    rewrite a damaged copy from the good one; an object with no good copy left is reported,
    never "repaired"."""
    from archive import audit

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await audit(archive, repair=not no_repair)

    report = run(lambda: _with_archive(node, (), False, work))
    for finding in report.findings:
        click.echo(f"{finding.sha256}: {finding.state.value}: {pick(finding.en, finding.vi)}")
    click.echo(
        pick(
            f"checked {report.objects_checked} object(s), {report.bytes_hashed / 1e6:.1f} MB "
            f"in {report.seconds:.1f} s ({report.megabytes_per_second:.0f} MB/s)",
            f"đã kiểm tra {report.objects_checked} đối tượng, {report.bytes_hashed / 1e6:.1f} MB "
            f"trong {report.seconds:.1f} giây ({report.megabytes_per_second:.0f} MB/s)",
        )
    )
    if not report.ok:
        sys.exit(EXIT_NOT_PROVEN)


@archive.command("show")
@config_option
@click.argument("code", metavar="CODE")
@format_option
@vietnamese("Xem một hồ sơ trong kho: văn bản, niêm phong, thời hạn bảo quản, lịch sử.")
def show_command(config_file: Path | None, code: str, output_format: str) -> None:
    """Show a dossier in the archive: documents, seals, retention, history."""
    from archive import dossier_summary

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await dossier_summary(archive, code)

    s = run(lambda: _with_archive(node, (), False, work))
    if output_format == "json":
        body = {
            "code": s.code,
            "title": s.title,
            "documents": s.documents,
            "sealed": s.sealed,
            "maintenance": s.maintenance,
            "retention_ends": None if s.retention_ends is None else s.retention_ends.isoformat(),
            "disposed_at": None if s.disposed_at is None else s.disposed_at.isoformat(),
            "events": [
                {"at": at.isoformat(), "type": t, "outcome": o, "detail": d}
                for at, t, o, d in s.events
            ],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    ends = (
        pick("permanent", "vĩnh viễn")
        if s.retention_ends is None
        else f"{s.retention_ends:%d/%m/%Y}"
    )
    click.echo(f"{s.code}: {s.title}")
    click.echo(
        pick(
            f"{s.documents} document(s), {s.sealed} sealed; "
            f"retention {s.maintenance} (until {ends})",
            f"{s.documents} văn bản, {s.sealed} đã niêm phong; "
            f"thời hạn {s.maintenance} (đến {ends})",
        )
    )
    for at, kind, outcome, detail in s.events:
        click.echo(f"  {at.astimezone():%Y-%m-%d %H:%M:%S%z}  {kind} [{outcome}] {detail}")


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            pick(f"not an ISO 8601 time: {text}", f"không phải thời điểm ISO 8601: {text}")
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@archive.command("dispose")
@config_option
@click.argument("code", metavar="CODE")
@click.option(
    "--approved-by",
    "approved_by",
    required=True,
    metavar="NAME",
    help=Text(
        "The archivist (or council) who approved the disposal.",
        "Người (hoặc hội đồng) có thẩm quyền đã phê duyệt việc hủy.",
    ),
)
@vietnamese(
    "Hủy hồ sơ CODE khi đã hết thời hạn bảo quản, theo phê duyệt của người có thẩm quyền: "
    "xóa nội dung văn bản ở cả hai bản lưu, giữ lại siêu dữ liệu, báo cáo và biên bản hủy."
)
def dispose_command(config_file: Path | None, code: str, approved_by: str) -> None:
    """Dispose of the dossier CODE once its retention period has ended, on an archivist's
    approval: the documents' bytes are deleted from both copies; their metadata, reports and
    the record of the disposal are kept."""
    from archive import dispose

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await dispose(archive, code, approved_by=approved_by)

    done = run(lambda: _with_archive(node, (), False, work))
    click.echo(
        pick(
            f"dossier {done.dossier}: {done.documents} document(s) disposed of "
            f"(approved by {done.approved_by}); their metadata is kept",
            f"hồ sơ {done.dossier}: đã hủy {done.documents} văn bản "
            f"(phê duyệt: {done.approved_by}); siêu dữ liệu được giữ lại",
        )
    )


@archive.command("export")
@config_option
@click.argument("code", metavar="CODE")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text("The package to write (.zip).", "Gói tin sẽ ghi (.zip)."),
)
@click.option(
    "--sip",
    is_flag=True,
    help=Text(
        "Write the SIP_hoso form, for another system (default: the AIP_hoso the archive keeps).",
        "Ghi dạng SIP_hoso để chuyển sang hệ thống khác (mặc định: AIP_hoso mà kho lưu giữ).",
    ),
)
@vietnamese(
    "Xuất hồ sơ CODE thành gói tin TT 05/2025 nén ZIP: mỗi văn bản nguyên vẹn từng byte, "
    "bản ghi bằng chứng RFC 4998, báo cáo kiểm tra và dữ liệu kiểm tra kèm theo, lịch sử "
    "bảo quản (PREMIS)."
)
def export_command(config_file: Path | None, code: str, output: Path, sip: bool) -> None:
    """Write the dossier CODE as a zipped TT 05/2025 package: each document byte-exact, its
    RFC 4998 evidence record, its validation report and the data it rests on, the dossier's
    preservation history (PREMIS)."""
    from archive import export_package

    node = settings(config_file)

    async def work(archive: Archive) -> Any:
        return await export_package(
            archive, code, output, kind="SIP" if sip else "AIP", archive_code=node.archive_code
        )

    summary = run(lambda: _with_archive(node, (), False, work))
    click.echo(
        pick(
            f"{summary.kind} {summary.objid}: {summary.path} ({summary.size} bytes, "
            f"{len(summary.files)} files)",
            f"{summary.kind} {summary.objid}: {summary.path} ({summary.size} byte, "
            f"{len(summary.files)} tệp)",
        )
    )


@archive.command("verify")
@click.argument("package", metavar="PACKAGE.zip", type=click.Path(path_type=Path))
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help=Text(
        "Verify as at TIME (ISO 8601, e.g. 2045-01-01); default: now.",
        "Kiểm tra tại thời điểm TIME (ISO 8601, ví dụ 2045-01-01); mặc định: bây giờ.",
    ),
)
@_trust_option
@format_option
@vietnamese(
    "Kiểm tra một gói tin lưu trữ, không cần cơ sở dữ liệu hay mạng: mọi giá trị băm trong "
    "METS, bản ghi bằng chứng của từng văn bản, chữ ký số tại thời điểm được chứng minh. "
    "Mã thoát 0 chỉ khi mọi thứ đều đúng."
)
def verify_command(
    package: Path, at: str | None, trust: tuple[Path, ...], output_format: str
) -> None:
    """Check an archive package with no database and no network: every METS checksum, each
    document's evidence record, its signatures at the proven time. Exit 0 only when
    everything holds."""
    from archive import verify_package
    from validation import TrustAnchors

    if not package.is_file():
        raise click.BadParameter(
            pick(f"{package} does not exist", f"không có tệp {package}"), param_hint="PACKAGE"
        )
    anchors = TrustAnchors.from_files({"public": list(trust)})
    when = _time(at) if at else None
    verdict = run(lambda: verify_package(package, anchors=anchors, at=when))
    if output_format == "json":
        body = {
            "package": str(verdict.path),
            "objid": verdict.objid,
            "at": verdict.at.isoformat(),
            "proven": verdict.proven,
            "scope": pick(*verdict.scope),
            "problems": [pick(en, vi) for en, vi in verdict.problems],
            "documents": [
                {
                    "name": d.name,
                    "proven": d.proven,
                    "intact": d.intact,
                    "proven_time": None
                    if d.evidence is None or d.evidence.proven_time is None
                    else d.evidence.proven_time.isoformat(),
                    "indication": d.indication,
                    "problems": [pick(en, vi) for en, vi in d.problems],
                }
                for d in verdict.documents
            ],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for en, vi in verdict.problems:
            click.echo(pick(en, vi))
        for d in verdict.documents:
            if d.proven and d.evidence is not None and d.evidence.proven_time is not None:
                click.echo(
                    pick(
                        f"{d.name}: proven: existed at {d.evidence.proven_time.isoformat()}, "
                        f"unchanged since, signatures {d.indication} then",
                        f"{d.name}: đã chứng minh: tồn tại từ "
                        f"{d.evidence.proven_time.isoformat()}, không thay đổi từ đó, chữ ký số "
                        f"{d.indication} tại thời điểm ấy",
                    )
                )
            for en, vi in d.problems:
                click.echo(pick(en, vi))
        if verdict.proven:
            click.echo(pick(*verdict.scope))
        click.echo(
            pick(
                f"{verdict.path}: everything holds at {verdict.at.isoformat()}",
                f"{verdict.path}: mọi thứ đều đúng tại {verdict.at.isoformat()}",
            )
            if verdict.proven
            else pick(
                f"{verdict.path}: NOT proven at {verdict.at.isoformat()}",
                f"{verdict.path}: KHÔNG chứng minh được tại {verdict.at.isoformat()}",
            )
        )
    if not verdict.proven:
        sys.exit(EXIT_NOT_PROVEN)
