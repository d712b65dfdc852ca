"""The in-memory dataset model every codec reads into and writes from.

A :class:`Dataset` holds images, categories (labels, with a skeleton for keypoint classes
and attribute specs) and annotations. Annotations live in two places:

* ``dataset.boxes`` — a :class:`BoxColumns` block of plain axis-aligned boxes as numpy
  columns (no Python object per box). Fast codecs (COCO in, YOLO and CVAT out) read and
  write this block with vectorised code.
* ``dataset.annotations`` — a list of :class:`Annotation` objects for everything else
  (any registered type, with attributes, z_order, occlusion, scores, groups, tracks).

:meth:`Dataset.iter_annotations` yields both as :class:`Annotation` objects, so a codec that
does not care about speed sees one uniform stream. Geometry is always the canonical JSON of
the annotation type registry (``labelproof.annotypes``), in full-resolution image pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import ImageSize, Skeleton

DEFAULT_SPLIT = "default"


@dataclass
class Image:
    """One image: integer ``id`` unique in the dataset, size in px, split name."""

    id: int
    file_name: str
    width: int
    height: int
    split: str = DEFAULT_SPLIT
    path: Path | None = None
    """Where the pixels are on disk, when the source had them."""

    @property
    def size(self) -> ImageSize:
        return ImageSize(self.width, self.height)


@dataclass(frozen=True)
class AttributeSpec:
    """An attribute a category allows: ``kind`` is text, number, checkbox, select or radio."""

    name: str
    kind: str = "text"
    values: tuple[str, ...] = ()
    default: str = ""
    mutable: bool = False


@dataclass
class Category:
    """A label. ``id`` is the integer id used by annotations; ``name`` is unique."""

    id: int
    name: str
    skeleton: Skeleton | None = None
    attributes: tuple[AttributeSpec, ...] = ()
    supercategory: str = ""
    color: tuple[int, int, int] | None = None


@dataclass
class Annotation:
    """One annotation: ``type`` names a registered annotation type, ``geometry`` is canonical.

    ``label`` is a category id. ``score`` is set for predictions (model output), None for
    human annotations. ``group`` ties parts of one object together (e.g. the parts of a
    multi-part polygon); ``track`` is a track id across frames.
    """

    image_id: int
    type: str
    label: int
    geometry: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    z_order: int = 0
    occluded: bool = False
    crowd: bool = False
    score: float | None = None
    group: int | None = None
    track: int | None = None
    source: str = "manual"


def _empty_f(n: int = 0, k: int | None = None) -> NDArray[np.float64]:
    return np.zeros((n, k) if k else (n,), dtype=np.float64)


@dataclass
class BoxColumns:
    """Plain axis-aligned boxes as columns; row i is one box annotation.

    Attributes:
        image_id: (N,) int64 image ids.
        label: (N,) int64 category ids.
        xywh: (N, 4) float64 ``x, y, w, h`` in px (top-left corner and size).
        ann_id: (N,) int64 annotation ids, -1 when unknown.
        score: (N,) float64 prediction scores, NaN for human annotations.
        crowd: (N,) bool COCO ``iscrowd`` flags.
    """

    image_id: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    label: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    xywh: NDArray[np.float64] = field(default_factory=lambda: _empty_f(0, 4))
    ann_id: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    score: NDArray[np.float64] = field(default_factory=_empty_f)
    crowd: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))

    def __len__(self) -> int:
        return int(self.image_id.shape[0])

    @classmethod
    def concat(cls, parts: list[BoxColumns]) -> BoxColumns:
        """All rows of ``parts``, in order (an empty block for no parts)."""
        if not parts:
            return cls()
        return cls(
            image_id=np.concatenate([p.image_id for p in parts]),
            label=np.concatenate([p.label for p in parts]),
            xywh=np.concatenate([p.xywh for p in parts]).reshape(-1, 4),
            ann_id=np.concatenate([p.ann_id for p in parts]),
            score=np.concatenate([p.score for p in parts]),
            crowd=np.concatenate([p.crowd for p in parts]),
        )

    def take(self, rows: NDArray[np.int64] | NDArray[np.bool_]) -> BoxColumns:
        """The rows selected by an index or boolean array."""
        return BoxColumns(
            self.image_id[rows],
            self.label[rows],
            self.xywh[rows].reshape(-1, 4),
            self.ann_id[rows],
            self.score[rows],
            self.crowd[rows],
        )

    def take_slice(self, start: int, stop: int) -> BoxColumns:
        """Rows ``start:stop`` as views (no copy)."""
        return BoxColumns(
            self.image_id[start:stop],
            self.label[start:stop],
            self.xywh[start:stop],
            self.ann_id[start:stop],
            self.score[start:stop],
            self.crowd[start:stop],
        )

    def row(self, i: int) -> Annotation:
        """Row ``i`` as an :class:`Annotation` of type ``box``."""
        x, y, w, h = (float(v) for v in self.xywh[i])
        score = float(self.score[i])
        ann_id = int(self.ann_id[i])
        return Annotation(
            image_id=int(self.image_id[i]),
            type="box",
            label=int(self.label[i]),
            geometry={"x": x, "y": y, "w": w, "h": h},
            id=ann_id if ann_id >= 0 else None,
            crowd=bool(self.crowd[i]),
            score=None if np.isnan(score) else score,
        )


@dataclass
class Dataset:
    """Images, categories and annotations (see the module docstring for the two stores)."""

    images: list[Image] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    boxes: BoxColumns = field(default_factory=BoxColumns)
    name: str = ""

    def __len__(self) -> int:
        """Number of annotations in both stores."""
        return len(self.annotations) + len(self.boxes)

    def iter_annotations(self) -> Iterator[Annotation]:
        """Every annotation as an object: the columnar boxes first, then the others."""
        for i in range(len(self.boxes)):
            yield self.boxes.row(i)
        yield from self.annotations

    def image_by_id(self) -> dict[int, Image]:
        return {im.id: im for im in self.images}

    def category_by_id(self) -> dict[int, Category]:
        return {c.id: c for c in self.categories}

    def category_by_name(self) -> dict[str, Category]:
        return {c.name: c for c in self.categories}

    def splits(self) -> list[str]:
        """Split names in order of first appearance (``["default"]`` for no images)."""
        seen = dict.fromkeys(im.split for im in self.images)
        return list(seen) or [DEFAULT_SPLIT]

    def materialize_boxes(self) -> None:
        """Move the columnar boxes into ``annotations`` (for code that edits objects)."""
        if len(self.boxes):
            self.annotations = [self.boxes.row(i) for i in range(len(self.boxes))] + list(
                self.annotations
            )
            self.boxes = BoxColumns()

    def next_category_id(self) -> int:
        return max((c.id for c in self.categories), default=0) + 1

    def ensure_category(self, name: str) -> Category:
        """The category called ``name``, created with the next free id when absent."""
        for c in self.categories:
            if c.name == name:
                return c
        cat = Category(id=self.next_category_id(), name=name)
        self.categories.append(cat)
        return cat
