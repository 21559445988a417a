"""How much of a seal image its mask lets through, read from the mask's own samples.

The Decree 30 seal may lie over the left of the personal signature's block because a stamp is
drawn over a transparent ground: what is under it still shows. An image that carries a soft
mask which is opaque (or nearly) is no such stamp but a picture painted over the block, and
the validator judges it as any later signature's appearance. Written by hand: the PDF
libraries decode the mask's stream, none says what share of it is transparent.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from validation.pdfstructure import content_operations

SEE_THROUGH = 0.4
"""The share of a seal image its mask must leave transparent: a stamp's ring and words over a
transparent ground leave far more (the corners of its square alone are a fifth); an "image"
whose soft mask is opaque (or nearly) is a picture painted over what is under it."""
CLEAR = 0.1
"""A mask sample lets the ground through when it is below this share of its range (a pixel
at most 10 % opaque: drawn twice, text under it still shows)."""
_DECODED = frozenset(
    (None, "/FlateDecode", "/LZWDecode", "/RunLengthDecode", "/ASCIIHexDecode", "/ASCII85Decode")
)
_MASK_PIXELS = 16_000_000
"""The largest mask read (a seal at 600 dpi is some 1,000 pixels square)."""


@dataclass(frozen=True, slots=True)
class Mask:
    """Which pixels of an image let the ground through: ``clear[y * width + x]`` is 1 for a
    clear pixel (row 0 at the image's top, as its samples run)."""

    width: int
    height: int
    clear: bytes

    @property
    def share(self) -> float:
        return self.clear.count(1) / (self.width * self.height)

    def clear_at(self, u: float, v: float) -> bool:
        """Whether the image lets the ground through at ``(u, v)`` of its unit square (the
        space an image is painted in: ``v`` = 1 at its top row)."""
        x = min(int(u * self.width), self.width - 1)
        y = min(int((1 - v) * self.height), self.height - 1)
        return self.clear[y * self.width + x] == 1


Matrix = tuple[float, float, float, float, float, float]
"""A PDF transformation ``[a b c d e f]``: ``(x, y)`` goes to ``(a x + c y + e, b x + d y + f)``."""
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

_PLACING = frozenset(("q", "Q", "cm", "gs", "Do", "BMC", "BDC", "EMC", "re", "W", "W*", "n"))
"""What a seal's appearance may do: place images (clipping and marked content allowed)."""
SEAL_IMAGES = 2
"""The most images a seal's appearance may place: a stamp is one picture (two, drawn over each
other at 10 % opacity, still show the text under them; more could build it up to opaque)."""


@dataclass(frozen=True, slots=True)
class Placed:
    """An image of a seal's appearance: where its unit square lies on the page, and its mask."""

    matrix: Matrix
    mask: Mask

    def clear_at(self, x: float, y: float) -> bool:
        """Whether the page point ``(x, y)`` shows through this image (or lies outside it)."""
        a, b, c, d, e, f = self.matrix
        det = a * d - b * c
        if not det or not math.isfinite(det):
            return False  # a degenerate placement: judged as hiding
        u = (d * (x - e) - c * (y - f)) / det
        v = (a * (y - f) - b * (x - e)) / det
        if not (0 <= u < 1 and 0 <= v < 1):
            return True
        return self.mask.clear_at(u, v)


def then(first: Matrix, second: Matrix) -> Matrix:
    """``first`` applied, then ``second``."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = second
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def _numbers(value: Any, count: int) -> tuple[float, ...] | None:
    """``count`` finite numbers read from ``value`` (an array or operands), or None."""
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        return None
    return numbers


def _matrix(value: Any) -> Matrix | None:
    numbers = _numbers(value, 6)
    return None if numbers is None else (*numbers[:6],)  # type: ignore[return-value]


def seal_images(look: Any, rect: tuple[float, float, float, float]) -> list[Placed] | None:
    """The images the widget appearance ``look`` places on its page (the widget's ``rect``),
    when it places nothing but see-through images (forms followed, at most
    :data:`SEAL_IMAGES`); ``None`` otherwise. The appearance is mapped onto ``rect`` as PDF
    does: its ``/BBox`` through its ``/Matrix``, then scaled and moved onto the rectangle."""
    matrix = _matrix(look.get("/Matrix", IDENTITY))
    box = _numbers(look.get("/BBox", ()), 4)
    if matrix is None or box is None:
        return None
    corners = [
        (x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3] + matrix[5])
        for x in (box[0], box[2])
        for y in (box[1], box[3])
    ]
    tx0, tx1 = min(p[0] for p in corners), max(p[0] for p in corners)
    ty0, ty1 = min(p[1] for p in corners), max(p[1] for p in corners)
    if not (tx1 > tx0 and ty1 > ty0):
        return None
    sx, sy = (rect[2] - rect[0]) / (tx1 - tx0), (rect[3] - rect[1]) / (ty1 - ty0)
    onto = (sx, 0.0, 0.0, sy, rect[0] - tx0 * sx, rect[1] - ty0 * sy)
    placed: list[Placed] = []
    if not _place(look, then(matrix, onto), 0, placed):
        return None
    return placed


def _place(stream: Any, ctm: Matrix, depth: int, placed: list[Placed]) -> bool:
    """Follow ``stream`` (drawn with ``ctm`` onto the page), adding its images to ``placed``;
    False when it does anything but place see-through images."""
    if depth > 3 or not hasattr(stream, "get_data"):
        return False
    operations = content_operations(stream.get_data(), limit=10_000)
    if operations is None:
        return False
    resources = stream.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
    xobjects = xobjects.get_object() if xobjects is not None else {}
    saved: list[Matrix] = []
    for operator, operands in operations:
        if operator not in _PLACING:
            return False
        if operator == "q":
            saved.append(ctm)
        elif operator == "Q":
            if not saved:
                return False
            ctm = saved.pop()
        elif operator == "cm":
            step = _matrix(operands)
            if step is None:
                return False
            ctm = then(step, ctm)
        elif operator == "Do":
            found: Any = (
                xobjects.get(str(operands[0])) if operands and hasattr(xobjects, "get") else None
            )
            target: Any = found.get_object() if found is not None else None
            if not hasattr(target, "get"):
                return False
            if target.get("/Subtype") == "/Image":
                mask = see_through(target) if len(placed) < SEAL_IMAGES else None
                if mask is None or mask.share < SEE_THROUGH:
                    return False
                placed.append(Placed(ctm, mask))
            elif target.get("/Subtype") == "/Form":
                inner = _matrix(target.get("/Matrix", IDENTITY))
                if inner is None or not _place(target, then(inner, ctm), depth + 1, placed):
                    return False
            else:
                return False
    return True


def see_through_share(image: Any) -> float | None:
    """The share of ``image``'s pixels its mask lets through (see :func:`see_through`)."""
    mask = see_through(image)
    return None if mask is None else mask.share


def see_through(image: Any) -> Mask | None:
    """Where ``image``'s soft mask or stencil mask lets the ground through, from the mask's
    own samples (for a colour-key mask, from the image's own samples in its ranges); ``None``
    when it has neither or they cannot be read."""
    mask: Any = image.get("/SMask")
    soft = mask is not None
    if mask is None:
        mask = image.get("/Mask")
        if mask is None:
            return None
    mask = mask.get_object()
    if not hasattr(mask, "get"):  # an array: colour-key masking
        return _keyed(image, mask)
    try:
        width, height = int(mask["/Width"]), int(mask["/Height"])
        bits = int(mask.get("/BitsPerComponent", 1))
        if not (width > 0 and height > 0 and width * height <= _MASK_PIXELS):
            return None
        if bits not in (1, 2, 4, 8, 16) or (not soft and bits != 1):
            return None
        last = _last_filter(mask)
        data = mask.get_data()  # every filter but the image codecs decoded
        if last in ("/DCTDecode", "/JPXDecode"):
            from PIL import Image  # imported here: verify starts without PIL

            with Image.open(io.BytesIO(data)) as picture:
                if picture.size != (width, height):  # before decoding: no bomb is decoded
                    return None
                grey = picture.convert("L")
            samples, bits = grey.tobytes(), 8
        elif last in _DECODED:
            samples = data
        else:
            return None
        row = (width * bits + 7) // 8
        if len(samples) < row * height:
            return None
        clear = _clear_rule(mask.get("/Decode"), bits, soft=soft)
    except Exception:  # hostile or broken mask: no seal
        return None
    if clear is None:
        return None
    return Mask(width, height, _bitmap(bytes(samples[: row * height]), width, height, bits, clear))


def _keyed(image: Any, ranges: Any) -> Mask | None:
    """The pixels of an 8-bit image a colour-key mask (``[min1 max1 min2 max2 …]``, one pair
    per component) keys out: those whose every component lies in its range."""
    try:
        limits = [int(v) for v in ranges]
        width, height = int(image["/Width"]), int(image["/Height"])
        if int(image.get("/BitsPerComponent", 8)) != 8 or len(limits) % 2 or not limits:
            return None
        if not (width > 0 and height > 0 and width * height <= _MASK_PIXELS):
            return None
        components = _components(image.get("/ColorSpace"))
        if components is None or len(limits) != 2 * components:
            return None
        last = _last_filter(image)
        data = image.get_data()
        if last == "/DCTDecode":
            from PIL import Image  # imported here: verify starts without PIL

            with Image.open(io.BytesIO(data)) as picture:
                mode = {1: "L", 3: "RGB"}.get(components)
                if mode is None or picture.mode != mode or picture.size != (width, height):
                    return None
                data = picture.tobytes()
        elif last not in _DECODED:
            return None
        if len(data) < width * height * components:
            return None
    except Exception:  # hostile or broken image: no seal
        return None
    # per component, a byte of 1 where it is in range; a pixel is keyed out where all are
    keyed = -1
    for c, (low, high) in enumerate(zip(limits[0::2], limits[1::2], strict=True)):
        table = bytes(1 if low <= v <= high else 0 for v in range(256))
        keyed &= int.from_bytes(data[c : width * height * components : components].translate(table))
    return Mask(width, height, keyed.to_bytes(width * height))


def _last_filter(stream: Any) -> str | None:
    """The last filter of ``stream`` (the one that yields its samples), or None."""
    filters = stream.get("/Filter")
    if isinstance(filters, list):
        return str(filters[-1]) if filters else None
    return None if filters is None else str(filters)


def _components(space: Any) -> int | None:
    """Colour components a sample of an image in colour space ``space`` has."""
    space = space.get_object() if space is not None else None
    if isinstance(space, list) and space:
        family = str(space[0])
        if family == "/ICCBased" and len(space) > 1:
            n = space[1].get_object().get("/N")
            return int(n) if n is not None else None
        return {"/Indexed": 1, "/CalRGB": 3, "/CalGray": 1, "/Lab": 3}.get(family)
    return {"/DeviceGray": 1, "/DeviceRGB": 3, "/DeviceCMYK": 4}.get(str(space))


def _clear_rule(decode: Any, bits: int, *, soft: bool) -> Callable[[int], bool] | None:
    """Which raw samples let the ground through, after the mask's ``/Decode`` array: a soft
    mask's sample is an opacity mapped linearly onto ``[d0, d1]`` (so ``[0.95 1]`` makes
    every sample nearly opaque); a stencil's sample of 1 masks out, or of 0 with ``[1 0]``."""
    top = (1 << bits) - 1
    low, high = (0.0, 1.0) if decode is None else (float(decode[0]), float(decode[1]))
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    if not soft:
        if (low, high) == (0.0, 1.0):
            return lambda v: v == 1
        if (low, high) == (1.0, 0.0):
            return lambda v: v == 0
        return None
    return lambda v: low + v * (high - low) / top < CLEAR


def _bitmap(
    samples: bytes, width: int, height: int, bits: int, clear: Callable[[int], bool]
) -> bytes:
    """A byte a pixel, 1 where the sample is ``clear``, row after row (padding dropped)."""
    row = (width * bits + 7) // 8
    if bits == 16:  # by the high byte: clear only when the whole range it stands for is
        table = bytes(1 if clear(v * 256) and clear(v * 256 + 255) else 0 for v in range(256))
        return b"".join(
            samples[y * row : (y + 1) * row : 2].translate(table) for y in range(height)
        )
    per, top = 8 // bits, (1 << bits) - 1
    # each byte spelled out as its samples' flags (eight for 1 bit, one for 8 bits)
    spelled = [
        bytes(1 if clear((byte >> (8 - bits * (i + 1))) & top) else 0 for i in range(per))
        for byte in range(256)
    ]
    if bits == 8:
        table = b"".join(spelled)
        return b"".join(samples[y * row : y * row + width].translate(table) for y in range(height))
    return b"".join(
        b"".join(spelled[byte] for byte in samples[y * row : (y + 1) * row])[:width]
        for y in range(height)
    )


__all__ = [
    "SEAL_IMAGES",
    "SEE_THROUGH",
    "Mask",
    "Placed",
    "seal_images",
    "see_through",
    "see_through_share",
]
