"""``lienthong verify``: is this document legally valid, and why (not)?

Exit codes (a contract for scripts): 0 every file TOTAL-PASSED; 1 any file TOTAL-FAILED;
2 otherwise (something INDETERMINATE); with ``--require-legal``, 3 when every file passes
but one fails the Decree 30 check; 64 usage error.

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

    from validation import PolicyError

    result = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PolicyError(
                f"cannot read the {what_en} {path}: {exc.strerror}",
                f"không đọc được {what_vi} {path}: {exc.strerror}",
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

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritable(
            f"cannot write the evidence to {directory}: {exc.strerror}",
            f"không ghi được bằng chứng vào {directory}: {exc.strerror}",
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


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    metavar="[PURPOSE=]PEM",
    help="Trust anchors (PEM with one or more certificates, DER, or a directory), "
    "grouped by purpose: public (default), special-use, foreign, …",
)
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CRL to use for revocation checks (DER or PEM; repeat).",
)
@click.option(
    "--ocsp",
    "ocsps",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An OCSP response to use (DER; repeat).",
)
@click.option("--offline", is_flag=True, help="Never fetch anything over the network.")
@click.option(
    "--at",
    "at",
    metavar="ISO-8601-TIME",
    help="Validate at this time (default now), e.g. 2026-01-31T09:00:00+07:00.",
)
@click.option(
    "--revocation",
    type=click.Choice(["hard", "soft"]),
    default="hard",
    show_default=True,
    help="soft: accept a certificate whose status is unknown.",
)
@click.option(
    "--data",
    "data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed content, for a detached CMS (.p7s) or a timestamp (.tsr).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "--lang",
    "lang",
    type=click.Choice(["vi", "en"]),
    default=None,
    help="Language of the text and HTML report (default: the program's).",
)
@click.option(
    "--kind",
    "doc_kind",
    type=click.Choice(["main", "attachment", "copy"]),
    default="main",
    show_default=True,
    help="main: needs personal and agency signatures (Decree 30 Art. 5); attachment, copy: a "
    "separate attachment or an electronic copy needs the agency signature alone.",
)
@click.option(
    "--require-legal",
    is_flag=True,
    help="Exit 3 when every file passes but one fails the Decree 30 Art. 5 check.",
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Export each report with its evidence (certificates, CRLs, OCSP "
    "responses, timestamps) under this directory.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of standard output.",
)
@click.pass_context
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
    """Kiểm tra chữ ký số / validate signatures and the Decree 30 legal check."""
    language = lang or ctx.obj["lang"]
    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise click.UsageError(f"--at must be an ISO 8601 time, not {at!r}") from None
        if when.tzinfo is None:
            raise click.UsageError("--at needs a time zone, e.g. +07:00 or Z")
    from asn1crypto import crl, ocsp

    from validation import (
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
    sys.exit(exit_code(reports, require_legal=require_legal))
