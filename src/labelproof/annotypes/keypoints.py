"""``keypoints``: ``{"points": [[x, y, v], ...]}``, one entry per keypoint of the skeleton.

``v``: 0 not labelled, 1 labelled but occluded, 2 visible (an integer). Canonical form:
x, y floats, v int; an unlabelled point (v = 0) becomes ``[0.0, 0.0, 0]`` (COCO's
convention; its coordinates mean nothing) and is not checked against the image. Without
a skeleton only the structure is checked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton

VISIBILITY = (0, 1, 2)


def _parse(
    geometry: Any, image: ImageSize | None, skeleton: Skeleton | None, field: str
) -> list[list[Any]]:
    g = c.mapping(geometry, field, required=("points",))
    path = f"{field}.points"
    seq = c.sequence(g["points"], path)
    if len(seq) > c.MAX_VERTICES:
        c.fail(path, f"has {len(seq)} points, more than the limit of {c.MAX_VERTICES}")
    if skeleton is not None:
        n = len(skeleton.keypoints)
        if len(seq) > n:
            c.fail(
                f"{path}[{n}]",
                f"keypoint index {n} is outside the {skeleton.describe()} of {n} keypoints "
                f"({len(seq)} points given)",
            )
        if len(seq) < n:
            c.fail(
                path,
                f"{len(seq)} points given but the {skeleton.describe()} has {n} keypoints",
            )
    elif not seq:
        c.fail(path, "needs at least 1 point")
    out: list[list[Any]] = []
    for i, p in enumerate(seq):
        ppath = f"{path}[{i}]"
        item = c.sequence(p, ppath)
        if len(item) != 3:
            c.fail(ppath, f"must be [x, y, v], got {c.show(p)}")
        x = c.number(item[0], f"{ppath}[0]")
        y = c.number(item[1], f"{ppath}[1]")
        v = c.integer(item[2], f"{ppath}[2]")
        if v not in VISIBILITY:
            c.fail(f"{ppath}[2]", f"visibility must be 0, 1 or 2, got {v}")
        if v == 0:
            out.append([0.0, 0.0, 0])
            continue
        if image is not None and not (0.0 <= x <= image.width and 0.0 <= y <= image.height):
            name = f" ({skeleton.keypoints[i]!r})" if skeleton is not None else ""
            c.fail(
                ppath,
                f"keypoint{name} ({c.fmt_num(x)}, {c.fmt_num(y)}) is outside the image "
                f"{image.width}x{image.height}",
            )
        out.append([x, y, v])
    return out


class KeypointsType(AnnotationType):
    name: ClassVar[str] = "keypoints"
    title: ClassVar[str] = "Keypoints (skeleton)"
    needs_skeleton: ClassVar[bool] = True
    example_skeleton: ClassVar[Skeleton | None] = Skeleton(
        keypoints=("head", "left_hand", "right_hand"), edges=((0, 1), (0, 2)), name="person"
    )

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        return {"points": _parse(geometry, image, skeleton, field)}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float] | None:
        """Bounds of the labelled points (v > 0); None when none is labelled."""
        pts = [p for p in _parse(geometry, None, None, "geometry") if p[2] > 0]
        if not pts:
            return None
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))

    def area(self, geometry: Any) -> float:
        _parse(geometry, None, None, "geometry")
        return 0.0

    def example(self) -> dict[str, Any]:
        return {"points": [[30.0, 10.0, 2], [10.0, 40.0, 1], [0.0, 0.0, 0]]}


ANNOTATION_TYPE = KeypointsType()
