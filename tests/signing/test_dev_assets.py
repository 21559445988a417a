"""Development artwork and the sample công văn: images, PDF structure, fonts, rendering."""

from __future__ import annotations

import functools
import subprocess
import unicodedata
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from signing.anchor import Box, find_text
from signing.dev.assets import (
    SampleDocument,
    SampleLayout,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
    make_sample_cong_van_with_layout,
)

MM = 72 / 25.4
A4 = (595.28, 841.89)
SEAL_TEXT = "ỦY BAN NHÂN DÂN TỈNH THÁI BÌNH"


@functools.cache
def _sample(pages: int = 1) -> tuple[bytes, SampleLayout]:
    return make_sample_cong_van_with_layout(pages=pages)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _flat(text: str) -> str:
    return " ".join(_nfc(text).split())


def _image(png: bytes) -> Image.Image:
    image = Image.open(BytesIO(png))
    assert image.format == "PNG"
    return image


def _ink(image: Image.Image) -> list[tuple[int, int, int, int]]:
    pixels = image.get_flattened_data()
    return [p for p in pixels if p[3] >= 200]


def _corners_transparent(image: Image.Image) -> bool:
    w, h = image.size
    corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (2, 2), (w - 3, h - 3)]
    return all(image.getpixel(xy)[3] == 0 for xy in corners)


# --------------------------------------------------------------------------- signature


def test_signature_is_blue_on_transparent_rgba() -> None:
    image = _image(draw_signature_png("Nguyễn Thị Hương Giang"))
    assert image.mode == "RGBA"
    assert image.size == (600, 240)
    assert _corners_transparent(image)
    ink = _ink(image)
    assert len(ink) > 0.02 * 600 * 240, "the stroke should be thick enough to see"
    blue = [p for p in ink if p[2] > p[0] + 100 and p[2] > p[1] + 80]
    assert len(blue) / len(ink) > 0.95


def test_signature_has_soft_antialiased_edges() -> None:
    image = _image(draw_signature_png("Nguyễn Thị Hương Giang"))
    alphas = {p[3] for p in image.get_flattened_data()}
    assert len(alphas) > 50


def test_signature_is_deterministic_per_name() -> None:
    first = draw_signature_png("Nguyễn Thị Hương Giang")
    assert first == draw_signature_png("Nguyễn Thị Hương Giang")
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hương Giang")
    assert first == draw_signature_png(decomposed)
    assert first != draw_signature_png("Trần Văn Bình")


def test_signature_size_is_configurable() -> None:
    image = _image(draw_signature_png("Trần Văn Bình", width_px=300, height_px=120))
    assert image.size == (300, 120)
    with pytest.raises(ValueError, match="positive"):
        draw_signature_png("Trần Văn Bình", width_px=0)


# --------------------------------------------------------------------------- seal


def test_seal_is_red_round_and_transparent() -> None:
    image = _image(draw_seal_png(SEAL_TEXT))
    assert image.mode == "RGBA"
    assert image.size == (600, 600)
    assert _corners_transparent(image)
    ink = _ink(image)
    red = [p for p in ink if p[0] > p[1] + 120 and p[0] > p[2] + 120]
    assert len(red) / len(ink) > 0.95
    # The outer ring at the top and bottom, the star in the centre.
    assert image.getpixel((300, 15))[3] > 200
    assert image.getpixel((300, 585))[3] > 200
    assert image.getpixel((300, 300))[3] > 200


def test_seal_nothing_outside_the_circle() -> None:
    image = _image(draw_seal_png(SEAL_TEXT, diameter_px=300))
    assert image.size == (300, 300)
    alpha = image.getchannel("A")
    for y in range(300):
        for x in range(300):
            if (x - 149.5) ** 2 + (y - 149.5) ** 2 > 151**2:
                assert alpha.getpixel((x, y)) == 0


def test_seal_text_is_uppercased_and_diacritics_are_drawn() -> None:
    assert draw_seal_png(SEAL_TEXT) == draw_seal_png(SEAL_TEXT.lower())
    with_marks = len(_ink(_image(draw_seal_png(SEAL_TEXT))))
    without = len(_ink(_image(draw_seal_png("UY BAN NHAN DAN TINH THAI BINH"))))
    assert with_marks > without


def test_seal_is_deterministic_and_takes_centre_text() -> None:
    plain = draw_seal_png(SEAL_TEXT)
    assert plain == draw_seal_png(SEAL_TEXT)
    assert plain != draw_seal_png(SEAL_TEXT, centre_text="Văn phòng")
    with pytest.raises(ValueError, match="positive"):
        draw_seal_png(SEAL_TEXT, diameter_px=-1)


# --------------------------------------------------------------------------- sample PDF


def test_sample_is_a4_and_opens() -> None:
    pdf, layout = _sample()
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == layout.page_count == 1
    box = reader.pages[0].mediabox
    assert float(box.left) == 0 and float(box.bottom) == 0
    assert abs(float(box.width) - A4[0]) < 0.5
    assert abs(float(box.height) - A4[1]) < 0.5
    assert make_sample_cong_van()[:8].startswith(b"%PDF-1.")


def test_sample_text_extracts_as_vietnamese() -> None:
    pdf, _ = _sample()
    doc = SampleDocument()
    text = _nfc(PdfReader(BytesIO(pdf)).pages[0].extract_text())
    lines = [line.strip() for line in text.splitlines()]
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH THÁI BÌNH",
        "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Nguyễn Thị Hương Giang",
        "Nơi nhận:",
        "- Lưu: VT, VP.",
    ):
        assert expected in lines
    flat = _flat(text)
    for expected in (
        "Số: /STTTT-VP",
        "Thái Bình, ngày tháng năm 2026",
        "V/v triển khai hệ thống liên thông văn bản điện tử",
        "Kính gửi: - Các sở, ban, ngành tỉnh;",
        "- Ủy ban nhân dân các huyện, thành phố.",
        *doc.body,
    ):
        assert _flat(expected) in flat


def test_sample_embeds_liberation_serif() -> None:
    pdf, _ = _sample()
    reader = PdfReader(BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        font = font.get_object()
        assert "/ToUnicode" in font
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()


def test_pdffonts_reports_embedded_liberation_fonts(tmp_path: Path) -> None:
    pdf, _ = _sample()
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    rows = [line.split() for line in result.stdout.splitlines()[2:] if line.strip()]
    by_name = {row[0].split("+", 1)[-1]: row for row in rows}
    for style in ("LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"):
        row = by_name[f"{style}-Identity-H"]
        # columns after the name: type (2 words), encoding, emb, sub, uni
        assert row[-5:-2] == ["yes", "yes", "yes"], row
    assert result.stderr == ""


def test_pdftoppm_renders_and_box_7c_is_empty(tmp_path: Path) -> None:
    pdf, layout = _sample()
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
    image = Image.open(tmp_path / "page-1.png").convert("L")
    assert abs(image.width - A4[0] * 50 / 72) <= 1
    assert abs(image.height - A4[1] * 50 / 72) <= 1

    def region(box: Box) -> Image.Image:
        scale = 50 / 72
        top = image.height - box.y1 * scale
        bottom = image.height - box.y0 * scale
        return image.crop((int(box.x0 * scale), int(top), int(box.x1 * scale), int(bottom)))

    # The signer's name has ink; box 7c above it is blank paper.
    assert min(region(layout.signer_name).get_flattened_data()) < 100
    gap = layout.signature_box
    inner = Box(page=0, x0=gap.x0 + 2, y0=gap.y0 + 2, x1=gap.x1 - 2, y1=gap.y1 - 2)
    assert min(region(inner).get_flattened_data()) > 245


def test_layout_boxes_are_where_decree_30_puts_them() -> None:
    _, layout = _sample()
    gap, name, position = layout.signature_box, layout.signer_name, layout.position_line
    # Box 7c: about 30 mm between the position line and the name, on the right-hand side.
    assert 28 * MM < gap.height < 32 * MM
    assert gap.y0 == pytest.approx(name.y1)
    assert gap.y1 == pytest.approx(position.y0)
    assert gap.x0 > A4[0] / 2 - 60 and gap.x1 <= A4[0] - 15 * MM + 0.01
    assert (name.x0 + name.x1) / 2 == pytest.approx((gap.x0 + gap.x1) / 2, abs=0.5)
    # The number and date blanks sit on one baseline in the top quarter of page 1.
    blanks = (layout.number_blank, layout.day_blank, layout.month_blank)
    assert {b.page for b in blanks} == {0}
    assert len({round(b.y0, 3) for b in blanks}) == 1
    assert all(b.y0 > A4[1] * 0.75 for b in blanks)
    assert layout.number_blank.x1 < A4[0] / 2 < layout.day_blank.x0 < layout.month_blank.x0
    assert all(b.width > 6 * MM for b in blanks)


def test_text_stays_inside_the_margins() -> None:
    pdf, _ = _sample(3)
    reader = PdfReader(BytesIO(pdf))
    for index, page in enumerate(reader.pages):
        origins: list[tuple[float, float, str]] = []

        def visit(
            text: object,
            cm: object,
            tm: list[float],
            *_: object,
            into: list[tuple[float, float, str]] = origins,
        ) -> None:
            if isinstance(text, str) and text.strip():
                into.append((tm[4], tm[5], text))

        page.extract_text(visitor_text=visit)
        assert origins
        for x, y, text in origins:
            page_number = text.strip() == str(index + 1)
            assert x >= 30 * MM - 0.01, text
            assert y >= 20 * MM - 0.01, text
            if not page_number:
                assert y <= A4[1] - 20 * MM, text


def test_more_pages_number_pages_two_onwards() -> None:
    pdf, layout = _sample(3)
    assert layout.page_count == 3
    assert layout.signature_box.page == layout.signer_name.page == 2
    assert layout.number_blank.page == 0
    top_margin = A4[1] - 20 * MM
    for index in (1, 2):
        hits = [h for h in find_text(pdf, str(index + 1), page=index) if h.y0 > top_margin]
        assert len(hits) == 1
        assert (hits[0].x0 + hits[0].x1) / 2 == pytest.approx((30 + 195) / 2 * MM, abs=2)
    assert not [h for h in find_text(pdf, "1", page=0) if h.y0 > top_margin]


def test_custom_document() -> None:
    doc = SampleDocument(
        agency_parent="BỘ NỘI VỤ",
        agency="CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC",
        notation_suffix="VTLTNN-NVĐP",
        place="Hà Nội",
        recipients=("Sở Nội vụ các tỉnh, thành phố",),
        authority="TL. CỤC TRƯỞNG",
        position="TRƯỞNG PHÒNG",
        signer_name="Đặng Quốc Việt",
    )
    pdf, layout = make_sample_cong_van_with_layout(doc)
    text = _flat(PdfReader(BytesIO(pdf)).pages[0].extract_text())
    for expected in ("BỘ NỘI VỤ", "/VTLTNN-NVĐP", "Hà Nội, ngày", "Đặng Quốc Việt"):
        assert expected in text
    assert "Kính gửi: Sở Nội vụ các tỉnh, thành phố" in text
    assert layout.page_count == 1


def test_pages_must_be_positive() -> None:
    with pytest.raises(ValueError, match="pages"):
        make_sample_cong_van(pages=0)
