"""Liberation Serif (Times New Roman metrics, Vietnamese glyphs) for pyHanko's text engine.

pyHanko 0.38 writes glyph widths in font units, which is only right for 1000-unit fonts;
Liberation uses 2048, so text set with it would come out letter-spaced. The font is
subset to the Latin and Vietnamese ranges and rescaled to 1000 units per em before pyHanko
sees it (fontTools does the work).
"""

from __future__ import annotations

import enum
import functools
import itertools
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools import subset, ttLib
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

from signing.errors import UsageError

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)

CHARSET = frozenset(
    itertools.chain(
        range(0x20, 0x7F),
        range(0xA0, 0x250),
        range(0x300, 0x370),
        range(0x1E00, 0x1F00),
        range(0x2010, 0x2060),
    )
)
"""Basic Latin, Latin-1, Latin Extended A/B, combining marks, Latin Extended Additional
(the precomposed Vietnamese letters), general punctuation."""


class Style(enum.StrEnum):
    REGULAR = "Regular"
    BOLD = "Bold"
    ITALIC = "Italic"
    BOLD_ITALIC = "BoldItalic"


def font_path(style: Style = Style.REGULAR) -> Path:
    for directory in FONT_DIRS:
        candidate = directory / f"LiberationSerif-{style.value}.ttf"
        if candidate.exists():
            return candidate
    raise UsageError(
        "Liberation Serif is not installed (apt-get install fonts-liberation2)",
        "chưa cài phông Liberation Serif (apt-get install fonts-liberation2)",
    )


@functools.cache
def font_program(style: Style = Style.REGULAR) -> bytes:
    """The Liberation Serif subset, rescaled to 1000 units per em."""
    tt = ttLib.TTFont(font_path(style))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.hinting = False
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=CHARSET)
    subsetter.subset(tt)
    scale_upem(tt, 1000)
    out = BytesIO()
    tt.save(out)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class SerifFont(FontEngineFactory):
    """A pyHanko font engine factory for Liberation Serif (see the module docstring)."""

    style: Style = Style.REGULAR
    font_size: int = 10

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        return GlyphAccumulator(
            writer=writer,
            font_handle=BytesIO(font_program(self.style)),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )
