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
from typing import Any

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


def see_through_share(image: Any) -> float | None:
    """The share of ``image``'s pixels its soft mask or stencil mask lets through, from the
    mask's own samples (for a colour-key mask, from the image's own samples in its ranges);
    ``None`` when it has neither or they cannot be read."""
    mask: Any = image.get("/SMask")
    soft = mask is not None
    if mask is None:
        mask = image.get("/Mask")
        if mask is None:
            return None
    mask = mask.get_object()
    if not hasattr(mask, "get"):  # an array: colour-key masking
        return _keyed_share(image, mask)
    try:
        width, height = int(mask["/Width"]), int(mask["/Height"])
        bits = int(mask.get("/BitsPerComponent", 1))
        if not (width > 0 and height > 0 and width * height <= _MASK_PIXELS):
            return None
        if bits not in (1, 2, 4, 8, 16) or (not soft and bits != 1):
            return None
        filters = mask.get("/Filter")
        names = [str(f) for f in (filters if isinstance(filters, list) else [filters])]
        last = names[-1] if filters is not None and names else None
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
    return _count(bytes(samples[: row * height]), width, height, bits, clear) / (width * height)


def _keyed_share(image: Any, ranges: Any) -> float | None:
    """The share of an 8-bit image's pixels a colour-key mask (``[min1 max1 min2 max2 …]``,
    one pair per component) keys out: those whose every component lies in its range."""
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
        filters = image.get("/Filter")
        names = [str(f) for f in (filters if isinstance(filters, list) else [filters])]
        last = names[-1] if filters is not None and names else None
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
    pairs = list(zip(limits[0::2], limits[1::2], strict=True))
    # one pass per component: the pixels whose component is in range, as a bitmap
    keyed = None
    for c, (low, high) in enumerate(pairs):
        table = bytes(1 if low <= v <= high else 0 for v in range(256))
        plane = data[c : width * height * components : components].translate(table)
        keyed = plane if keyed is None else bytes(a & b for a, b in zip(keyed, plane, strict=True))
    return (keyed.count(1) if keyed is not None else 0) / (width * height)


def _components(space: Any) -> int | None:
    """Colour components a sample of an image in colour space ``space`` has."""
    space = space.get_object() if space is not None else None
    if isinstance(space, list) and space:
        family = str(space[0])
        if family == "/ICCBased" and len(space) > 1:
            n = space[1].get_object().get("/N")
            return int(n) if n is not None else None
        if family == "/Indexed":
            return 1
        space = space[0] if family in ("/CalRGB", "/CalGray", "/Lab") else None
        family = str(space) if space is not None else ""
        return {"/CalRGB": 3, "/CalGray": 1, "/Lab": 3}.get(family)
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


def _count(samples: bytes, width: int, height: int, bits: int, clear: Callable[[int], bool]) -> int:
    """How many of the ``width`` x ``height`` samples are ``clear``."""
    row = (width * bits + 7) // 8
    rows = (samples[y * row : (y + 1) * row] for y in range(height))
    if bits == 8:
        table = bytes(1 if clear(v) else 0 for v in range(256))
        return sum(line[:width].translate(table).count(1) for line in rows)
    if bits == 16:  # by the high byte: clear only when the whole range it stands for is
        table = bytes(1 if clear(v * 256) and clear(v * 256 + 255) else 0 for v in range(256))
        return sum(line[0 : 2 * width : 2].translate(table).count(1) for line in rows)
    if bits == 1:  # the set bits of each row, its padding bits dropped
        pad = row * 8 - width
        ones = sum((int.from_bytes(line, "big") >> pad).bit_count() for line in rows)
        return (ones if clear(1) else 0) + (width * height - ones if clear(0) else 0)
    per, top = 8 // bits, (1 << bits) - 1
    values = [clear(v) for v in range(top + 1)]
    count = 0
    for line in rows:
        for x in range(width):
            count += values[(line[x // per] >> (8 - bits * (x % per + 1))) & top]
    return count


__all__ = ["SEE_THROUGH", "see_through_share"]
