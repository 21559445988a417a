"""``lienthong edxml``: build, verify and inspect edXML (QCVN 102:2016) packages.

The edXML package and the rooms below are imported when a command runs, so that ``--help``
and usage errors answer at once. Errors (a package refused with its element path, a key that
cannot be opened) become one line and their exit code in :func:`exchange.cli.main`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from exchange.cli.i18n import Group, Text, language, pick, vietnamese
from exchange.cli.options import default_module, key_options, pin_options
from exchange.errors import ExchangeError

if TYPE_CHECKING:
    from exchange.edxml import PackageVerdict, ParsedPackage

F = TypeVar("F", bound=Callable[..., Any])
EXIT_FAILED = 1
EXIT_INDETERMINATE = 2


@click.group(cls=Group)
@vietnamese("Gói tin edXML (QCVN 102:2016): tạo, kiểm tra, xem.")
def edxml() -> None:
    """edXML packages (QCVN 102:2016): build, verify, inspect."""


@edxml.command("build")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help=Text("The signed package.", "Gói tin đã ký."),
)
@key_options
@vietnamese(
    """Tạo và ký gói tin theo mô tả JSON hoặc TOML.

    SPEC mô tả phần đầu (nơi gửi, nơi nhận, mã, trích yếu, ban hành, người ký, …) và các tệp
    đính kèm (đường dẫn tính từ SPEC), hoặc một thông điệp trạng thái (kind = "status"). Gói
    tin được ký XMLDSig kiểu enveloped bằng KEY, như cơ quan ký."""
)
def build(
    spec_path: Path,
    output: Path,
    key_ref: str,
    chain: Path | None,
    pin_env: str | None,
    pin_file: Path | None,
    pss: bool,
) -> None:
    """Build and sign a package from a JSON or TOML description.

    SPEC describes the header (from, to, code, subject, promulgation, signer, …) and the
    attachment files (relative to SPEC), or a status message (kind = "status"). The package
    is signed with enveloped XMLDSig by KEY, as the agency signs it.
    """
    from exchange.edxml import build_message, sign_package
    from exchange.edxml.spec import load_spec
    from signing import atomic_output, open_key

    message = load_spec(spec_path)
    unsigned = build_message(message)

    async def run() -> bytes:
        async with open_key(
            key_ref,
            pin_options(pin_env, pin_file),
            chain=chain,
            pss=pss,
            default_module=default_module(),
        ) as key:
            return await sign_package(unsigned, key)

    signed = asyncio.run(run())
    with atomic_output(output) as handle:
        handle.write(signed)
    kind = pick(message.kind, "văn bản" if message.kind == "edoc" else "trạng thái")
    click.echo(
        pick(
            f"{output}: {kind} package signed ({len(signed)} bytes)",
            f"{output}: đã ký gói tin {kind} ({len(signed)} byte)",
        )
    )


def _trust_option(func: F) -> F:
    decorators = [
        click.option(
            "--trust",
            "trust",
            multiple=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help=Text(
                "Trust anchor (PEM or DER certificate); repeat for several.",
                "Chứng thư gốc tin cậy (PEM hoặc DER); lặp lại để đưa nhiều chứng thư.",
            ),
        ),
        click.option(
            "--offline",
            is_flag=True,
            help=Text(
                "Never fetch CRLs, OCSP responses or certificates.",
                "Không tải CRL, phản hồi OCSP hay chứng thư số qua mạng.",
            ),
        ),
        click.option(
            "--revocation",
            type=click.Choice(["hard", "soft"]),
            default="hard",
            show_default=True,
            help=Text(
                "hard: refuse a certificate whose revocation status is unknown; soft: accept it.",
                "hard: không chấp nhận chứng thư số chưa rõ tình trạng thu hồi; soft: chấp nhận.",
            ),
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _read_and_verify(
    path: Path, trust: tuple[Path, ...], offline: bool, revocation: str
) -> tuple[ParsedPackage, PackageVerdict]:
    from exchange.edxml import read_package
    from validation import TrustAnchors, ValidationPolicy

    if not path.is_file():
        raise _NotFound(path)
    policy = ValidationPolicy(
        anchors=TrustAnchors.from_files({"public": list(trust)}),
        offline=offline,
        revocation="soft" if revocation == "soft" else "hard",
    )
    return asyncio.run(read_package(path, policy))


class _NotFound(ExchangeError):
    code = "exchange.not_found"
    exit_code = 66

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} does not exist", f"{path} không tồn tại")


@edxml.command("verify")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@_trust_option
@vietnamese(
    """Kiểm tra chữ ký của gói tin.

    Mã thoát 0 khi chữ ký hợp lệ (TOTAL-PASSED), 1 khi không hợp lệ (TOTAL-FAILED), 2 khi
    chưa xác định được (INDETERMINATE: không có chữ ký, chứng thư không tin cậy, phần tử chữ
    ký không phải XMLDSig); 65 khi không đọc được gói tin."""
)
def verify(path: Path, trust: tuple[Path, ...], offline: bool, revocation: str) -> None:
    """Verify a package's signature.

    Exit 0 when the signature is TOTAL-PASSED, 1 when TOTAL-FAILED, 2 when INDETERMINATE
    (no signature, an untrusted certificate, a non-XMLDSig signature element); 65 when the
    package cannot be read.
    """
    from pyhanko.sign.ades.report import AdESStatus

    from exchange.edxml.describe import verdict_lines

    parsed, verdict = _read_and_verify(path, trust, offline, revocation)
    first, *reasons = verdict_lines(parsed, verdict, lang=language())
    click.echo(f"{path}: {first}")
    for line in reasons:
        click.echo(line)
    if verdict.indication == AdESStatus.PASSED:
        return
    sys.exit(EXIT_FAILED if verdict.indication == AdESStatus.FAILED else EXIT_INDETERMINATE)


@edxml.command("inspect")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help=Text("text for people, json for programs.", "text để đọc, json cho chương trình."),
)
@_trust_option
@vietnamese(
    "Xem mọi trường phần đầu, các tệp đính kèm và kết quả kiểm tra chữ ký của một gói tin "
    "hoặc thông điệp trạng thái."
)
def inspect(
    path: Path,
    output_format: str,
    trust: tuple[Path, ...],
    offline: bool,
    revocation: str,
) -> None:
    """Show every header field, the attachments and the signature verdict of a package or
    status message."""
    from exchange.edxml.describe import package_json, package_text

    parsed, verdict = _read_and_verify(path, trust, offline, revocation)
    if output_format == "json":
        click.echo(json.dumps(package_json(parsed, verdict), ensure_ascii=False, indent=2))
    else:
        click.echo(package_text(parsed, verdict, lang=language()))
