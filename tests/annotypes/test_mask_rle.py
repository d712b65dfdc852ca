"""COCO RLE: our string parser and canonical form against pycocotools and numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray
from pycocotools import mask as mask_utils

from labelproof.annotypes import ImageSize, get_type
from labelproof.annotypes._rle import parse_counts

MASK = get_type("mask")
POLY = get_type("polygon")


def _runs(bits: NDArray[np.bool_]) -> list[int]:
    """Column-major run lengths, background first, computed with numpy."""
    flat = bits.flatten(order="F").astype(np.int8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.r_[0, edges, flat.size]
    runs: list[int] = np.diff(bounds).tolist()
    return ([0] if flat.size and flat[0] else []) + runs


masks = hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40))


@settings(max_examples=200, deadline=None)
@given(masks)
def test_parser_and_measures_agree_with_pycocotools(bits: NDArray[np.bool_]) -> None:
    coco = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    text = coco["counts"].decode("ascii")
    assert parse_counts(text, "c").tolist() == _runs(bits)
    h, w = bits.shape
    g = MASK.validate({"rle": {"size": [h, w], "counts": text}}, image=ImageSize(w, h))
    assert g == {"rle": {"size": [h, w], "counts": text}}  # pycocotools' string is canonical
    assert MASK.validate({"rle": {"size": [h, w], "counts": _runs(bits)}}) == g
    assert MASK.area(g) == float(bits.sum())
    assert np.array_equal(mask_utils.decode({"size": [h, w], "counts": text.encode()}), bits)
    if bits.any():
        rows, cols = np.nonzero(bits)
        assert MASK.bounds(g) == (cols.min(), rows.min(), cols.max() + 1.0, rows.max() + 1.0)
    else:
        assert MASK.bounds(g) is None


@settings(deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=30))
def test_zero_runs_are_merged_into_one_encoding(runs: list[int]) -> None:
    total = sum(runs)
    if total == 0:
        runs = [*runs, 1]
        total = 1
    assume(len(runs) <= 2 * total + 2)  # more zero runs than that are refused (see table)
    bits = np.zeros(total, dtype=bool)
    pos = 0
    for i, r in enumerate(runs):
        bits[pos : pos + r] = i % 2 == 1
        pos += r
    g = MASK.validate({"rle": {"size": [1, total], "counts": runs}})
    expected = mask_utils.encode(np.asfortranarray(bits.reshape(1, total).astype(np.uint8)))
    assert g["rle"]["counts"] == expected["counts"].decode("ascii")


def test_polygon_to_mask_subtracts_holes() -> None:
    g = {
        "points": [[2, 2], [12, 2], [12, 12], [2, 12]],
        "holes": [[[4, 4], [8, 4], [8, 8], [4, 8]]],
    }
    image = ImageSize(16, 14)
    mask = POLY.to_mask(g, image)
    assert mask is not None
    bits = mask_utils.decode({"size": [14, 16], "counts": mask["rle"]["counts"].encode()})
    shell = mask_utils.decode(mask_utils.frPyObjects([[2, 2, 12, 2, 12, 12, 2, 12]], 14, 16))
    hole = mask_utils.decode(mask_utils.frPyObjects([[4, 4, 8, 4, 8, 8, 4, 8]], 14, 16))
    expected = shell[:, :, 0].astype(bool) & ~hole[:, :, 0].astype(bool)
    assert np.array_equal(bits.astype(bool), expected)
    assert MASK.area(mask) == 100.0 - 16.0
    assert MASK.bounds(mask) == (2.0, 2.0, 12.0, 12.0)


def test_box_mask_is_pycocotools_bbox_mask() -> None:
    box = get_type("box")
    g: dict[str, Any] = {"x": 3.0, "y": 1.0, "w": 5.0, "h": 7.0}
    mask = box.to_mask(g, ImageSize(20, 10))
    assert mask is not None
    ref = mask_utils.frPyObjects(np.array([[3.0, 1.0, 5.0, 7.0]]), 10, 20)[
        0
    ]  # COCO's own box raster
    assert mask["rle"]["counts"] == ref["counts"].decode("ascii")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", []), ("0", [0]), ("52207", [5, 2, 2, 2, 9]), ("5K", [5, -5]), ("0\\1", [0, 44])],
)
def test_parse_counts_examples(text: str, expected: list[int]) -> None:
    assert parse_counts(text, "c").tolist() == expected
