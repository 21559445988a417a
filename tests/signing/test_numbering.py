"""Number and date look typeset: the filled values are measured on the rendered page against
the text around them (poppler's word boxes and its rendering of the glyphs' ink)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from signing import add_text_fields, decree30_date_parts, fill_text_fields
from signing.dev.assets import make_sample_cong_van
from signing.fonts import Style, font_path
from signing.numbering import style_of

DPI = 288
PX = DPI / 72  # pixels per point


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    y0: float  # from the top of the page, as poppler gives it
    x1: float
    y1: float


@dataclass(frozen=True, slots=True)
class Ink:
    top: float
    bottom: float


def _words(pdf: Path) -> list[Word]:
    xml = subprocess.run(
        ["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = (
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    )
    return [
        Word(text, float(a), float(b), float(c), float(d))
        for a, b, c, d, text in re.findall(pattern, xml)
    ]


def _after(words: list[Word], *texts: str) -> list[Word]:
    """The words following the sequence ``texts`` on the page, then the sequence itself."""
    for i in range(len(words) - len(texts)):
        if [w.text for w in words[i : i + len(texts)]] == list(texts):
            return words[i:]
    raise AssertionError(f"{texts} not on the page")


def _ink(page: Image.Image, word: Word) -> Ink:
    """Top and bottom of the dark pixels inside a word's box (points from the page top)."""
    box = (round(word.x0 * PX), round(word.y0 * PX), round(word.x1 * PX), round(word.y1 * PX))
    crop = page.crop(box)
    width, height = crop.size
    pixels = crop.load()
    rows: dict[int, list[int]] = {}
    for y in range(height):
        for x in range(width):
            if pixels[x, y] < 128:
                rows.setdefault(y, []).append(x)
    assert rows, word
    top, bottom = min(rows), max(rows)
    return Ink(top=(box[1] + top) / PX, bottom=(box[1] + bottom + 1) / PX)


def _mask(image: Image.Image) -> Image.Image:
    """The ink of ``image`` (dark on light), cropped to its bounding box, as a 1-bit image."""
    ink = image.point(lambda v: 255 if v < 128 else 0).convert("1")
    bbox = ink.getbbox()
    assert bbox is not None
    return ink.crop(bbox)


def _overlap(a: Image.Image, b: Image.Image) -> float:
    """Intersection over union of two ink masks, ``b`` scaled onto ``a``."""
    b = b.resize(a.size)
    pa, pb = a.load(), b.load()
    cells = [(bool(pa[x, y]), bool(pb[x, y])) for x in range(a.width) for y in range(a.height)]
    both = sum(1 for p, q in cells if p and q)
    either = sum(1 for p, q in cells if p or q)
    return both / either


def _looks_like(page: Image.Image, word: Word, size: float) -> Style:
    """Which Liberation Serif style the rendered word is: the word set again in each style
    (by the imaging library, not by poppler or by us), compared ink to ink."""
    box = (round(word.x0 * PX), round(word.y0 * PX), round(word.x1 * PX), round(word.y1 * PX))
    seen = _mask(page.crop(box))
    scores = {}
    for style in (Style.REGULAR, Style.ITALIC):
        font = ImageFont.truetype(str(font_path(style)), round(size * PX))
        canvas = Image.new("L", (seen.width * 3, seen.height * 3), 255)
        ImageDraw.Draw(canvas).text((seen.width, seen.height), word.text, font=font, fill=0)
        scores[style] = _overlap(seen, _mask(canvas))
    return max(scores, key=lambda s: scores[s])


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Word], Image.Image, Path]:
    directory = tmp_path_factory.mktemp("numbering")
    draft = add_text_fields(make_sample_cong_van())
    pdf = directory / "filled.pdf"
    values = {"so": "2244", **decree30_date_parts(date(2026, 12, 1))}
    pdf.write_bytes(fill_text_fields(draft, values))
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            "-png",
            str(pdf),
            str(directory / "p"),
        ],
        check=True,
    )
    page = Image.open(next(directory.glob("p*.png"))).convert("L")
    return _words(pdf), page, pdf


def test_the_number_runs_into_its_notation_on_the_same_baseline_and_size(
    filled: tuple[list[Word], Image.Image, Path],
) -> None:
    words, page, pdf = filled
    label, number, notation = _after(words, "Số:")[:3]
    assert (number.text, notation.text) == ("2244", "/STTTT-VP")
    # no gap before the slash
    assert notation.x0 - number.x1 == pytest.approx(0, abs=0.3)
    # a word space after "Số:" (13 pt Times: 3.25 pt), not a hole
    assert 2.5 < number.x0 - label.x1 < 5.5
    # the same font size and baseline: poppler's line box of the same face is identical
    assert (number.y0, number.y1) == pytest.approx((notation.y0, notation.y1), abs=0.05)
    # and the ink agrees: digits stand on the notation's baseline, as tall as its capitals
    digits, letters = _ink(page, number), _ink(page, notation)
    assert digits.bottom == pytest.approx(letters.bottom, abs=0.3)
    assert digits.top == pytest.approx(letters.top, abs=0.3)
    assert _looks_like(page, number, 13) is Style.REGULAR  # upright, like the line
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Số: 2244/STTTT-VP" in text


def test_day_and_month_are_set_in_the_italic_of_the_date_line(
    filled: tuple[list[Word], Image.Image, Path],
) -> None:
    words, page, _ = filled
    line = _after(words, "ngày")[:6]
    ngay, day, thang, month, nam, year = line
    assert [w.text for w in line] == ["ngày", "01", "tháng", "12", "năm", "2026"]
    for before, value, after in ((ngay, day, thang), (thang, month, nam)):
        # centred in its blank, a word space (14 pt: 3.5 pt) either side
        left, right = value.x0 - before.x1, after.x0 - value.x1
        assert left == pytest.approx(right, abs=0.3)
        assert 2.5 < left < 5.5
        assert (value.y0, value.y1) == pytest.approx((year.y0, year.y1), abs=0.05)
    # the year was typeset with the line: the filled digits have its ink (size, baseline, slant)
    printed = _ink(page, year)
    assert _looks_like(page, year, 14) is Style.ITALIC  # the line as the draft set it
    for value in (day, month):
        ink = _ink(page, value)
        assert ink.bottom == pytest.approx(printed.bottom, abs=0.3)
        assert ink.top == pytest.approx(printed.top, abs=0.3)
        assert _looks_like(page, value, 14) is Style.ITALIC


def test_a_field_takes_the_style_its_anchor_font_says() -> None:
    assert style_of("/TLZJWN+LiberationSerif-Italic-Identity-H") is Style.ITALIC
    assert style_of("/Times-BoldItalic") is Style.BOLD_ITALIC
    assert style_of("/ABCDEF+Arial,Bold") is Style.BOLD
    assert style_of("/Helvetica-Oblique") is Style.ITALIC
    assert style_of("/CVIIZX+LiberationSerif-Identity-H") is Style.REGULAR
