"""Finding anchor text and the box 7c rectangle on real PDFs."""

from __future__ import annotations

import functools
import unicodedata
from io import BytesIO

import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

from signing.anchor import AnchorNotFound, Box, TextHit, find_text, signature_box_between
from signing.dev.assets import SampleLayout, make_sample_cong_van_with_layout

A4_WIDTH = 595.28
NAME = "Nguyễn Thị Hương Giang"
POSITION = "PHÓ GIÁM ĐỐC"


@functools.cache
def _sample(pages: int = 1) -> tuple[bytes, SampleLayout]:
    return make_sample_cong_van_with_layout(pages=pages)


def _only(hits: list[TextHit]) -> TextHit:
    assert len(hits) == 1, hits
    return hits[0]


def _close(hit: TextHit, box: Box, tolerance: float = 1.0) -> bool:
    return hit.page == box.page and all(
        abs(a - b) <= tolerance
        for a, b in ((hit.x0, box.x0), (hit.x1, box.x1), (hit.y0, box.y0), (hit.y1, box.y1))
    )


def _simple_pdf(content: bytes, *, widths: dict[str, int] | None = None) -> bytes:
    """One A4 page with Helvetica (a simple font), optionally with a /Widths array."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=A4_WIDTH, height=841.89)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    if widths is not None:
        font[NameObject("/FirstChar")] = NumberObject(32)
        font[NameObject("/LastChar")] = NumberObject(126)
        font[NameObject("/Widths")] = ArrayObject(
            NumberObject(widths.get(chr(code), 500)) for code in range(32, 127)
        )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------- find_text


def test_finds_the_signature_block_where_it_was_drawn() -> None:
    pdf, layout = _sample()
    name = _only(find_text(pdf, NAME))
    position = _only(find_text(pdf, POSITION))
    assert name.text == NAME and position.text == POSITION
    assert _close(name, layout.signer_name)
    assert _close(position, layout.position_line)
    # The name is under the position line, both on the right-hand half of the page.
    assert name.y1 < position.y0
    assert min(name.x0, position.x0) > A4_WIDTH / 2
    assert name.y1 - name.y0 == pytest.approx(14, abs=0.01)


def test_finds_number_and_date_labels_next_to_their_blanks() -> None:
    pdf, layout = _sample()
    number = _only(find_text(pdf, "Số:"))
    assert number.x1 == pytest.approx(layout.number_blank.x0, abs=1)
    assert number.y0 == pytest.approx(layout.number_blank.y0, abs=0.01)
    suffix = _only(find_text(pdf, "/STTTT-VP"))
    assert suffix.x0 == pytest.approx(layout.number_blank.x1, abs=0.01)
    day = _only(find_text(pdf, "Thái Bình, ngày"))
    assert day.x1 == pytest.approx(layout.day_blank.x0, abs=1)
    month = [h for h in find_text(pdf, "tháng") if h.y0 == pytest.approx(day.y0)]
    assert _only(month).x0 == pytest.approx(layout.day_blank.x1, abs=0.01)


def test_matching_is_nfc_and_whitespace_tolerant_but_case_sensitive() -> None:
    pdf, _ = _sample()
    expected = _only(find_text(pdf, NAME))
    decomposed = unicodedata.normalize("NFD", NAME)
    assert find_text(pdf, decomposed) == [expected]
    assert find_text(pdf, "  Nguyễn   Thị\nHương Giang ") == [expected]
    assert find_text(pdf, NAME.upper()) == []
    assert find_text(pdf, "Nguyễn Thị Hương Giang Trần") == []


def test_partial_match_inside_a_line() -> None:
    pdf, _ = _sample()
    whole = _only(find_text(pdf, NAME))
    part = _only(find_text(pdf, "Hương"))
    assert whole.x0 < part.x0 < part.x1 < whole.x1
    assert part.y0 == whole.y0
    assert part.text == "Hương"


def test_repeated_text_gives_every_hit_top_down() -> None:
    pdf, _ = _sample()
    hits = find_text(pdf, "Sở Thông tin và Truyền thông")
    assert len(hits) >= 3
    assert [h.y0 for h in hits] == sorted((h.y0 for h in hits), reverse=True)


def test_not_found_is_an_empty_list() -> None:
    pdf, _ = _sample()
    assert find_text(pdf, "Không có dòng này") == []
    with pytest.raises(ValueError, match="non-whitespace"):
        find_text(pdf, "  ")


def test_page_filter_and_file_objects() -> None:
    pdf, layout = _sample(3)
    assert find_text(pdf, NAME, page=0) == []
    hit = _only(find_text(BytesIO(pdf), NAME, page=2))
    assert hit.page == 2
    assert _close(hit, layout.signer_name)


def test_simple_font_widths_and_the_ctm() -> None:
    helvetica = {"H": 722, "e": 556, "l": 222, "o": 556, " ": 278, "W": 944, "r": 333, "d": 556}
    pdf = _simple_pdf(
        b"q 2 0 0 2 10 20 cm BT /F1 12 Tf 50 300 Td (Hello World) Tj ET Q", widths=helvetica
    )
    hello = _only(find_text(pdf, "Hello"))
    assert hello.x0 == pytest.approx(10 + 2 * 50)
    assert hello.y0 == pytest.approx(20 + 2 * 300)
    assert hello.y1 - hello.y0 == pytest.approx(24)
    assert hello.x1 - hello.x0 == pytest.approx(2 * 12 * (722 + 556 + 222 + 222 + 556) / 1000)
    world = _only(find_text(pdf, "World"))
    assert world.x0 == pytest.approx(hello.x1 + 2 * 12 * 0.278)


def test_font_without_widths_is_estimated() -> None:
    pdf = _simple_pdf(b"BT /F1 10 Tf 100 500 Td (Anchor here) Tj ET")
    hit = _only(find_text(pdf, "here"))
    assert hit.y0 == pytest.approx(500)
    assert 100 < hit.x0 < hit.x1 < 100 + 11 * 10


# --------------------------------------------------------------------------- the box


def test_signature_box_sits_in_box_7c() -> None:
    pdf, layout = _sample()
    box = signature_box_between(pdf, POSITION, NAME, width=120, height=60)
    assert box.page == 0
    assert box.width == pytest.approx(120) and box.height == pytest.approx(60)
    gap = layout.signature_box
    name = layout.signer_name
    assert gap.y0 < box.y0 < box.y1 < gap.y1
    assert (box.x0 + box.x1) / 2 == pytest.approx((name.x0 + name.x1) / 2, abs=1)
    assert (box.y0 + box.y1) / 2 == pytest.approx((gap.y0 + gap.y1) / 2, abs=1)


def test_signature_box_on_the_last_page() -> None:
    pdf, layout = _sample(3)
    box = signature_box_between(pdf, POSITION, NAME, width=150, height=75)
    assert box.page == 2 == layout.signature_box.page
    assert layout.signature_box.y0 < box.y0 < box.y1 < layout.signature_box.y1


def test_missing_anchor_raises_with_the_needle() -> None:
    pdf, _ = _sample()
    with pytest.raises(AnchorNotFound) as caught:
        signature_box_between(pdf, "CHỦ TỊCH", NAME, width=100, height=50)
    assert caught.value.needle == "CHỦ TỊCH"
    assert isinstance(caught.value, ValueError)
    assert "CHỦ TỊCH" in str(caught.value)
    with pytest.raises(AnchorNotFound) as caught:
        signature_box_between(pdf, POSITION, "Trần Văn Bình", width=100, height=50)
    assert caught.value.needle == "Trần Văn Bình"


def test_anchors_in_the_wrong_order_are_not_a_gap() -> None:
    pdf, _ = _sample()
    with pytest.raises(AnchorNotFound, match="below"):
        signature_box_between(pdf, NAME, POSITION, width=100, height=50)


def test_signature_box_needs_a_positive_size() -> None:
    pdf, _ = _sample()
    with pytest.raises(ValueError, match="positive"):
        signature_box_between(pdf, POSITION, NAME, width=0, height=50)
