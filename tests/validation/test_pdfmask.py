"""What share of a seal image its mask lets through, read from the samples: soft masks (with
their /Decode arrays), stencil masks and colour-key masks, as an adversary would write them to
pass an opaque picture off as a see-through seal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    FloatObject,
    NameObject,
    NumberObject,
)

from validation.pdfmask import SEE_THROUGH, see_through_share


def _stream(data: bytes, **entries: Any) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in entries.items():
        stream[NameObject(f"/{key}")] = value
    return stream


def _soft(
    samples: bytes, width: int, height: int, bits: int = 8, space: str = "/DeviceGray", **extra: Any
) -> Any:
    """An image XObject (a soft or stencil mask by default: one grey sample a pixel)."""
    return _stream(
        samples,
        Type=NameObject("/XObject"),
        Subtype=NameObject("/Image"),
        Width=NumberObject(width),
        Height=NumberObject(height),
        BitsPerComponent=NumberObject(bits),
        ColorSpace=NameObject(space),
        **extra,
    )


def _image(width: int, height: int, data: bytes) -> Any:
    """An RGB image of 8-bit samples."""
    return _soft(data, width, height, space="/DeviceRGB")


def _decode(low: float, high: float) -> ArrayObject:
    return ArrayObject([FloatObject(low), FloatObject(high)])


W = H = 10
RED = bytes((200, 20, 20)) * (W * H)


def test_a_transparent_soft_mask_lets_the_ground_through() -> None:
    image = _image(W, H, RED)
    image[NameObject("/SMask")] = _soft(bytes(W * H), W, H)
    assert see_through_share(image) == 1.0


def test_an_opaque_soft_mask_lets_nothing_through() -> None:
    image = _image(W, H, RED)
    image[NameObject("/SMask")] = _soft(b"\xff" * (W * H), W, H)
    assert see_through_share(image) == 0.0


@pytest.mark.parametrize(
    ("decode", "share"),
    [((0.95, 1.0), 0.0), ((1.0, 0.0), 0.0), ((0.0, 0.05), 1.0)],
    ids=["raised", "inverted", "faded"],
)
def test_the_soft_masks_decode_array_is_applied(decode: tuple[float, float], share: float) -> None:
    """Samples of 0 read as transparent only through the /Decode array: [0.95 1] makes them
    95 % opaque, [1 0] fully opaque; [0 0.05] fades even opaque samples."""
    samples = bytes(W * H) if decode != (0.0, 0.05) else b"\xff" * (W * H)
    image = _image(W, H, RED)
    image[NameObject("/SMask")] = _soft(samples, W, H, Decode=_decode(*decode))
    assert see_through_share(image) == share


def test_a_compressed_soft_mask_of_a_ring() -> None:
    """The mask as a PNG-derived seal has it: Flate-compressed, a ring opaque, the rest clear
    (read through the stream's filter)."""
    with Image.new("L", (40, 40), 0) as ring:
        for x in range(40):
            for y in range(40):
                if 15 <= ((x - 20) ** 2 + (y - 20) ** 2) ** 0.5 <= 19:
                    ring.putpixel((x, y), 255)
        samples = ring.tobytes()
    mask = _soft(samples, 40, 40).flate_encode()  # held Flate-encoded, as a file holds it
    assert mask["/Filter"] == "/FlateDecode" and mask.get_data() == samples
    image = _image(40, 40, bytes((200, 20, 20)) * 1600)
    image[NameObject("/SMask")] = mask
    share = see_through_share(image)
    assert share is not None and share > SEE_THROUGH
    assert share == pytest.approx(samples.count(0) / 1600)


def test_a_jpeg_soft_mask_is_decoded() -> None:
    out = io.BytesIO()
    Image.new("L", (W, H), 255).save(out, format="JPEG")
    mask = _soft(out.getvalue(), W, H, Filter=NameObject("/DCTDecode"))
    image = _image(W, H, RED)
    image[NameObject("/SMask")] = mask
    assert see_through_share(image) == 0.0


def test_sixteen_bit_and_four_bit_soft_masks() -> None:
    image = _image(W, H, RED)
    image[NameObject("/SMask")] = _soft(b"\xff\xff" * (W * H), W, H, bits=16)
    assert see_through_share(image) == 0.0
    image[NameObject("/SMask")] = _soft(b"\x00\x00" * (W * H), W, H, bits=16)
    assert see_through_share(image) == 1.0
    # four bits a sample, two to a byte: the first half of each row clear, the rest opaque
    row = bytes([0x00] * 3 + [0xFF] * 2)
    image[NameObject("/SMask")] = _soft(row * H, W, H, bits=4)
    assert see_through_share(image) == pytest.approx(0.6)


def test_stencil_masks() -> None:
    """A 1-bit /Mask: a sample of 1 masks out (the image is not painted there)."""
    image = _image(W, H, RED)
    # each row: 10 samples in two bytes; the first 8 set (masked out), padding bits set too
    image[NameObject("/Mask")] = _soft(b"\xff\xff" * H, W, H, bits=1, ImageMask=NumberObject(1))
    assert see_through_share(image) == 1.0
    image[NameObject("/Mask")] = _soft(b"\xff\x00" * H, W, H, bits=1)
    assert see_through_share(image) == pytest.approx(0.8)
    image[NameObject("/Mask")] = _soft(b"\xff\x00" * H, W, H, bits=1, Decode=_decode(1, 0))
    assert see_through_share(image) == pytest.approx(0.2)
    image[NameObject("/Mask")] = _soft(b"\xff\x00" * H, W, H, bits=1, Decode=_decode(0.5, 1))
    assert see_through_share(image) is None  # no stencil reads so


def test_colour_key_masks_key_out_only_colours_the_image_has() -> None:
    """A colour-key mask is judged on the image's own samples: keying out white over a red
    ring on white lets the white through; a range that matches no pixel lets nothing through."""
    white, red = bytes((255, 255, 255)), bytes((200, 20, 20))
    data = (white * 6 + red * 4) * H
    image = _image(W, H, data)
    image[NameObject("/Mask")] = ArrayObject(
        NumberObject(v) for v in (250, 255, 250, 255, 250, 255)
    )
    assert see_through_share(image) == pytest.approx(0.6)
    image[NameObject("/Mask")] = ArrayObject(NumberObject(v) for v in (0, 5, 0, 5, 0, 5))
    assert see_through_share(image) == 0.0
    image[NameObject("/Mask")] = ArrayObject(NumberObject(v) for v in (0, 255))  # one pair: RGB
    assert see_through_share(image) is None  # ...has three components: the pairs do not fit


def test_no_mask_broken_masks_and_huge_masks_are_no_seal() -> None:
    image = _image(W, H, RED)
    assert see_through_share(image) is None
    image[NameObject("/SMask")] = _soft(bytes(5), W, H)  # too few samples
    assert see_through_share(image) is None
    image[NameObject("/SMask")] = _soft(bytes(W * H), W, H, bits=3)
    assert see_through_share(image) is None
    image[NameObject("/SMask")] = _soft(b"", 100_000, 100_000)
    assert see_through_share(image) is None
    image[NameObject("/SMask")] = _soft(bytes(W * H), W, H, Filter=NameObject("/JBIG2Decode"))
    assert see_through_share(image) is None
