"""``lienthong verify``: is this document legally valid, and why (not)?

Exit codes (a contract for scripts): 0 every file TOTAL-PASSED; 1 any file TOTAL-FAILED;
2 otherwise (something INDETERMINATE); with ``--require-legal``, 3 when every file passes
but one fails the Decree 30 check; 64 usage error; 66 a file does not exist (nothing is
validated then).

The validation room is imported when the command runs, not with the module, so that
``lienthong verify --help`` and usage errors answer at once; the signing room (which brings
appearances and fonts) only when a report or evidence is written to a file.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from exchange.cli.i18n import Command, Text, pick, vietnamese

if TYPE_CHECKING:
    from asn1crypto import crl, ocsp

    from validation import DocumentKind, DocumentReport, TrustAnchors

EXIT_FAILED = 1
EXIT_INDETERMINATE = 2
EXIT_NOT_LEGAL = 3


def _trust(values: tuple[str, ...]) -> TrustAnchors:
    """``--trust [PURPOSE=]PATH`` (a PEM/DER file or a directory); ``$LIENTHONG_TRUST`` adds
    ``purpose=path`` entries separated by ``:``."""
    from validation import TrustAnchors

    entries = list(values)
    env = os.environ.get("LIENTHONG_TRUST")
    if env:
        entries.extend(e for e in env.split(":") if e)
    grouped: dict[str, list[Path]] = {}
    for entry in entries:
        purpose, sep, path = entry.partition("=")
        if not sep or "/" in purpose:
            purpose, path = "public", entry
        grouped.setdefault(purpose, []).append(Path(path))
    return TrustAnchors.from_files(grouped)


def _read_all(
    paths: tuple[Path, ...],
    kind: type[crl.CertificateList] | type[ocsp.OCSPResponse],
    what_en: str,
    what_vi: str,
) -> tuple[bytes, ...]:
    """Read and check CRLs or OCSP responses (DER or PEM) supplied by the caller."""
    from asn1crypto import pem

    from validation import InputMissing, PolicyError, os_reason

    result = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            en, vi = os_reason(exc)
            error = InputMissing if isinstance(exc, FileNotFoundError) else PolicyError
            raise error(
                f"cannot read the {what_en} {path}: {en}", f"không đọc được {what_vi} {path}: {vi}"
            ) from exc
        der = bytes(pem.unarmor(data)[2]) if pem.detect(data) else data
        try:
            kind.load(der).native  # noqa: B018 - parse now, fail here
        except (ValueError, TypeError, KeyError) as exc:
            raise PolicyError(f"{path} is not a {what_en}", f"{path} không phải {what_vi}") from exc
        result.append(der)
    return tuple(result)


def _check_writable(directory: Path) -> None:
    from signing import OutputNotWritable
    from validation import os_reason

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        en, vi = os_reason(exc)
        raise OutputNotWritable(
            f"cannot write the evidence to {directory}: {en}",
            f"không ghi được bằng chứng vào {directory}: {vi}",
        ) from exc


def exit_code(reports: list[DocumentReport], *, require_legal: bool) -> int:
    from pyhanko.sign.ades.report import AdESStatus

    if any(r.indication is AdESStatus.FAILED for r in reports):
        return EXIT_FAILED
    if any(r.indication is not AdESStatus.PASSED for r in reports):
        return EXIT_INDETERMINATE
    if require_legal and not all(r.legal.valid for r in reports):
        return EXIT_NOT_LEGAL
    return 0


@click.command(cls=Command)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    metavar="[PURPOSE=]PEM",
    help=Text(
        "Trust anchors (PEM with one or more certificates, DER, or a directory), "
        "grouped by purpose: public (default), special-use, foreign, …",
        "Chứng thư gốc tin cậy (tệp PEM có một hay nhiều chứng thư, DER, hoặc một thư mục), "
        "theo mục đích: public (mặc định), special-use, foreign, …",
    ),
)
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "A CRL to use for revocation checks (DER or PEM; repeat).",
        "Một danh sách thu hồi (CRL) dùng khi kiểm tra thu hồi (DER hoặc PEM; lặp lại được).",
    ),
)
@click.option(
    "--ocsp",
    "ocsps",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "An OCSP response to use (DER; repeat).",
        "Một phản hồi OCSP dùng khi kiểm tra (DER; lặp lại được).",
    ),
)
@click.option(
    "--offline",
    is_flag=True,
    help=Text("Never fetch anything over the network.", "Không tải gì qua mạng."),
)
@click.option(
    "--at",
    "at",
    metavar="ISO-8601-TIME",
    help=Text(
        "Validate at this time (default now), e.g. 2026-01-31T09:00:00+07:00.",
        "Kiểm tra tại thời điểm này (mặc định: bây giờ), ví dụ 2026-01-31T09:00:00+07:00.",
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
    "--data",
    "data",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "The signed content, for a detached CMS (.p7s) or a timestamp (.tsr).",
        "Nội dung đã được ký, cho chữ ký CMS tách rời (.p7s) hoặc dấu thời gian (.tsr).",
    ),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help=Text(
        "text for people, json for programs, html to open or print.",
        "text để đọc, json cho chương trình, html để mở hoặc in.",
    ),
)
@click.option(
    "--lang",
    "lang",
    type=click.Choice(["vi", "en"]),
    default=None,
    help=Text(
        "Language of the report and messages (default: the program's).",
        "Ngôn ngữ của báo cáo và thông báo (mặc định: của chương trình).",
    ),
)
@click.option(
    "--kind",
    "doc_kind",
    type=click.Choice(["main", "attachment", "copy"]),
    default="main",
    show_default=True,
    help=Text(
        "main: needs personal and agency signatures (Decree 30 Art. 5); attachment, copy: a "
        "separate attachment or an electronic copy needs the agency signature alone.",
        "main: cần chữ ký cá nhân và chữ ký cơ quan (Điều 5 NĐ 30); attachment, copy: phụ "
        "lục tách riêng hoặc bản sao điện tử chỉ cần chữ ký của cơ quan.",
    ),
)
@click.option(
    "--require-legal",
    is_flag=True,
    help=Text(
        "Exit 3 when every file passes but one fails the Decree 30 Art. 5 check.",
        "Thoát với mã 3 khi mọi tệp đều hợp lệ nhưng có tệp chưa đủ giá trị pháp lý "
        "(Điều 5 NĐ 30).",
    ),
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=Text(
        "Export each report with its evidence (certificates, CRLs, OCSP "
        "responses, timestamps) under this directory.",
        "Xuất từng báo cáo kèm bằng chứng (chứng thư số, CRL, phản hồi OCSP, dấu thời gian) "
        "vào thư mục này.",
    ),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "Write the report here instead of standard output.",
        "Ghi báo cáo vào tệp này thay vì in ra màn hình.",
    ),
)
@click.pass_context
@vietnamese(
    """Kiểm tra chữ ký số và giá trị pháp lý theo Nghị định 30.

    Mã thoát: 0 mọi tệp hợp lệ; 1 có tệp không hợp lệ; 2 có tệp chưa xác định được; 3 (với
    --require-legal) mọi tệp hợp lệ nhưng có tệp chưa đủ giá trị pháp lý; 66 có tệp không
    tồn tại."""
)
def verify(
    ctx: click.Context,
    /,
    files: tuple[Path, ...],
    trust: tuple[str, ...],
    crls: tuple[Path, ...],
    ocsps: tuple[Path, ...],
    offline: bool,
    at: str | None,
    revocation: str,
    data: Path | None,
    fmt: str,
    lang: str | None,
    doc_kind: str,
    require_legal: bool,
    evidence_dir: Path | None,
    output: Path | None,
) -> None:
    """Validate signatures and the Decree 30 legal check.

    Exit codes: 0 every file valid; 1 a file not valid; 2 a file that cannot be determined;
    3 (with --require-legal) every file valid but one without legal value; 66 a file does
    not exist."""
    language = lang or ctx.obj["lang"]
    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise click.UsageError(
                pick(
                    f"--at must be an ISO 8601 time, not {at!r}",
                    f"--at phải là thời điểm theo ISO 8601, không phải {at!r}",
                )
            ) from None
        if when.tzinfo is None:
            raise click.UsageError(
                pick(
                    "--at needs a time zone, e.g. +07:00 or Z",
                    "--at cần múi giờ, ví dụ +07:00 hoặc Z",
                )
            )
    from asn1crypto import crl, ocsp

    from validation import (
        InputMissing,
        ValidationPolicy,
        render_html,
        render_json,
        render_text,
        validate_files,
        write_evidence,
    )

    policy = ValidationPolicy(
        anchors=_trust(trust),
        validation_time=when,
        revocation="soft" if revocation == "soft" else "hard",
        offline=offline,
        crls=_read_all(crls, crl.CertificateList, "CRL", "danh sách thu hồi (CRL)"),
        ocsp_responses=_read_all(ocsps, ocsp.OCSPResponse, "OCSP response", "phản hồi OCSP"),
    )
    kind: DocumentKind = (
        "attachment" if doc_kind == "attachment" else ("copy" if doc_kind == "copy" else "main")
    )
    missing = [path for path in files if not path.exists()]
    if missing:  # the README's exit code for a missing input, before anything is judged
        names = ", ".join(str(p) for p in missing)
        raise InputMissing(f"no such file: {names}", f"không có tệp {names}")
    if evidence_dir is not None:
        _check_writable(evidence_dir)
    reports = asyncio.run(validate_files(list(files), policy, detached_data=data, kind=kind))
    if fmt == "json":
        rendered = render_json(reports)
    elif fmt == "html":
        rendered = render_html(reports, language)
    else:
        rendered = render_text(reports, language)
    if output is not None:
        from signing import atomic_output

        with atomic_output(output) as handle:
            handle.write((rendered + "\n").encode("utf-8"))
    else:
        click.echo(rendered)
    if evidence_dir is not None:
        for n, report in enumerate(reports, start=1):
            write_evidence(report, evidence_dir / f"{n:02d}-{Path(report.file).name}")
    if data is None and _needs_data(reports):
        click.echo(
            pick(
                "lienthong: hint: give the signed file with --data FILE",
                "lienthong: gợi ý: đưa tệp đã được ký bằng tùy chọn --data TỆP",
            ),
            err=True,
        )
    sys.exit(exit_code(reports, require_legal=require_legal))


_DATA_MISSING = {"cms.data_missing", "tsp.data_missing"}


def _needs_data(reports: list[DocumentReport]) -> bool:
    """Whether a detached signature or a timestamp waits for the data it signs (the rooms
    say what is missing; this edge names its option)."""
    return any(
        f.code in _DATA_MISSING for r in reports for s in r.signatures for f in s.findings
    ) or any(f.code in _DATA_MISSING for r in reports for f in r.findings)
