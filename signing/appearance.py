"""The Decree 30 visible signatures, as named profiles, and where to put them.

Decree 30/2020 App. I (see ``shared/standards/decree30.md``):

- ``personal``: the competent person's signature image (blue PNG, transparent), centred in
  box 7c between the position line and the signer's name;
- ``agency``: the agency's seal image (red PNG, transparent) at the seal's real size in mm,
  covering about the left third of the personal signature image;
- ``attachment`` and ``copy``: no image; at the top right of page 1, number and notation (or
  the copy form and the copying agency) and the signing time as ISO 8601 with ``+07:00``,
  10 pt, black, Liberation Serif (Times New Roman metrics, Vietnamese glyphs);
- ``plain``: an invisible signature.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields
from pyhanko.stamp import BaseStampStyle, StaticStampStyle, TextStampStyle

from signing.anchor import AnchorNotFound, Box, find_text, signature_box_between
from signing.errors import PlacementError, UsageError
from signing.fonts import SerifFont
from validation import VIETNAM as VIETNAM  # re-exported: the one Vietnam time zone

MM = 72 / 25.4


class Profile(enum.StrEnum):
    PLAIN = "plain"
    PERSONAL = "personal"
    AGENCY = "agency"
    ATTACHMENT = "attachment"
    COPY = "copy"


@dataclass(frozen=True, slots=True, kw_only=True)
class PageBox:
    """An explicit place: page (1-based, negative counts from the end) and a rectangle in
    millimetres measured from the page's top left corner."""

    page: int
    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ExistingField:
    """An empty signature field already in the document."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """Next to a text on the page: the box is centred horizontally on ``text`` and sits in the
    gap above it (below ``above`` when given), e.g. ``text`` = the signer's name and ``above``
    = the position line. The last occurrence in the document wins."""

    text: str
    above: str | None = None


Placement = PageBox | ExistingField | Anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class AppearanceSpec:
    """How a signature looks and where it goes."""

    profile: Profile = Profile.PLAIN
    image_png: bytes | None = None
    """The signature image (``personal``) or the seal image (``agency``)."""
    image_width_mm: float = 40.0
    """Width of the signature image (``personal``); its height follows the image's ratio."""
    seal_diameter_mm: float = 36.0
    """The seal's real size (``agency``): a per-agency setting."""
    text_lines: tuple[str, ...] = ()
    """``attachment``: number and notation; ``copy``: copy form, copying agency."""
    placement: Placement | None = None
    """Where to sign; each profile has a sensible default (see the README)."""
    overlap_field: str | None = None
    """``agency``: the personal signature field the seal overlaps (default: the last signed
    signature field)."""


def vietnam_time(moment: datetime) -> str:
    """``2025-03-05T09:15:30+07:00``: the form Decree 30 asks for."""
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedAppearance:
    """What pyHanko needs: the field, its box (``None`` for an existing field), the style."""

    field_name: str
    box: Box | None
    style: BaseStampStyle | None
    text_params: dict[str, str]


def _page_count(writer: Any) -> int:
    return int(writer.root["/Pages"]["/Count"])


def _page_size(writer: Any, page_ix: int) -> tuple[float, float]:
    page_ref = writer.find_page_for_modification(page_ix)[0]
    node = page_ref.get_object()
    while "/MediaBox" not in node and "/Parent" in node:
        node = node["/Parent"].get_object()
    x0, y0, x1, y1 = (float(v) for v in node.get("/MediaBox", (0, 0, 595.28, 841.89)))
    return x1 - x0, y1 - y0


def _page_index_of(writer: Any, annot_ref: Any) -> int:
    for ix in range(_page_count(writer)):
        page = writer.find_page_for_modification(ix)[0].get_object()
        annots = page.get("/Annots")
        if annots is None:
            continue
        for ref in annots.get_object() if hasattr(annots, "get_object") else annots:
            if isinstance(ref, generic.IndirectObject) and ref.idnum == annot_ref.idnum:
                return ix
    raise PlacementError(
        "a signature field's widget is on no page", "ô chữ ký không nằm trên trang nào"
    )


def signature_fields(writer: Any) -> list[tuple[str, bool, Box | None]]:
    """Signature fields in document order: (name, signed?, widget box or None)."""
    result = []
    for name, value, field_ref in fields.enumerate_sig_fields(writer, filled_status=None):
        field = field_ref.get_object()
        widget_ref = field_ref
        if "/Rect" not in field and "/Kids" in field:
            widget_ref = field["/Kids"][0]
        widget = widget_ref.get_object()
        box = None
        if "/Rect" in widget:
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            if x1 - x0 > 0 and y1 - y0 > 0:
                box = Box(
                    page=_page_index_of(writer, widget_ref),
                    x0=min(x0, x1),
                    y0=min(y0, y1),
                    x1=max(x0, x1),
                    y1=max(y0, y1),
                )
        result.append((str(name), value is not None, box))
    return result


def _fresh_field_name(writer: Any, profile: Profile) -> str:
    taken = {name for name, _, _ in signature_fields(writer)}
    n = 1
    while f"{profile.value}-{n}" in taken:
        n += 1
    return f"{profile.value}-{n}"


def _image(png: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(png))
        img.load()
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"the signature image is not a readable PNG: {exc}",
            "hình chữ ký không phải tệp PNG đọc được",
            needs="image",
        ) from exc
    if img.mode in ("RGBA", "LA"):
        return img
    return img.convert("RGBA")


def _image_style(png: bytes) -> StaticStampStyle:
    return StaticStampStyle(
        background=PdfImage(_image(png)),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )


def _text_style(lines: Sequence[str]) -> TextStampStyle:
    keys = [f"line{i}" for i in range(len(lines))]
    return TextStampStyle(
        stamp_text="\n".join(f"%({k})s" for k in [*keys, "signed_at"]),
        text_box_style=TextBoxStyle(
            font=SerifFont(font_size=10),
            font_size=10,
            leading=12,
            border_width=0,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MAX,
                y_align=layout.AxisAlignment.ALIGN_MAX,
                margins=layout.Margins.uniform(0),
            ),
        ),
        border_width=0,
        background=None,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins.uniform(0),
        ),
    )


def box_from_page_box(writer: Any, place: PageBox) -> Box:
    count = _page_count(writer)
    ix = place.page - 1 if place.page > 0 else count + place.page
    if not 0 <= ix < count:
        raise PlacementError(
            f"page {place.page} does not exist (the document has {count} pages)",
            f"không có trang {place.page} (văn bản có {count} trang)",
        )
    _, height = _page_size(writer, ix)
    x0 = place.x_mm * MM
    y1 = height - place.y_mm * MM
    return Box(page=ix, x0=x0, y0=y1 - place.height_mm * MM, x1=x0 + place.width_mm * MM, y1=y1)


def _box_from_anchor(pdf: bytes, anchor: Anchor, width: float, height: float) -> Box:
    hits = find_text(pdf, anchor.text)
    if not hits:
        raise PlacementError(
            f"the anchor text {anchor.text!r} is not in the document",
            f"không tìm thấy đoạn văn bản neo {anchor.text!r} trong văn bản",
        )
    hit = hits[-1]
    centre_x = (hit.x0 + hit.x1) / 2
    bottom = hit.y1 + 2
    top = bottom + height
    if anchor.above is not None:
        try:
            between = signature_box_between(
                pdf, anchor.above, anchor.text, width=width, height=height
            )
        except AnchorNotFound as exc:
            raise PlacementError(
                f"the anchor text {anchor.above!r} is not above {anchor.text!r}",
                f"không thấy {anchor.above!r} phía trên {anchor.text!r}",
            ) from exc
        return between
    return Box(page=hit.page, x0=centre_x - width / 2, y0=bottom, x1=centre_x + width / 2, y1=top)


def resolve_appearance(
    spec: AppearanceSpec,
    writer: Any,
    *,
    pdf_bytes: Any,
    signer_name: str,
    signing_time: datetime,
) -> ResolvedAppearance:
    """Work out the field, the box and the pyHanko style of a signature.

    ``pdf_bytes`` is a callable returning the document's bytes (needed only to find anchor
    text); ``signer_name`` is the certificate's common name (the personal profile's default
    anchor).
    """
    profile = spec.profile
    params = {"signed_at": vietnam_time(signing_time)}
    if isinstance(spec.placement, ExistingField):
        existing = {name: signed for name, signed, _ in signature_fields(writer)}
        if spec.placement.name not in existing:
            raise PlacementError(
                f"the document has no signature field {spec.placement.name!r}",
                f"văn bản không có ô chữ ký {spec.placement.name!r}",
            )
        if existing[spec.placement.name]:
            raise PlacementError(
                f"the signature field {spec.placement.name!r} is already signed",
                f"ô chữ ký {spec.placement.name!r} đã được ký",
            )
        field_name, box = spec.placement.name, None
    else:
        field_name, box = _fresh_field_name(writer, profile), None

    style: BaseStampStyle | None = None
    if profile is Profile.PLAIN:
        if spec.placement is not None and not isinstance(spec.placement, ExistingField):
            raise UsageError(
                "a plain signature is invisible: it takes no position",
                "chữ ký plain không hiển thị nên không có vị trí",
            )
        return ResolvedAppearance(field_name=field_name, box=None, style=None, text_params=params)

    if profile in (Profile.PERSONAL, Profile.AGENCY):
        if spec.image_png is None:
            raise UsageError(
                f"the {profile.value} profile needs an image",
                f"mẫu chữ ký {profile.value} cần hình ảnh",
                needs="image",
            )
        img = _image(spec.image_png)
        style = _image_style(spec.image_png)
        if profile is Profile.PERSONAL:
            width = spec.image_width_mm * MM
            height = width * img.height / img.width
        else:
            width = spec.seal_diameter_mm * MM
            height = width * img.height / img.width
        if isinstance(spec.placement, PageBox):
            box = box_from_page_box(writer, spec.placement)
        elif isinstance(spec.placement, Anchor):
            box = _box_from_anchor(pdf_bytes(), spec.placement, width, height)
        elif spec.placement is None and profile is Profile.PERSONAL:
            box = _box_from_anchor(pdf_bytes(), Anchor(text=signer_name), width, height)
        elif spec.placement is None:
            box = _seal_box(writer, spec, width, height)
    else:
        if not spec.text_lines:
            what = (
                "number and notation" if profile is Profile.ATTACHMENT else "copy form and agency"
            )
            what_vi = (
                "số và ký hiệu" if profile is Profile.ATTACHMENT else "hình thức sao và cơ quan sao"
            )
            raise UsageError(
                f"the {profile.value} profile needs its text ({what})",
                f"mẫu chữ ký {profile.value} cần nội dung ({what_vi})",
                needs="text_lines",
            )
        style = _text_style(spec.text_lines)
        params.update({f"line{i}": line for i, line in enumerate(spec.text_lines)})
        if isinstance(spec.placement, PageBox):
            box = box_from_page_box(writer, spec.placement)
        elif isinstance(spec.placement, Anchor):
            raise UsageError(
                "attachment and copy signatures go top right of page 1, not at an anchor",
                "chữ ký phụ lục và bản sao đặt ở góc trên bên phải trang 1, không theo chữ mốc",
            )
        elif spec.placement is None:
            page_w, page_h = _page_size(writer, 0)
            lines = len(spec.text_lines) + 1
            right = page_w - 15 * MM
            top = page_h - 5 * MM  # in the top margin (20–25 mm), above the Quốc hiệu
            box = Box(page=0, x0=right - 80 * MM, y0=top - lines * 12 - 2, x1=right, y1=top)
    return ResolvedAppearance(field_name=field_name, box=box, style=style, text_params=params)


def _seal_box(writer: Any, spec: AppearanceSpec, width: float, height: float) -> Box:
    signed = [(name, box) for name, is_signed, box in signature_fields(writer) if is_signed and box]
    if spec.overlap_field is not None:
        signed = [(n, b) for n, b in signed if n == spec.overlap_field]
    if not signed:
        raise PlacementError(
            "no visible personal signature to put the seal on: sign with the personal profile "
            "first, or say where the seal goes",
            "chưa có chữ ký cá nhân hiển thị để đóng dấu lên: ký cá nhân trước, hoặc chỉ định "
            "vị trí con dấu",
            needs="placement",
        )
    _, personal = signed[-1]
    centre_y = (personal.y0 + personal.y1) / 2
    # The seal covers about the left third of the signature image (App. I, item 8a).
    right = personal.x0 + personal.width / 3
    return Box(
        page=personal.page,
        x0=right - width,
        y0=centre_y - height / 2,
        x1=right,
        y1=centre_y + height / 2,
    )
