"""The Pascal VOC colour palette: index i -> (r, g, b), bits of i interleaved (as in the VOC
devkit's ``labelcolormap``); 0 is black (background), 255 is (224, 224, 192) (void)."""

from __future__ import annotations


def voc_color(i: int) -> tuple[int, int, int]:
    """The VOC palette colour of index ``i`` (0..255)."""
    r = g = b = 0
    c = i
    for j in range(8):
        r |= ((c >> 0) & 1) << (7 - j)
        g |= ((c >> 1) & 1) << (7 - j)
        b |= ((c >> 2) & 1) << (7 - j)
        c >>= 3
    return r, g, b


def flat_palette(colors: list[tuple[int, int, int]]) -> list[int]:
    """A 768-value PIL palette: ``colors`` for the first indices, the VOC palette after."""
    full = [*colors, *(voc_color(i) for i in range(len(colors), 256))]
    return [v for rgb in full[:256] for v in rgb]
