"""Development-only artwork and a sample công văn for tests and demos.

Nothing here is fit for production: the signature is a synthetic scribble derived from a
name (it is no real person's signature), the seal is a generic drawing (no real agency's
seal), and the sample document only imitates the Decree 30/2020/NĐ-CP App. I layout.
Real signature and seal images come from the agency, never from this module.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from signing.anchor import Box
from signing.fonts import Style, font_path, font_program
from signing.mode import development_part
from validation import DevelopmentModeWarning

__all__ = [
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "SEAL_RED",
    "SIGNATURE_BLUE",
    "DevAssetsWarning",
    "SampleDocument",
    "SampleLayout",
    "draw_seal_png",
    "draw_signature_png",
    "make_sample_cong_van",
    "make_sample_cong_van_with_layout",
]


class DevAssetsWarning(DevelopmentModeWarning):
    """Synthetic artwork or the sample document: no real signature, seal or công văn."""


def _warn(what_en: str, what_vi: str) -> None:
    development_part(DevAssetsWarning, what_en, what_vi, stacklevel=4)


SIGNATURE_BLUE = (0, 51, 170)
SEAL_RED = (210, 20, 20)

_MM = 72 / 25.4
PAGE_WIDTH = 210 * _MM
PAGE_HEIGHT = 297 * _MM
MARGIN_TOP = 20 * _MM
MARGIN_BOTTOM = 20 * _MM
MARGIN_LEFT = 30 * _MM
MARGIN_RIGHT = 15 * _MM
SIGNATURE_GAP = 30 * _MM
"""Height of box 7c: from the position line's baseline down to the top of the name line."""

_SUPERSAMPLE = 4


# --------------------------------------------------------------------------- images


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _colourise(mask: Image.Image, rgb: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    """Downsample a supersampled coverage mask and paint it in one ink colour."""
    alpha = mask.resize(size, Image.Resampling.LANCZOS)
    image = Image.new("RGBA", size, (*rgb, 0))
    image.putalpha(alpha)
    return _png(image)


def _seeded(text: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed)  # noqa: S311 - artwork, not cryptography


def _catmull_rom(points: Sequence[tuple[float, float]], steps: int) -> list[tuple[float, float]]:
    """Sample a smooth curve through ``points``."""

    def blend(a: float, b: float, c: float, d: float, t: float) -> float:
        return 0.5 * (
            2 * b
            + (c - a) * t
            + (2 * a - 5 * b + 4 * c - d) * t * t
            + (3 * b - a - 3 * c + d) * t * t * t
        )

    padded = [points[0], *points, points[-1]]
    out: list[tuple[float, float]] = []
    for i in range(1, len(padded) - 2):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = padded[i - 1 : i + 3]
        for s in range(steps):
            t = s / steps
            out.append((blend(ax, bx, cx, dx, t), blend(ay, by, cy, dy, t)))
    out.append(points[-1])
    return out


def _signature_strokes(name: str, rng: random.Random) -> list[list[tuple[float, float]]]:
    """Control points (unit square, y down) of a scribble shaped after ``name``."""
    words = unicodedata.normalize("NFC", name).split() or ["X"]
    last = words[-1]

    def jitter(v: float, amount: float = 0.02) -> float:
        return v + rng.uniform(-amount, amount)

    # One tall looped capital per initial (at most two), then the last name as a running hand.
    main: list[tuple[float, float]] = [(0.0, jitter(0.60))]
    x = 0.03
    for _ in words[-2:] if len(words) > 1 else words:
        main += [
            (jitter(x + 0.05), jitter(0.08, 0.03)),
            (jitter(x + 0.02), jitter(0.80)),
            (jitter(x - 0.02), jitter(0.55)),
            (jitter(x + 0.10), jitter(0.42)),
        ]
        x += 0.15
    for ch in last[1:]:
        if ch.lower() in "bdfhklt":  # ascender: a loop
            main += [(x + 0.035, jitter(0.12, 0.04)), (x + 0.01, jitter(0.18)), (x + 0.03, 0.66)]
            x += 0.06
        elif ch.lower() in "gjpqy":  # descender: a loop below
            main += [(x + 0.02, jitter(0.48)), (x + 0.035, jitter(0.92, 0.03)), (x + 0.05, 0.6)]
            x += 0.06
        else:  # a hump
            main += [(x + 0.015, jitter(0.45, 0.05)), (x + 0.035, jitter(0.66, 0.03))]
            x += 0.045 + rng.uniform(0.0, 0.015)
    # The flourish: up, back under the name, and out to the right.
    main += [
        (x + 0.05, jitter(0.30)),
        (x - 0.06, jitter(0.84)),
        (0.35 * x, jitter(0.90, 0.03)),
        (0.22 * x, jitter(0.82)),
        (x + 0.20, jitter(0.72)),
    ]
    # Fit the scribble to the width of the image.
    lo = min(p[0] for p in main)
    hi = max(p[0] for p in main)
    main = [(0.05 + 0.90 * (px - lo) / (hi - lo), min(max(py, 0.05), 0.95)) for px, py in main]
    tick_x = rng.uniform(0.40, 0.60)
    tick = [(tick_x, jitter(0.20)), (tick_x + 0.06, jitter(0.14)), (tick_x + 0.12, jitter(0.17))]
    return [main, tick]


def draw_signature_png(name: str, *, width_px: int = 600, height_px: int = 240) -> bytes:
    """Blue, transparent PNG of a handwritten-looking scribble; the same name gives the same image.

    The scribble is synthetic (development only): it is no real person's signature.
    """
    if width_px <= 0 or height_px <= 0:
        raise ValueError("image size must be positive")
    _warn(
        "drawing a synthetic signature image (development only)",
        "đang vẽ ảnh chữ ký giả (chỉ để thử nghiệm)",
    )
    rng = _seeded("signature:" + unicodedata.normalize("NFC", name))
    big_w, big_h = width_px * _SUPERSAMPLE, height_px * _SUPERSAMPLE
    mask = Image.new("L", (big_w, big_h), 0)
    draw = ImageDraw.Draw(mask)
    pen = max(2.0, 0.030 * big_h)
    for stroke in _signature_strokes(name, rng):
        path = _catmull_rom(stroke, 24)
        n = len(path)
        for i, ((x0, y0), (x1, y1)) in enumerate(itertools.pairwise(path)):
            # Pen pressure: thin at both ends, swelling in between.
            t = i / max(n - 2, 1)
            pressure = 0.4 + 0.6 * math.sin(math.pi * t) ** 0.5
            w = pen * pressure * (0.9 + 0.2 * math.sin(3 * math.pi * t))
            a = (x0 * big_w, y0 * big_h)
            b = (x1 * big_w, y1 * big_h)
            draw.line([a, b], fill=255, width=max(1, round(w)))
            r = w / 2
            draw.ellipse([b[0] - r, b[1] - r, b[0] + r, b[1] + r], fill=255)
    return _colourise(mask, SIGNATURE_BLUE, (width_px, height_px))


def _star(cx: float, cy: float, r_outer: float, rotation: float = 0.0) -> list[tuple[float, float]]:
    r_inner = r_outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = r_outer if i % 2 == 0 else r_inner
        angle = rotation + math.pi * i / 5
        points.append((cx + r * math.sin(angle), cy - r * math.cos(angle)))
    return points


def _ring(draw: ImageDraw.ImageDraw, c: float, radius: float, width: float) -> None:
    draw.ellipse([c - radius, c - radius, c + radius, c + radius], outline=255, width=round(width))


def draw_seal_png(agency_name: str, *, diameter_px: int = 600, centre_text: str = "") -> bytes:
    """Red, transparent PNG of a round seal with ``agency_name`` (uppercased) around the rim.

    A generic drawing for development only, with a star (and ``centre_text``) in the middle.
    """
    if diameter_px <= 0:
        raise ValueError("diameter must be positive")
    _warn(
        "drawing a synthetic seal image (development only)",
        "đang vẽ ảnh con dấu giả (chỉ để thử nghiệm)",
    )
    text = unicodedata.normalize("NFC", agency_name).upper().strip()
    big = diameter_px * _SUPERSAMPLE
    c = big / 2
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)

    outer = big * 0.485
    _ring(draw, c, outer, big * 0.030)
    _ring(draw, c, outer - big * 0.050, big * 0.008)
    inner = big * 0.300
    _ring(draw, c, inner, big * 0.008)

    # Rim text: baseline on a circle inside the band, glyph tops pointing outwards.
    band_outer = outer - big * 0.062
    bold_path = str(font_path(Style.BOLD))
    size = round(big * 0.080)
    font = ImageFont.truetype(bold_path, size)
    baseline_r = band_outer - size * 0.92
    span = math.radians(290)
    tracking = size * 0.08
    advances = [font.getlength(ch) + tracking for ch in text]
    total = sum(advances)
    if total > span * baseline_r:
        size = max(8, int(size * span * baseline_r / total))
        font = ImageFont.truetype(bold_path, size)
        baseline_r = band_outer - size * 0.92
        advances = [font.getlength(ch) + size * 0.08 for ch in text]
        total = sum(advances)
    angle = -total / baseline_r / 2
    cell = size * 3
    for ch, adv in zip(text, advances, strict=True):
        mid = angle + adv / 2 / baseline_r
        angle += adv / baseline_r
        if ch.isspace():
            continue
        glyph = Image.new("L", (cell, cell), 0)
        ImageDraw.Draw(glyph).text((cell / 2, cell / 2), ch, font=font, fill=255, anchor="ms")
        glyph = glyph.rotate(-math.degrees(mid), resample=Image.Resampling.BICUBIC)
        gx = c + baseline_r * math.sin(mid) - cell / 2
        gy = c - baseline_r * math.cos(mid) - cell / 2
        mask.paste(255, (round(gx), round(gy)), glyph)

    # A small star closes the gap at the bottom of the rim.
    small_r = (band_outer - inner) * 0.30
    draw.polygon(_star(c, c + (band_outer + inner) / 2 - small_r * 0.05, small_r), fill=255)

    star_r = inner * 0.52
    star_cy = c - inner * (0.12 if centre_text else 0.0)
    draw.polygon(_star(c, star_cy, star_r), fill=255)
    if centre_text:
        label = unicodedata.normalize("NFC", centre_text).upper()
        label_size = round(big * 0.05)
        label_font = ImageFont.truetype(bold_path, label_size)
        while label_font.getlength(label) > inner * 1.6 and label_size > 8:
            label_size -= 2
            label_font = ImageFont.truetype(bold_path, label_size)
        draw.text((c, c + inner * 0.62), label, font=label_font, fill=255, anchor="ms")
    return _colourise(mask, SEAL_RED, (diameter_px, diameter_px))


# --------------------------------------------------------------------------- the document


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleDocument:
    """The contents of a sample công văn (Decree 30 App. I, form 1.4)."""

    agency_parent: str = "UBND TỈNH THÁI BÌNH"
    """Box 2, first line: the body the issuing agency belongs to."""
    agency: str = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    """Box 2, second line (bold): the issuing agency."""
    notation_suffix: str = "STTTT-VP"
    """Box 3: the ký hiệu after the blank number, as in ``Số:      /STTTT-VP``."""
    place: str = "Thái Bình"
    """Box 4: the place name before the date."""
    year: int = 2026
    """Box 4: the year; day and month are left blank for the văn thư's system."""
    subject: str = "V/v triển khai hệ thống liên thông văn bản điện tử"
    """Box 5b: trích yếu."""
    recipients: tuple[str, ...] = (
        "Các sở, ban, ngành tỉnh",
        "Ủy ban nhân dân các huyện, thành phố",
    )
    """Box 9a: the ``Kính gửi`` list, without trailing punctuation."""
    body: tuple[str, ...] = (
        "Thực hiện Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công "
        "tác văn thư, Sở Thông tin và Truyền thông đề nghị các cơ quan, đơn vị triển khai hệ "
        "thống liên thông văn bản điện tử với những nội dung sau:",
        "1. Kể từ ngày 01 tháng 7 năm 2026, văn bản điện tử gửi, nhận giữa các cơ quan, đơn vị "
        "phải được ký số bởi người có thẩm quyền và ký số của cơ quan, tổ chức theo đúng thể "
        "thức, kỹ thuật trình bày quy định tại Phụ lục I Nghị định số 30/2020/NĐ-CP.",
        "2. Các đơn vị rà soát, cập nhật chứng thư chữ ký số cho lãnh đạo và văn thư; bảo đảm "
        "thiết bị ký số hoạt động ổn định, kết nối thông suốt với Trục liên thông văn bản "
        "quốc gia.",
        "3. Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị phản ánh về Sở "
        "Thông tin và Truyền thông (qua Văn phòng Sở) để được hướng dẫn, giải quyết kịp thời.",
        "Sở Thông tin và Truyền thông đề nghị các cơ quan, đơn vị quan tâm, phối hợp thực hiện./.",
    )
    """Box 6: the paragraphs of the body."""
    authority: str = "KT. GIÁM ĐỐC"
    """Box 7a, first line: the signing authority (TM./KT./Q./TL./TUQ.)."""
    position: str = "PHÓ GIÁM ĐỐC"
    """Box 7a, second line: the signer's position."""
    signer_name: str = "Nguyễn Thị Hương Giang"
    """Box 7b: the signer's full name."""
    copies_to: tuple[str, ...] = ("Như trên", "Giám đốc Sở (để b/c)", "Lưu: VT, VP")
    """Box 9b: the ``Nơi nhận`` list, without trailing punctuation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleLayout:
    """Where things landed in a sample document (PDF points, origin bottom left).

    Text boxes follow the convention of :mod:`signing.anchor`: ``y0`` is the baseline and
    ``y1`` is the baseline plus the font size.
    """

    page_count: int
    """Number of pages."""
    signature_box: Box
    """Box 7c: the signature block's column between the position line and the name."""
    number_blank: Box
    """The blank between ``Số:`` and ``/ký hiệu`` (box 3)."""
    day_blank: Box
    """The blank after ``ngày`` (box 4)."""
    month_blank: Box
    """The blank after ``tháng`` (box 4)."""
    number_font_size: float
    """Font size of box 3, for filling in the number."""
    date_font_size: float
    """Font size of box 4, for filling in the date."""
    position_line: Box
    """The position line (second line of box 7a)."""
    signer_name: Box
    """The signer's name (box 7b)."""


_RESOURCE_NAMES = {
    Style.REGULAR: "/F1",
    Style.BOLD: "/F2",
    Style.ITALIC: "/F3",
    Style.BOLD_ITALIC: "/F4",
}

# Latin, Vietnamese (precomposed and combining), general punctuation.
_HEX_STRING = re.compile(rb"<([0-9a-fA-F]+)>")
_TRAILING_TD = re.compile(rb"\s+-?[0-9.]+ -?[0-9.]+ Td\s*$")


class _Typesetter:
    """Shapes text with pyHanko's glyph accumulators and collects page content streams."""

    def __init__(self, writer: PdfFileWriter) -> None:
        self._engines: dict[Style, GlyphAccumulator] = {}
        self._space_cids: dict[Style, int] = {}
        for style in Style:
            engine = GlyphAccumulator(writer, BytesIO(font_program(style)), font_size=13)
            tt = engine.tt
            self._space_cids[style] = int(tt.getGlyphID(tt.getBestCmap()[0x20]))
            self._engines[style] = engine
        self._widths: dict[tuple[Style, str], float] = {}
        self.pages: list[list[bytes]] = []

    def font_resources(self) -> generic.DictionaryObject:
        return generic.DictionaryObject(
            {
                generic.NameObject(_RESOURCE_NAMES[style]): engine.as_resource()
                for style, engine in self._engines.items()
            }
        )

    def width(self, text: str, style: Style, size: float) -> float:
        """Advance width of ``text`` in points."""
        key = (style, text)
        em = self._widths.get(key)
        if em is None:
            em = float(self._engines[style].shape(text, with_actual_text=False).x_advance)
            self._widths[key] = em
        return em * size

    def new_page(self) -> int:
        self.pages.append([])
        return len(self.pages) - 1

    def text(
        self,
        page: int,
        x: float,
        baseline: float,
        text: str,
        style: Style,
        size: float,
        *,
        justify_to: float | None = None,
    ) -> Box:
        """Show one line of text; returns its box (baseline to baseline + size)."""
        text = unicodedata.normalize("NFC", text)
        shaped = self._engines[style].shape(text, with_actual_text=False)
        ops: bytes = shaped.graphics_ops
        ops = _TRAILING_TD.sub(b"", ops)
        natural = float(shaped.x_advance) * size
        width = natural
        spaces = text.count(" ")
        if justify_to is not None and spaces and ops.startswith(b"[") and justify_to > natural:
            extra = (justify_to - natural) / spaces
            ops = _spread_spaces(ops, self._space_cids[style], extra / size * 1000)
            width = justify_to
        self.pages[page].append(
            b"BT %s %g Tf 1 0 0 1 %.3f %.3f Tm %s ET"
            % (_RESOURCE_NAMES[style].encode(), size, x, baseline, ops)
        )
        return Box(page=page, x0=x, y0=baseline, x1=x + width, y1=baseline + size)

    def centred(
        self, page: int, centre: float, baseline: float, text: str, style: Style, size: float
    ) -> Box:
        return self.text(
            page, centre - self.width(text, style, size) / 2, baseline, text, style, size
        )

    def rule(self, page: int, x0: float, x1: float, y: float, thickness: float = 0.6) -> None:
        self.pages[page].append(
            b"q 0 G %g w %.3f %.3f m %.3f %.3f l S Q" % (thickness, x0, y, x1, y)
        )


def _spread_spaces(ops: bytes, space_cid: int, adjust: float) -> bytes:
    """Widen every space glyph in a ``TJ`` array by ``adjust`` thousandths of an em."""
    space = b"%04x" % space_cid

    def split(match: re.Match[bytes]) -> bytes:
        hexes = match.group(1).lower()
        parts: list[bytes] = []
        current = b""
        for i in range(0, len(hexes), 4):
            cid = hexes[i : i + 4]
            current += cid
            if cid == space:
                parts.append(b"<%s> %.2f" % (current, -adjust))
                current = b""
        if current:
            parts.append(b"<%s>" % current)
        return b" ".join(parts)

    return _HEX_STRING.sub(split, ops)


def _wrap(
    ts: _Typesetter, text: str, style: Style, size: float, width: float, first_indent: float = 0.0
) -> list[str]:
    """Greedy line breaking at spaces."""
    space = ts.width(" ", style, size)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in unicodedata.normalize("NFC", text).split():
        w = ts.width(word, style, size)
        avail = width - (first_indent if not lines else 0.0)
        if current and used + space + w > avail:
            lines.append(" ".join(current))
            current, used = [word], w
        else:
            used += (space if current else 0.0) + w
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def _balanced_wrap(
    ts: _Typesetter, text: str, style: Style, size: float, width: float
) -> list[str]:
    """Wrap into as few lines as :func:`_wrap`, but with lines of similar length."""
    lines = _wrap(ts, text, style, size, width)
    lo, hi = width / (len(lines) + 1), width
    while hi - lo > 1:
        mid = (lo + hi) / 2
        if len(_wrap(ts, text, style, size, mid)) > len(lines):
            lo = mid
        else:
            hi = mid
    return _wrap(ts, text, style, size, hi)


_FILLER = (
    "Nội dung bổ sung số {n}: các cơ quan, đơn vị chủ động rà soát quy trình tiếp nhận, xử lý "
    "văn bản đến và văn bản đi trên môi trường điện tử; cập nhật danh mục hồ sơ điện tử; phân "
    "công cán bộ đầu mối theo dõi, đôn đốc, tổng hợp kết quả thực hiện và báo cáo định kỳ hằng "
    "quý về Sở Thông tin và Truyền thông trước ngày 20 của tháng cuối quý để tổng hợp, báo cáo "
    "Ủy ban nhân dân tỉnh theo quy định."
)

_BODY_SIZE = 14.0
_BODY_LEADING = 18.0
_PARAGRAPH_GAP = 6.0
_INDENT = 12.7 * _MM


class _Flow:
    """A cursor flowing down the text area, breaking pages as needed."""

    def __init__(self, ts: _Typesetter) -> None:
        self.ts = ts
        self.page = ts.new_page()
        self.top = PAGE_HEIGHT - MARGIN_TOP

    def break_page(self) -> None:
        self.page = self.ts.new_page()
        self.top = PAGE_HEIGHT - MARGIN_TOP
        number = str(self.page + 1)
        baseline = PAGE_HEIGHT - MARGIN_TOP / 2 - _BODY_SIZE / 3
        self.ts.centred(self.page, _text_centre(), baseline, number, Style.REGULAR, _BODY_SIZE)

    def room(self) -> float:
        return self.top - MARGIN_BOTTOM

    def paragraph(self, text: str) -> None:
        width = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        lines = _wrap(self.ts, text, Style.REGULAR, _BODY_SIZE, width, _INDENT)
        for i, line in enumerate(lines):
            if self.room() < _BODY_LEADING:
                self.break_page()
            indent = _INDENT if i == 0 else 0.0
            last = i == len(lines) - 1
            self.ts.text(
                self.page,
                MARGIN_LEFT + indent,
                self.top - _BODY_SIZE,
                line,
                Style.REGULAR,
                _BODY_SIZE,
                justify_to=None if last else width - indent,
            )
            self.top -= _BODY_LEADING
        self.top -= _PARAGRAPH_GAP


def _text_centre() -> float:
    return (MARGIN_LEFT + PAGE_WIDTH - MARGIN_RIGHT) / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class _HeaderResult:
    top: float
    left_x0: float
    left_x1: float
    right_x0: float
    right_x1: float
    number_blank: Box
    day_blank: Box
    month_blank: Box


def _header(ts: _Typesetter, doc: SampleDocument, flow: _Flow) -> _HeaderResult:
    page = flow.page
    top = flow.top
    national = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập - Tự do - Hạnh phúc"
    date_parts = (f"{doc.place}, ngày", "tháng", f"năm {doc.year}")
    # Each blank fits what the system fills in with a word space either side: two digits
    # of the italic date line, four of the number (which runs into its "/ký hiệu").
    blank_date = 7.5 * _MM
    date_size = 14.0
    date_width = sum(ts.width(p, Style.ITALIC, date_size) for p in date_parts) + 2 * blank_date

    # Box 1 sits in a right-hand column just wide enough for the Quốc hiệu.
    right_width = (
        max(ts.width(national, Style.BOLD, 12), ts.width(motto, Style.BOLD, 14), date_width)
        + 2 * _MM
    )
    right_x1 = PAGE_WIDTH - MARGIN_RIGHT
    right_x0 = right_x1 - right_width
    left_x0 = MARGIN_LEFT
    left_x1 = right_x0
    right_c = (right_x0 + right_x1) / 2
    left_c = (left_x0 + left_x1) / 2

    # Box 1: Quốc hiệu and Tiêu ngữ, with a rule as long as the motto.
    y = top - 12
    ts.centred(page, right_c, y, national, Style.BOLD, 12)
    y -= 16
    motto_box = ts.centred(page, right_c, y, motto, Style.BOLD, 14)
    ts.rule(page, motto_box.x0, motto_box.x1, y - 6)
    right_bottom = y - 6

    # Box 2: parent agency, agency in bold, and a short rule under it.
    y = top - 12
    for line in _wrap(ts, doc.agency_parent.upper(), Style.REGULAR, 12, left_x1 - left_x0):
        ts.centred(page, left_c, y, line, Style.REGULAR, 12)
        y -= 15
    widest = 0.0
    for line in _wrap(ts, doc.agency.upper(), Style.BOLD, 12, left_x1 - left_x0):
        box = ts.centred(page, left_c, y, line, Style.BOLD, 12)
        widest = max(widest, box.x1 - box.x0)
        y -= 15
    rule_y = y + 15 - 7
    ts.rule(page, left_c - widest * 0.2, left_c + widest * 0.2, rule_y)
    left_bottom = rule_y

    # Box 3 and box 4 share a baseline.
    y = min(left_bottom, right_bottom) - 21
    number_size = 13.0
    blank_number = 10.5 * _MM
    prefix, suffix = "Số:", f"/{doc.notation_suffix}"
    total = ts.width(prefix, Style.REGULAR, number_size) + blank_number
    total += ts.width(suffix, Style.REGULAR, number_size)
    x = left_c - total / 2
    box = ts.text(page, x, y, prefix, Style.REGULAR, number_size)
    number_blank = Box(page=page, x0=box.x1, y0=y, x1=box.x1 + blank_number, y1=y + number_size)
    ts.text(page, number_blank.x1, y, suffix, Style.REGULAR, number_size)

    x = right_c - date_width / 2
    blanks: list[Box] = []
    for i, part in enumerate(date_parts):
        box = ts.text(page, x, y, part, Style.ITALIC, date_size)
        x = box.x1
        if i < 2:
            blanks.append(Box(page=page, x0=x, y0=y, x1=x + blank_date, y1=y + date_size))
            x += blank_date

    # Box 5b: trích yếu under the number.
    y -= 17
    for line in _balanced_wrap(ts, doc.subject, Style.REGULAR, 13, left_x1 - left_x0 - 4 * _MM):
        ts.centred(page, left_c, y, line, Style.REGULAR, 13)
        y -= 15
    return _HeaderResult(
        top=y - 4,
        left_x0=left_x0,
        left_x1=left_x1,
        right_x0=right_x0,
        right_x1=right_x1,
        number_blank=number_blank,
        day_blank=blanks[0],
        month_blank=blanks[1],
    )


def _kinh_gui(ts: _Typesetter, doc: SampleDocument, flow: _Flow) -> None:
    label = "Kính gửi:"
    size = 14.0
    items = list(doc.recipients)
    if len(items) > 1:
        items = [f"- {r};" for r in items[:-1]] + [f"- {items[-1]}."]
    label_w = ts.width(label + " ", Style.REGULAR, size)
    widest = max((ts.width(i, Style.REGULAR, size) for i in items), default=0.0)
    x = _text_centre() - (label_w + widest) / 2
    x = max(x, MARGIN_LEFT + 20 * _MM)
    baseline = flow.top - size
    ts.text(flow.page, x, baseline, label, Style.REGULAR, size)
    for item in items:
        ts.text(flow.page, x + label_w, baseline, item, Style.REGULAR, size)
        baseline -= 18
    flow.top = baseline + size - 8


def _signature_block(
    ts: _Typesetter, doc: SampleDocument, flow: _Flow, centre: float, column: tuple[float, float]
) -> tuple[Box, Box, Box]:
    size = 14.0
    leading = 17.0
    small = 11.0
    copies = [f"- {c};" for c in doc.copies_to[:-1]] + [f"- {c}." for c in doc.copies_to[-1:]]
    copies_height = 16 + len(copies) * 13.0
    block_height = 2 * leading + SIGNATURE_GAP + size + 4
    if flow.room() < max(block_height, copies_height) + 6:
        flow.break_page()
    page = flow.page
    top = flow.top - 6
    baseline = top - size
    ts.centred(page, centre, baseline, doc.authority.upper(), Style.BOLD, size)
    baseline -= leading
    position = ts.centred(page, centre, baseline, doc.position.upper(), Style.BOLD, size)
    name_baseline = baseline - SIGNATURE_GAP - size
    name = ts.centred(page, centre, name_baseline, doc.signer_name, Style.BOLD, size)
    gap = Box(page=page, x0=column[0], y0=name.y1, x1=column[1], y1=position.y0)

    # Box 9b: Nơi nhận, level with the authority line.
    y = top - 12
    ts.text(page, MARGIN_LEFT, y, "Nơi nhận:", Style.BOLD_ITALIC, 12)
    for line in copies:
        y -= 13
        ts.text(page, MARGIN_LEFT, y, line, Style.REGULAR, small)
    flow.top = min(name_baseline, y) - 6
    return gap, position, name


def _assemble(writer: PdfFileWriter, ts: _Typesetter, doc: SampleDocument) -> bytes:
    """Add the typeset pages to ``writer`` and serialise it (pyHanko's writer is untyped)."""
    fonts = ts.font_resources()
    resources = writer.add_object(generic.DictionaryObject({generic.NameObject("/Font"): fonts}))
    for ops in ts.pages:
        stream = generic.StreamObject(stream_data=b"\n".join(ops))
        stream.compress()
        page = PageObject(
            contents=writer.add_object(stream),
            media_box=(0, 0, PAGE_WIDTH, PAGE_HEIGHT),
            resources=resources,
        )
        writer.insert_page(page)
    writer.root[generic.NameObject("/Lang")] = generic.TextStringObject("vi")
    meta = writer.document_meta
    meta.title = doc.subject
    meta.author = doc.agency
    meta.creator = "lienthong development assets (development only)"
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def make_sample_cong_van_with_layout(
    doc: SampleDocument | None = None, *, pages: int = 1
) -> tuple[bytes, SampleLayout]:
    """Build an unsigned, unnumbered A4 công văn and report where its boxes are.

    With ``pages > 1`` filler paragraphs push the signature block onto page ``pages``; a body
    too long for the requested count gives more pages.
    """
    if pages < 1:
        raise ValueError("pages must be at least 1")
    _warn(
        "writing the sample công văn (development only)",
        "đang tạo công văn mẫu (chỉ để thử nghiệm)",
    )
    doc = doc or SampleDocument()
    writer = PdfFileWriter()
    ts = _Typesetter(writer)
    flow = _Flow(ts)
    head = _header(ts, doc, flow)
    flow.top = head.top
    _kinh_gui(ts, doc, flow)

    body = list(doc.body)
    closing = body.pop() if len(body) > 1 else None
    for paragraph in body:
        flow.paragraph(paragraph)
    n = 0
    while flow.page < pages - 1:
        n += 1
        flow.paragraph(_FILLER.format(n=n))
    if closing is not None:
        flow.paragraph(closing)

    column = (head.right_x0, head.right_x1)
    gap, position, name = _signature_block(ts, doc, flow, (column[0] + column[1]) / 2, column)

    pdf = _assemble(writer, ts, doc)
    layout = SampleLayout(
        page_count=len(ts.pages),
        signature_box=gap,
        number_blank=head.number_blank,
        day_blank=head.day_blank,
        month_blank=head.month_blank,
        number_font_size=13.0,
        date_font_size=14.0,
        position_line=position,
        signer_name=name,
    )
    return pdf, layout


def make_sample_cong_van(doc: SampleDocument | None = None, *, pages: int = 1) -> bytes:
    """Build an unsigned, unnumbered A4 công văn (see :func:`make_sample_cong_van_with_layout`)."""
    return make_sample_cong_van_with_layout(doc, pages=pages)[0]
