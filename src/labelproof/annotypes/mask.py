"""``mask``: ``{"rle": {"size": [height, width], "counts": "<COCO compressed RLE>"}}``.

``validate`` also accepts uncompressed RLE (``"counts": [int, ...]``) and bytes, and
returns the canonical compressed string. An empty mask (no foreground pixel) is valid: a
small shape can rasterise to nothing; its area is 0 and it has no bounds.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import _checks as c
from labelproof.annotypes import _rle
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton


def _size(value: Any, field: str) -> tuple[int, int]:
    seq = c.sequence(value, field)
    if len(seq) != 2:
        c.fail(field, f"must be [height, width], got {c.show(value)}")
    h = c.integer(seq[0], f"{field}[0]")
    w = c.integer(seq[1], f"{field}[1]")
    if h <= 0 or w <= 0:
        c.fail(field, f"height and width must be > 0, got {c.show(value)}")
    if h * w > _rle.MAX_PIXELS:
        c.fail(field, f"{h}x{w} pixels is more than the limit of {_rle.MAX_PIXELS}")
    return h, w


class MaskType(AnnotationType):
    name: ClassVar[str] = "mask"
    title: ClassVar[str] = "Mask (COCO RLE)"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        g = c.mapping(geometry, field, required=("rle",))
        rle = c.mapping(g["rle"], f"{field}.rle", required=("size", "counts"))
        h, w = _size(rle["size"], f"{field}.rle.size")
        if image is not None and (h, w) != (image.height, image.width):
            c.fail(
                f"{field}.rle.size",
                f"{[h, w]} disagrees with the image {image.width}x{image.height} "
                f"(expects {[image.height, image.width]})",
            )
        raw = rle["counts"]
        path = f"{field}.rle.counts"
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("ascii")
            except UnicodeDecodeError:
                c.fail(path, "is not ASCII")
        counts: NDArray[np.int64] | list[int]
        if isinstance(raw, str):
            if len(raw) > 7 * (2 * h * w + 2):
                c.fail(path, f"has {len(raw)} characters, too many for {h * w} pixels")
            counts = _rle.parse_counts(raw, path)
        elif isinstance(raw, list | tuple):
            if len(raw) > 2 * h * w + 2:
                c.fail(path, f"has {len(raw)} runs, too many for {h * w} pixels")
            counts = [c.integer(v, f"{path}[{i}]") for i, v in enumerate(raw)]
        else:
            c.fail(path, f"must be a string or an array of integers, got {c.type_name(raw)}")
        canonical = _rle.check_counts(counts, h, w, path)
        return {"rle": {"size": [h, w], "counts": _rle.counts_to_string(canonical, h, w)}}

    def _coco(self, geometry: Any) -> dict[str, Any]:
        rle = self.validate(geometry)["rle"]
        return {"size": rle["size"], "counts": rle["counts"].encode("ascii")}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float] | None:
        """Bounds of the foreground pixels (pixel edges: pixel (row i, column j) spans
        [j, j+1] x [i, i+1]); None for an empty mask."""
        from pycocotools import mask as mask_utils

        coco = self._coco(geometry)
        if mask_utils.area(coco) == 0:
            return None
        x, y, w, h = (float(v) for v in mask_utils.toBbox(coco))
        return (x, y, x + w, y + h)

    def area(self, geometry: Any) -> float:
        """Foreground pixel count."""
        from pycocotools import mask as mask_utils

        return float(mask_utils.area(self._coco(geometry)))

    def to_mask(self, geometry: Any, image: ImageSize) -> dict[str, Any]:
        return self.validate(geometry, image=image)

    def example(self) -> dict[str, Any]:
        # a 4x5 image (h x w) with a 2x2 square at rows 1-2, columns 1-2
        return {"rle": {"size": [4, 5], "counts": "52207"}}


ANNOTATION_TYPE = MaskType()
