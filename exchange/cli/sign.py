"""``lienthong sign``: PDF (PAdES) and XML signatures, and two-phase external signing."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from exchange.cli.i18n import Group, Text, pick, vietnamese
from exchange.cli.options import default_module, key_options, pin_options
from signing import (
    Anchor,
    AppearanceSpec,
    ExistingField,
    InputNotFound,
    Level,
    PadesSigner,
    PadesSpec,
    PageBox,
    Profile,
    SignedPdf,
    SigningError,
    SigningRequest,
    UsageError,
    XmlSignatureSpec,
    finish_pdf,
    load_certificates,
    open_key,
    prepare_pdf,
    sign_pdf_files,
    sign_xml_file,
)
from validation import os_reason, people_time

F = TypeVar("F", bound=Callable[..., Any])
LEVELS = [lv.value for lv in Level]
PROFILES = [p.value for p in Profile]


@click.group(cls=Group)
@vietnamese("Ký số văn bản (PDF: PAdES; XML: XMLDSig, XAdES).")
def sign() -> None:
    """Sign documents (PDF: PAdES; XML: XMLDSig, XAdES)."""


def _parse_box(value: str) -> PageBox:
    try:
        page_part, rect = value.split(":", 1)
        x, y, w, h = (float(v) for v in rect.split(","))
        return PageBox(page=int(page_part), x_mm=x, y_mm=y, width_mm=w, height_mm=h)
    except ValueError:
        raise UsageError(
            f"--box must be PAGE:X,Y,WIDTH,HEIGHT in mm from the top left, e.g. 1:120,200,50,20;"
            f" not {value!r}",
            f"--box phải có dạng TRANG:X,Y,RỘNG,CAO (mm, tính từ góc trên bên trái), ví dụ "
            f"1:120,200,50,20; không phải {value!r}",
        ) from None


def _read(path: Path | None) -> bytes | None:
    return None if path is None else _read_file(path)


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        error = InputNotFound if isinstance(exc, FileNotFoundError) else UsageError
        raise error(f"cannot read {path}: {en}", f"không đọc được {path}: {vi}") from exc


def pdf_options(func: F) -> F:
    """Level, timestamp, appearance and placement options of a PDF signature."""
    for decorator in reversed(_PDF_OPTIONS):
        func = decorator(func)
    return func


_PDF_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--profile",
        type=click.Choice(PROFILES),
        default="plain",
        show_default=True,
        help=Text(
            "Decree 30 appearance: plain (invisible), personal, agency, attachment, copy.",
            "Hình thức chữ ký theo NĐ 30: plain (không hiển thị), personal (cá nhân), agency "
            "(cơ quan), attachment (phụ lục), copy (bản sao).",
        ),
    ),
    click.option(
        "--level",
        type=click.Choice(LEVELS),
        default="B-B",
        show_default=True,
        help=Text("PAdES baseline level.", "Mức PAdES cơ bản."),
    ),
    click.option(
        "--tsa",
        "tsa_urls",
        multiple=True,
        metavar="URL",
        help=Text(
            "RFC 3161 timestamp authority (repeat: tried in order). Needed from B-T.",
            "Máy chủ cấp dấu thời gian RFC 3161 (lặp lại được: thử lần lượt). Cần từ mức B-T.",
        ),
    ),
    click.option(
        "--trust",
        "trust",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=Text(
            "B-LT/B-LTA: trust anchors (PEM) for the signer's path; default: the root "
            "at the top of the chain.",
            "B-LT/B-LTA: chứng thư gốc tin cậy (PEM) cho chuỗi của người ký; mặc định: chứng "
            "thư gốc ở đầu chuỗi.",
        ),
    ),
    click.option(
        "--image",
        type=click.Path(dir_okay=False, path_type=Path),
        help=Text(
            "personal: the signature image; agency: the seal image (PNG, transparent).",
            "personal: hình chữ ký; agency: hình con dấu (PNG, nền trong suốt).",
        ),
    ),
    click.option(
        "--image-width-mm",
        type=float,
        default=40.0,
        show_default=True,
        help=Text(
            "personal: width of the signature image (mm).", "personal: bề rộng hình chữ ký (mm)."
        ),
    ),
    click.option(
        "--seal-mm",
        type=float,
        default=36.0,
        show_default=True,
        help=Text(
            "agency: the seal's real diameter (mm).", "agency: đường kính thật của con dấu (mm)."
        ),
    ),
    click.option(
        "--text",
        "text_lines",
        multiple=True,
        help=Text(
            "attachment: number and notation; copy: copy form, copying agency "
            "(one line each; the signing time is added).",
            "attachment: số và ký hiệu; copy: hình thức sao, cơ quan sao (mỗi dòng một lần; "
            "thời điểm ký được thêm vào).",
        ),
    ),
    click.option(
        "--box",
        help=Text(
            "Place: PAGE:X,Y,WIDTH,HEIGHT in mm from the page's top left "
            "(PAGE 1-based, -1 = last page).",
            "Vị trí: TRANG:X,Y,RỘNG,CAO tính bằng mm từ góc trên bên trái trang (TRANG từ 1, "
            "-1 = trang cuối).",
        ),
    ),
    click.option(
        "--field",
        "field_name",
        help=Text("Sign this existing empty signature field.", "Ký vào ô chữ ký trống có sẵn này."),
    ),
    click.option(
        "--anchor",
        help=Text(
            "personal: centre the image above this text (default: the "
            "signer's name from the certificate).",
            "personal: đặt hình chữ ký giữa, phía trên dòng chữ này (mặc định: tên người ký "
            "trong chứng thư số).",
        ),
    ),
    click.option(
        "--anchor-above",
        help=Text(
            "personal: ... and below this text (the position line).",
            "personal: ... và phía dưới dòng chữ này (dòng chức vụ).",
        ),
    ),
    click.option(
        "--over-field",
        help=Text(
            "agency: the personal signature field the seal overlaps "
            "(default: the last signed one).",
            "agency: ô chữ ký cá nhân mà con dấu đóng trùm lên (mặc định: ô ký gần nhất).",
        ),
    ),
    click.option(
        "--reason",
        help=Text("Reason recorded in the signature.", "Lý do ghi trong chữ ký."),
    ),
    click.option(
        "--location",
        help=Text("Location recorded in the signature.", "Địa điểm ghi trong chữ ký."),
    ),
]


@sign.command("pdf")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help=Text(
        "Output file; with several inputs, an existing output directory.",
        "Tệp kết quả; khi ký nhiều tệp, một thư mục có sẵn.",
    ),
)
@key_options
@pdf_options
@click.pass_context
@vietnamese(
    """Ký tệp PDF (PAdES).

    Với một INPUT, OUTPUT là tệp đã ký. Với nhiều tệp, OUTPUT là một thư mục và mỗi tệp đã
    ký giữ tên của nó; nhập mã PIN một lần cho cả lô."""
)
def sign_pdf(
    ctx: click.Context,
    /,
    inputs: tuple[Path, ...],
    output: Path,
    key_ref: str,
    chain: Path | None,
    pin_env: str | None,
    pin_file: Path | None,
    pss: bool,
    **pdf: Any,
) -> None:
    """Sign PDF files (PAdES).

    With one INPUT, OUTPUT is the signed file. With several, OUTPUT is a directory and each
    signed file keeps its name; one PIN entry serves the whole batch.
    """
    spec = _pdf_spec(**pdf)
    if len(inputs) == 1 and not output.is_dir():
        jobs = [(inputs[0], output)]
    else:
        if not output.is_dir():
            raise UsageError(
                f"with several inputs, -o must be an existing directory ({output} is not)",
                f"khi ký nhiều tệp, -o phải là một thư mục có sẵn ({output} không phải)",
            )
        jobs = [(src, output / src.name) for src in inputs]
        if len({dst for _, dst in jobs}) != len(jobs):
            raise UsageError(
                "two inputs have the same file name: they would overwrite each other",
                "hai tệp đầu vào trùng tên: tệp ký sau sẽ ghi đè tệp ký trước",
            )
    lang = ctx.obj["lang"]

    async def run() -> int:
        async with open_key(
            key_ref,
            pin_options(pin_env, pin_file),
            chain=chain,
            pss=pss,
            default_module=default_module(),
        ) as key:
            signer = PadesSigner(key, spec)
            if len(jobs) == 1:
                result = await signer.sign_file(*jobs[0])
                _report(jobs[0][1], result)
                return 0
            failures = 0
            with tqdm(
                total=len(jobs),
                unit=pick("doc", "tệp"),
                file=sys.stderr,
                desc=pick("signing", "đang ký"),
                disable=None,
            ) as bar:

                def progress(source: Path, outcome: SignedPdf | SigningError) -> None:
                    nonlocal failures
                    bar.update(1)
                    if isinstance(outcome, SigningError):
                        failures += 1
                        tqdm.write(f"lienthong: {source}: {outcome.message(lang)}", file=sys.stderr)

                results = await sign_pdf_files(signer, jobs, progress=progress)
            done = sum(1 for r in results if not isinstance(r, SigningError))
            click.echo(
                pick(
                    f"signed {done} of {len(jobs)} documents into {output}",
                    f"đã ký {done} trên {len(jobs)} văn bản vào {output}",
                )
            )
            if failures == len(jobs) and isinstance(results[0], SigningError):
                raise results[0]
            return 1 if failures else 0

    sys.exit(asyncio.run(run()))


def _pdf_spec(
    *,
    profile: str,
    level: str,
    tsa_urls: tuple[str, ...],
    trust: tuple[Path, ...],
    image: Path | None,
    image_width_mm: float,
    seal_mm: float,
    text_lines: tuple[str, ...],
    box: str | None,
    field_name: str | None,
    anchor: str | None,
    anchor_above: str | None,
    over_field: str | None,
    reason: str | None,
    location: str | None,
) -> PadesSpec:
    placement: PageBox | ExistingField | Anchor | None = None
    chosen = [v for v in (box, field_name, anchor) if v]
    if len(chosen) > 1:
        raise UsageError(
            "give only one of --box, --field, --anchor",
            "chỉ dùng một trong --box, --field, --anchor",
        )
    if box:
        placement = _parse_box(box)
    elif field_name:
        placement = ExistingField(name=field_name)
    elif anchor:
        placement = Anchor(text=anchor, above=anchor_above)
    appearance = AppearanceSpec(
        profile=Profile(profile),
        image_png=_read(image),
        image_width_mm=image_width_mm,
        seal_diameter_mm=seal_mm,
        text_lines=text_lines,
        placement=placement,
        overlap_field=over_field,
    )
    roots = tuple(c for path in trust for c in load_certificates(path))
    spec = PadesSpec(
        level=Level(level),
        appearance=appearance,
        tsa_urls=tsa_urls,
        trust_roots=roots,
        reason=reason,
        location=location,
    )
    return spec


def _report(path: Path, result: SignedPdf) -> None:
    when = people_time(result.signing_time)
    details = f"{result.profile.value}, PAdES {result.level.value}"
    click.echo(
        pick(
            f"{path}: signed by {result.signer} ({details}, field {result.field_name}, {when})",
            f"{path}: đã ký bởi {result.signer} ({details}, ô {result.field_name}, {when})",
        )
    )


_OUTPUT_HELP = Text("The signed file.", "Tệp đã ký.")


@sign.command("xml")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help=_OUTPUT_HELP)
@key_options
@click.option(
    "--format",
    "kind",
    type=click.Choice(["xmldsig", "xades-b-b", "xades-b-t"]),
    default="xmldsig",
    show_default=True,
    help=Text(
        "Enveloped XMLDSig (edXML packages), or XAdES baseline B-B / B-T.",
        "XMLDSig kiểu enveloped (gói edXML), hoặc XAdES cơ bản B-B / B-T.",
    ),
)
@click.option(
    "--tsa",
    "tsa_urls",
    multiple=True,
    metavar="URL",
    help=Text(
        "RFC 3161 timestamp authority for xades-b-t (repeat: tried in order).",
        "Máy chủ cấp dấu thời gian RFC 3161 cho xades-b-t (lặp lại được: thử lần lượt).",
    ),
)
@vietnamese("Ký tệp XML (chữ ký enveloped).")
def sign_xml(
    input_path: Path,
    output: Path,
    key_ref: str,
    chain: Path | None,
    pin_env: str | None,
    pin_file: Path | None,
    pss: bool,
    kind: str,
    tsa_urls: tuple[str, ...],
) -> None:
    """Sign an XML document (enveloped signature)."""
    spec = XmlSignatureSpec(kind=kind, tsa_urls=tsa_urls)  # type: ignore[arg-type]

    async def run() -> None:
        async with open_key(
            key_ref,
            pin_options(pin_env, pin_file),
            chain=chain,
            pss=pss,
            default_module=default_module(),
        ) as key:
            await sign_xml_file(input_path, output, key, spec)
            click.echo(pick(f"{output}: signed ({kind})", f"{output}: đã ký ({kind})"))

    asyncio.run(run())


@sign.command("prepare")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--cert",
    "cert_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "The signer's certificate (PEM or DER).", "Chứng thư số của người ký (PEM hoặc DER)."
    ),
)
@click.option(
    "--chain",
    type=click.Path(dir_okay=False, path_type=Path),
    help=Text(
        "PEM file with the CA certificates of the signer's chain.",
        "Tệp PEM chứa các chứng thư CA trong chuỗi của người ký.",
    ),
)
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(path_type=Path),
    help=Text(
        "Where to write the state file (JSON) that phase two needs.",
        "Nơi ghi tệp trạng thái (JSON) mà bước 2 cần.",
    ),
)
@click.option(
    "--pss",
    is_flag=True,
    help=Text(
        "RSA keys: the external signer uses RSASSA-PSS.",
        "Khóa RSA: bên ký ngoài dùng RSASSA-PSS.",
    ),
)
@pdf_options
@vietnamese(
    """Ký hai bước, bước 1: những gì khóa cần ký.

    In ra JSON: tệp trạng thái, thuật toán băm và thuật toán ký, dữ liệu cần ký (cho API
    băm-rồi-ký) và giá trị băm của nó (cho API ký giá trị băm), dạng base64."""
)
def sign_prepare(
    input_path: Path,
    cert_path: Path,
    chain: Path | None,
    state_path: Path,
    pss: bool,
    **pdf: Any,
) -> None:
    """Two-phase signing, phase one: what the key must sign.

    Prints JSON: the state file, the digest and signature algorithms, the bytes to be signed
    (for hash-and-sign APIs) and their digest (for sign-a-digest APIs), base64.
    """
    certs = load_certificates(cert_path)
    extra = load_certificates(chain) if chain is not None else []
    spec = _pdf_spec(**pdf)

    async def run() -> SigningRequest:
        return await prepare_pdf(
            input_path, state_path, certs[0], [*certs[1:], *extra], spec, pss=pss
        )

    request = asyncio.run(run())
    click.echo(
        json.dumps(
            {
                "state": str(request.state_path),
                "digest_algorithm": request.digest_algorithm,
                "signature_algorithm": request.signature_algorithm,
                "to_be_signed": base64.b64encode(request.to_be_signed).decode(),
                "digest": base64.b64encode(request.digest).decode(),
            },
            indent=2,
        )
    )


@sign.command("finish")
@click.argument("state_path", metavar="STATE", type=click.Path(path_type=Path))
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
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help=_OUTPUT_HELP)
@vietnamese("Ký hai bước, bước 2: gắn giá trị chữ ký vào văn bản.")
def sign_finish(state_path: Path, signature_path: Path, output: Path) -> None:
    """Two-phase signing, phase two: embed the signature value."""
    raw = _read_file(signature_path)
    try:
        value = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        value = raw
    result = asyncio.run(finish_pdf(state_path, value, output))
    _report(output, result)
