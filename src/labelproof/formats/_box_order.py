"""The columnar boxes of a dataset grouped by image, in ``dataset.images`` order.

Writers that emit one block of text per image (YOLO label files, CVAT ``<image>``
elements) format the boxes of a batch of whole images at a time with vectorised code, so
neither a Python object per box nor the whole output text is ever held.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from labelproof.formats.model import Dataset
from labelproof.formats.report import LossReport


class BoxesByImage:
    """Row order of ``dataset.boxes`` grouped by image.

    Attributes:
        position: (N,) int64 index in ``dataset.images`` of each box's image.
        rows: (K,) int64 rows of ``dataset.boxes`` (those whose image is in the dataset),
            grouped by image in ``dataset.images`` order, stable within an image.
        first: (I + 1,) int64; image k's rows are ``rows[first[k]:first[k + 1]]``.
        kept: (N,) bool, the box's image is in the dataset (the others are reported dropped).
    """

    def __init__(self, dataset: Dataset, report: LossReport) -> None:
        b = dataset.boxes
        n_img = len(dataset.images)
        img_ids = np.array([im.id for im in dataset.images], np.int64)
        self.position, self.kept = positions(img_ids, b.image_id)
        if not self.kept.all():
            report.drop("box of an image not in the dataset", None, int((~self.kept).sum()))
        kept_all = bool(self.kept.all())
        kept_rows = np.arange(len(b), dtype=np.int64) if kept_all else np.flatnonzero(self.kept)
        kept_pos = self.position if kept_all else self.position[kept_rows]
        if kept_pos.size < 2 or bool((kept_pos[1:] >= kept_pos[:-1]).all()):
            self.rows: NDArray[np.int64] = kept_rows  # already grouped (as COCO files are)
            self.identity = kept_all
        else:
            self.identity = False
            self.rows = kept_rows[np.argsort(kept_pos, kind="stable")].astype(np.int64)
        counts = np.bincount(kept_pos, minlength=n_img)
        self.first: NDArray[np.int64] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.n_images = n_img

    def batches(self, rows_per_batch: int) -> list[tuple[int, int]]:
        """[(first image, end image)) ranges of whole images, about ``rows_per_batch`` boxes
        each (an image with more boxes is a batch of its own); [] for no images."""
        if self.n_images == 0:
            return []
        marks = np.arange(rows_per_batch, int(self.first[-1]), rows_per_batch)
        cuts = np.clip(np.searchsorted(self.first, marks), 1, self.n_images)
        return list(pairwise(sorted({0, self.n_images, *cuts.tolist()})))

    def select(self, lo: int, hi: int) -> slice | NDArray[np.int64]:
        """:meth:`rows_of` as a slice when the boxes are already in image order (no copy)."""
        if self.identity:
            return slice(int(self.first[lo]), int(self.first[hi]))
        return self.rows_of(lo, hi)

    def rows_of(self, lo: int, hi: int) -> NDArray[np.int64]:
        """Rows of the boxes of images ``lo..hi-1``, grouped by image."""
        return self.rows[int(self.first[lo]) : int(self.first[hi])]

    def line_starts(self, lo: int, hi: int, line_ends: NDArray[np.int64]) -> list[int]:
        """Byte offset of each image's first line in the text of batch ``lo..hi-1`` (plus the
        end), given the batch's (rows,) line end offsets."""
        ends = np.concatenate([np.zeros(1, np.int64), line_ends])
        starts: list[int] = ends[self.first[lo : hi + 1] - self.first[lo]].tolist()
        return starts


def positions(
    img_ids: NDArray[np.int64], box_images: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """(index in ``img_ids`` of each box's image, whether it is there): a table when the ids
    are dense (COCO's usually are), else a binary search."""
    n_img = img_ids.shape[0]
    if n_img == 0:
        return np.zeros(len(box_images), np.int64), np.zeros(len(box_images), bool)
    lo, hi = int(img_ids.min()), int(img_ids.max())
    if hi - lo <= 4 * n_img + 4096:
        lut = np.full(hi - lo + 1, -1, np.int64)
        lut[img_ids[::-1] - lo] = np.arange(n_img - 1, -1, -1)  # the first of equal ids
        at = box_images - lo
        inside = (at >= 0) & (at <= hi - lo)
        pos = lut[np.where(inside, at, 0)] if not inside.all() else lut[at]
        kept = inside & (pos >= 0)
        return np.maximum(pos, 0), kept
    order = np.argsort(img_ids, kind="stable")
    at = np.minimum(np.searchsorted(img_ids[order], box_images), n_img - 1)
    kept = img_ids[order][at] == box_images
    return order[at].astype(np.int64), kept
