"""``lienthong number``: number and date fields of a draft (Decree 30 Art. 15(3))."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from signing import TextFieldSpec


@click.group()
def number() -> None:
    """Số và ngày văn bản / number and date, filled after the personal signature."""


def _field(value: str) -> TextFieldSpec:
    from signing import TextFieldSpec, UsageError

    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise UsageError(f"--field must be NAME=ANCHOR[@WIDTH_MM], not {value!r}")
    anchor, _, width = rest.partition("@")
    try:
        return TextFieldSpec(name=name, anchor=anchor, width_mm=float(width) if width else 20.0)
    except ValueError:
        raise UsageError(f"bad width in --field {value!r}") from None


@number.command("add-fields")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
@click.option(
    "--field",
    "field_specs",
    multiple=True,
    metavar="NAME=ANCHOR[@WIDTH_MM]",
    help="A text field right after the first ANCHOR text on page 1 (repeat). "
    "Default: so=Số:, ngay=ngày, thang=tháng.",
)
def add_fields(input_path: Path, output: Path, field_specs: tuple[str, ...]) -> None:
    """Thêm ô Số/ngày vào bản thảo / add empty number and date fields to a draft,
    before anyone signs it."""
    from signing import DEFAULT_FIELDS, add_text_fields_file

    specs = tuple(_field(v) for v in field_specs) or DEFAULT_FIELDS
    add_text_fields_file(input_path, output, specs)
    click.echo(f"{output}: fields {', '.join(s.name for s in specs)} added")


@number.command("fill")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
@click.option("--number", "doc_number", help="The document number (field 'so').")
@click.option(
    "--date",
    "doc_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date of issue, YYYY-MM-DD (fields 'ngay' and 'thang'); default: today.",
)
@click.option("--set", "extra", multiple=True, metavar="NAME=VALUE", help="Any other field.")
def fill(
    input_path: Path, output: Path, doc_number: str | None, doc_date: object, extra: tuple[str, ...]
) -> None:
    """Điền số và ngày / fill number and date (keeps earlier signatures valid)."""
    from signing import VIETNAM, UsageError, decree30_date_parts, fill_text_fields_file

    values: dict[str, str] = {}
    if doc_number is not None:
        values["so"] = doc_number
        day = doc_date.date() if isinstance(doc_date, datetime) else datetime.now(VIETNAM).date()
        values.update(decree30_date_parts(day))
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set must be NAME=VALUE, not {item!r}")
        values[name] = value
    if not values:
        raise UsageError("nothing to fill: give --number (and --date) or --set")
    fill_text_fields_file(input_path, output, values)
    click.echo(f"{output}: filled {', '.join(f'{k}={v}' for k, v in values.items())}")
