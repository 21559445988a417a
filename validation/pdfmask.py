"""How much of a seal image its mask lets through, read from the mask's own samples.

The Decree 30 seal may lie over the left of the personal signature's block because a stamp is
drawn over a transparent ground: what is under it still shows. An image that carries a soft
mask which is opaque (or nearly) is no such stamp but a picture painted over the block, and
the validator judges it as any later signature's appearance. Written by hand: the PDF
libraries decode the mask's stream, none says what share of it is transparent.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

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
    mask's own samples; ``None`` when it has neither or they cannot be read (a colour-key
    mask counts as see-through: which colours it keys out is the base image's business)."""
    mask: Any = image.get("/SMask")
    soft = mask is not None
    if mask is None:
        mask = image.get("/Mask")
        if mask is None:
            return None
    mask = mask.get_object()
    if not hasattr(mask, "get"):  # an array: colour-key masking
        return 1.0
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
            with Image.open(io.BytesIO(data)) as picture:
                grey = picture.convert("L")
            if grey.size != (width, height):
                return None
            samples, bits = grey.tobytes(), 8
        elif last in _DECODED:
            samples = data
        else:
            return None
        row = (width * bits + 7) // 8
        if len(samples) < row * height:
            return None
        decode = mask.get("/Decode")
        inverted = decode is not None and len(decode) >= 2 and float(decode[0]) > float(decode[1])
    except Exception:  # hostile or broken mask: no seal
        return None
    clear = _clear_samples(bytes(samples[: row * height]), width, height, bits)
    if not soft:  # a stencil /Mask: a sample of 1 masks out (Decode [1 0] turns it round)
        opaque = clear
        clear = width * height - opaque
        if inverted:
            clear = opaque
    elif inverted:  # soft mask Decode [1 0]: a low sample is opaque
        clear = width * height - clear
    return clear / (width * height)


def _clear_samples(samples: bytes, width: int, height: int, bits: int) -> int:
    """How many of the ``width`` x ``height`` samples are below :data:`CLEAR` of their range
    (for a soft mask: all but transparent; for a stencil: 0)."""
    row = (width * bits + 7) // 8
    if bits == 8:
        table = bytes(1 if v < CLEAR * 255 else 0 for v in range(256))
        return sum(
            samples[y * row : y * row + width].translate(table).count(1) for y in range(height)
        )
    if bits == 16:
        return sum(1 for y in range(height) for x in range(width) if samples[y * row + 2 * x] < 128)
    if bits == 1:  # the set bits of each row, its padding bits dropped
        pad = row * 8 - width
        ones = sum(
            (int.from_bytes(samples[y * row : (y + 1) * row], "big") >> pad).bit_count()
            for y in range(height)
        )
        return width * height - ones
    per, top = 8 // bits, (1 << bits) - 1
    half = CLEAR * top
    count = 0
    for y in range(height):
        line = samples[y * row : (y + 1) * row]
        for x in range(width):
            value = (line[x // per] >> (8 - bits * (x % per + 1))) & top
            count += value < half
    return count


__all__ = ["SEE_THROUGH", "see_through_share"]
