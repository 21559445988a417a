"""``lienthong number``: number and date fields of a draft (Decree 30 Art. 15(3))."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from exchange.cli.i18n import Group, Text, pick, vietnamese

if TYPE_CHECKING:
    from signing import TextFieldSpec


@click.group(cls=Group)
@vietnamese("Số và ngày văn bản, điền sau chữ ký cá nhân.")
def number() -> None:
    """Number and date of a document, filled after the personal signature."""


def _field(value: str) -> TextFieldSpec:
    from signing import TextFieldSpec, UsageError

    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise UsageError(
            f"--field must be NAME=ANCHOR[@WIDTH_MM], not {value!r}",
            f"--field phải có dạng TÊN=CHỮ_MỐC[@RỘNG_MM], không phải {value!r}",
        )
    anchor, _, width = rest.partition("@")
    try:
        return TextFieldSpec(name=name, anchor=anchor, width_mm=float(width) if width else 20.0)
    except ValueError:
        raise UsageError(
            f"bad width in --field {value!r}", f"bề rộng không hợp lệ trong --field {value!r}"
        ) from None


_OUTPUT_HELP = Text("Where to write the result.", "Nơi ghi kết quả.")


@number.command("add-fields")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help=_OUTPUT_HELP)
@click.option(
    "--field",
    "field_specs",
    multiple=True,
    metavar="NAME=ANCHOR[@WIDTH_MM]",
    help=Text(
        "A text field right after the first ANCHOR text on page 1 (repeat). "
        "Default: so=Số:, ngay=ngày, thang=tháng.",
        "Một ô chữ ngay sau chữ mốc ANCHOR đầu tiên ở trang 1 (lặp lại được). "
        "Mặc định: so=Số:, ngay=ngày, thang=tháng.",
    ),
)
@vietnamese("Thêm ô số và ngày còn trống vào bản thảo, trước khi ai ký.")
def add_fields(input_path: Path, output: Path, field_specs: tuple[str, ...]) -> None:
    """Add empty number and date fields to a draft, before anyone signs it."""
    from signing import DEFAULT_FIELDS, add_text_fields_file

    specs = tuple(_field(v) for v in field_specs) or DEFAULT_FIELDS
    add_text_fields_file(input_path, output, specs)
    names = ", ".join(s.name for s in specs)
    click.echo(pick(f"{output}: fields {names} added", f"{output}: đã thêm các ô {names}"))


@number.command("fill")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help=_OUTPUT_HELP)
@click.option(
    "--number",
    "doc_number",
    help=Text("The document number (field 'so').", "Số của văn bản (ô 'so')."),
)
@click.option(
    "--date",
    "doc_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=Text(
        "Date of issue, YYYY-MM-DD (fields 'ngay' and 'thang'); default: today.",
        "Ngày ban hành, YYYY-MM-DD (ô 'ngay' và 'thang'); mặc định: hôm nay.",
    ),
)
@click.option(
    "--set",
    "extra",
    multiple=True,
    metavar="NAME=VALUE",
    help=Text("Any other field.", "Ô khác bất kỳ."),
)
@vietnamese("Điền số và ngày văn bản (các chữ ký trước đó vẫn hợp lệ).")
def fill(
    input_path: Path, output: Path, doc_number: str | None, doc_date: object, extra: tuple[str, ...]
) -> None:
    """Fill the number and date (earlier signatures stay valid)."""
    from signing import VIETNAM, UsageError, decree30_date_parts, fill_text_fields_file

    values: dict[str, str] = {}
    if doc_number is not None:
        values["so"] = doc_number
        day = doc_date.date() if isinstance(doc_date, datetime) else datetime.now(VIETNAM).date()
        values.update(decree30_date_parts(day))
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(
                f"--set must be NAME=VALUE, not {item!r}",
                f"--set phải có dạng TÊN=GIÁ_TRỊ, không phải {item!r}",
            )
        values[name] = value
    if not values:
        raise UsageError(
            "nothing to fill: give --number (and --date) or --set",
            "không có gì để điền: dùng --number (và --date) hoặc --set",
        )
    fill_text_fields_file(input_path, output, values)
    filled = ", ".join(f"{k}={v}" for k, v in values.items())
    click.echo(pick(f"{output}: filled {filled}", f"{output}: đã điền {filled}"))
