"""Read COCO instances/keypoints JSON into a :class:`Dataset`.

Plain boxes (no segmentation, keypoints or attributes) go to the columnar box store without
a Python object per annotation; everything else becomes :class:`Annotation` objects. Big
files are parsed in chunks (``_json_stream``) so peak memory stays near the file size.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import Skeleton
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats import _json_stream
from labelproof.formats._box_order import positions
from labelproof.formats._coco_fast import box_rows
from labelproof.formats._io import load_json
from labelproof.formats.model import BoxColumns, Category, Dataset, Image
from labelproof.formats.report import LossReport, where

BOX_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"})
KNOWN_KEYS = BOX_KEYS | {"keypoints", "num_keypoints", "score", "attributes"}
EDGE_SLACK = 1.0
"""Shapes may stick out of the image by up to this many px (tool rounding); they are
clipped and reported. Further out is an error."""
CHUNKED_ABOVE = 4 << 20
"""Files above this size (bytes) are read in chunks (faster and smaller than one parse)."""
CHUNK_BYTES = 4 << 20
"""Target size of a chunk (measured on 1M boxes: 4 MiB beats 16 MiB, whose temporaries
are fresh pages, so page faults, for every chunk, and 0.5 MiB, whose per-chunk work shows)."""
BOXES_PER_BATCH = 1 << 17
"""Fast-path rows checked and added together (the columns of several chunks)."""


def _bad(path: Path, record: str, message: str) -> InvalidDataset:
    return InvalidDataset(f"{path}: {record}: {message}", field=record)


def _int(value: Any, path: Path, record: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(path, record, f"must be an integer, got {value!r}")
    return value


class _ImageFiles:
    """Which image files exist under ``root``: one directory listing, not a stat per image."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.names: set[str] = set()
        if root is not None:
            try:
                with os.scandir(root) as it:
                    self.names = {e.name for e in it if e.is_file()}
            except OSError:
                self.root = None

    def paths(self, names: list[str]) -> Iterable[Path | None]:
        """:meth:`path` of each name (all None, without a look at each, when the folder is
        absent or empty and no name holds a folder)."""
        if self.root is None or not self.names:
            joined = "\0".join(names)
            if self.root is None or ("/" not in joined and "\\" not in joined):
                return repeat(None, len(names))
        return map(self.path, names)

    def path(self, name: str) -> Path | None:
        """``root/name`` when that file exists (names with folders are checked one by one)."""
        if self.root is None:
            return None
        if "/" in name or "\\" in name or name in (".", ".."):
            p = self.root / name
            return p if p.is_file() else None
        return self.root / name if name in self.names else None


_WARM = [False]


def _warm_allocator() -> None:
    """Allocate and free one 31 MiB block, once per process.

    glibc maps blocks above its *dynamic* mmap threshold fresh from the kernel and unmaps
    them on free; freeing such a block raises the threshold to its size (at most 32 MiB)
    and lets the heap keep twice that much freed memory. Without this, the temporaries of
    every chunk (a few MiB each) were new pages: ~70k page faults and ~0.15 s of system
    time on 1M boxes, against ~28k faults after it. Other allocators: a no-op.
    """
    if not _WARM[0]:
        _WARM[0] = True
        np.empty(31 << 20, np.uint8)


class _BoxStore:
    """Box columns reserved for the rest of a file, filled block by block by the fast path,
    so the boxes are not copied again at the end (pages never written are never mapped)."""

    def __init__(self, capacity: int) -> None:
        self.cols = BoxColumns(
            np.empty(capacity, np.int64),
            np.empty(capacity, np.int64),
            np.empty((capacity, 4), np.float64),
            np.empty(capacity, np.int64),
            np.empty(capacity, np.float64),
            np.empty(capacity, np.bool_),
        )
        self.n = 0
        self.parts = 0

    def take(self, n: int) -> BoxColumns | None:
        """Views of the next ``n`` rows; None when they do not fit."""
        if self.n + n > len(self.cols):
            return None
        part = self.cols.take_slice(self.n, self.n + n)
        self.n += n
        self.parts += 1
        return part

    def used(self) -> BoxColumns:
        return self.cols.take_slice(0, self.n)


class CocoReader:
    """Reads one COCO JSON file (one split) into ``dataset``, appending."""

    def __init__(self, dataset: Dataset, report: LossReport) -> None:
        self.ds = dataset
        self.report = report
        self.cat_ids: dict[int, Category] = {c.id: c for c in dataset.categories}
        self.box_parts: list[BoxColumns] = []
        self._img_size: dict[int, tuple[int, int, str]] | None = None
        self.img_order = np.zeros(0, np.int64)
        self.img_wh = np.zeros((0, 2), np.float64)
        self.img_lut: NDArray[np.int64] | None = None
        self.img_lo = 0

    # -- top level ---------------------------------------------------------------------
    def read_file(self, path: Path, split: str, image_root: Path | None) -> None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InvalidDataset(f"{path}: cannot read ({exc.strerror})", field=str(path)) from None
        if size > CHUNKED_ABOVE and self._read_chunked(path, split, image_root):
            return
        raw = path.read_bytes()
        doc = load_json(path, raw)
        del raw
        if not isinstance(doc, dict):
            raise InvalidDataset(f"{path}: a COCO file is a JSON object", field=str(path))
        anns = doc.get("annotations", [])
        self._header(doc, path, split, image_root)
        if not isinstance(anns, list):
            raise _bad(path, "annotations", "must be a JSON array")
        self._annotations(anns, path)

    def _read_chunked(self, path: Path, split: str, image_root: Path | None) -> bool:
        """Read ``path`` chunk by chunk from a memory map; False (nothing added) when the
        file does not have the expected shape, so the caller parses it whole."""
        mark = (len(self.box_parts), len(self.ds.annotations), len(self.ds.images))
        report_mark = copy.deepcopy(self.report)
        _warm_allocator()
        try:
            with _json_stream.MappedFile(path) as mapped:
                doc, spans = _json_stream.split_array(
                    mapped.raw, "annotations", chunk_bytes=CHUNK_BYTES, release=mapped.release
                )
                self._header(doc, path, split, image_root)
                offset = 0
                pending: list[NDArray[np.void]] = []
                rows = 0
                store: _BoxStore | None = None
                for a, b in spans:
                    chunk = mapped.raw[a:b]
                    table = box_rows(chunk)
                    if table is None:  # any other record: through orjson, in file order
                        self._fast_boxes(pending, path, offset - rows, store)
                        pending, rows = [], 0
                        anns = _json_stream.parse_chunk(chunk)
                        self._annotations(anns, path, offset)
                        offset += len(anns)
                    else:
                        if store is None:  # room for the rest at this chunk's density
                            per_row = (b - a) / max(1, table.shape[0])
                            store = _BoxStore(int((spans[-1][1] - a) / per_row * 1.05) + 1024)
                        pending.append(table)
                        rows += table.shape[0]
                        offset += table.shape[0]
                        if rows >= BOXES_PER_BATCH:
                            self._fast_boxes(pending, path, offset - rows, store)
                            pending, rows = [], 0
                    del chunk
                    mapped.release(a, b)
                self._fast_boxes(pending, path, offset - rows, store)
            if store is not None and store.parts == len(self.box_parts) - mark[0] > 1:
                del self.box_parts[mark[0] :]  # one block: the store's rows, no copy
                self.box_parts.append(store.used())
            return True
        except _json_stream.NotChunkable:  # undo a partial read
            del self.box_parts[mark[0] :]
            del self.ds.annotations[mark[1] :]
            del self.ds.images[mark[2] :]
            self.report.__dict__.update(report_mark.__dict__)
            return False

    def _fast_boxes(
        self, tables: list[NDArray[np.void]], path: Path, offset: int, store: _BoxStore | None
    ) -> None:
        """Check and add the rows of consecutive fast-path chunks (records ``offset``
        onwards), written straight into ``store`` when it has room."""
        if not tables:
            return
        table = tables[0] if len(tables) == 1 else np.concatenate(tables)
        n = table.shape[0]
        part = store.take(n) if store is not None else None
        if part is None:
            part = _BoxStore(n).take(n)
            assert part is not None
        names = table.dtype.names or ()
        columns = (("id", part.ann_id), ("image_id", part.image_id), ("category_id", part.label))
        for key, dst in columns:
            if key not in names:
                dst.fill(-1 if key == "id" else 0)
                continue
            col = table[key]
            np.copyto(dst, col, casting="unsafe")  # (|values| < 2**53: box_rows checked)
            self._whole(dst != col, col, path, offset, key)
        if "iscrowd" in names:
            col = table["iscrowd"]
            self._whole(col != np.floor(col), col, path, offset, "iscrowd")
            np.not_equal(col, 0, out=part.crowd)
        else:
            part.crowd.fill(False)
        for i, key in enumerate("xywh"):
            part.xywh[:, i] = table[key]
        part.score.fill(np.nan)
        self._add_boxes(part, np.arange(offset, offset + n), path)

    @staticmethod
    def _whole(
        bad: NDArray[np.bool_], col: NDArray[np.float64], path: Path, offset: int, key: str
    ) -> None:
        if bad.any():
            k = int(np.argmax(bad))
            rec = f"annotations[{offset + k}].{key}"
            raise _bad(path, rec, f"must be an integer, got {col[k]}")

    def _header(self, doc: Any, path: Path, split: str, image_root: Path | None) -> None:
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            raise InvalidDataset(f"{path}: not a COCO file (no 'images' array)", field=str(path))
        for i, c in enumerate(doc.get("categories") or []):
            self._category(c, path, f"categories[{i}]")
        images: list[Any] = doc["images"]
        known = [im.id for im in self.ds.images]
        if not self._images_plain(images):
            for i, im in enumerate(images):  # names the first bad record
                self._check_image(im, path, f"images[{i}]")
        ids = [im["id"] for im in images]
        names = [im["file_name"] for im in images]
        ws = [im["width"] for im in images]
        hs = [im["height"] for im in images]
        w_arr = np.array(ws, np.int64)
        h_arr = np.array(hs, np.int64)
        small = (w_arr <= 0) | (h_arr <= 0)
        if small.any():
            i = int(np.argmax(small))
            raise _bad(path, f"images[{i}]", f"width and height must be > 0, got {ws[i]}x{hs[i]}")
        all_ids = np.array(known + ids, np.int64)
        order = np.argsort(all_ids, kind="stable")
        sorted_ids = all_ids[order]
        twice = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
        if twice.size:
            i = int(order[twice + 1].min()) - len(known)  # the first record seen before
            raise _bad(path, f"images[{i}].id", f"image id {ids[i]} appears twice")
        files = _ImageFiles(image_root)
        self.ds.images.extend(map(Image, ids, names, ws, hs, repeat(split), files.paths(names)))
        self.report.images += len(images)
        old = [(im.width, im.height) for im in self.ds.images[: len(known)]]
        wh = np.concatenate(
            [np.array(old, np.float64).reshape(-1, 2), np.stack([w_arr, h_arr], axis=1)]
        ).astype(np.float64)
        self.img_order = sorted_ids
        self.img_wh = wh[order]
        lo = int(sorted_ids[0]) if sorted_ids.size else 0
        span = int(sorted_ids[-1]) - lo + 1 if sorted_ids.size else 0
        self.img_lut = None
        if 0 < span <= 4 * sorted_ids.size + 4096:  # dense ids: a table, not a search
            self.img_lut = np.full(span, -1, np.int64)
            self.img_lut[sorted_ids - lo] = np.arange(sorted_ids.size)
        self.img_lo = lo

    @staticmethod
    def _images_plain(images: list[Any]) -> bool:
        """Every image record is a dict with an int id, width and height and a non-empty
        str file_name (checked a column at a time, in C loops)."""
        if set(map(type, images)) - {dict}:
            return False
        get = itemgetter("id", "width", "height")
        try:
            cols = list(zip(*map(get, images), strict=True)) if images else [(), (), ()]
            names = list(map(itemgetter("file_name"), images))
        except KeyError:
            return False
        return (
            all(set(map(type, col)) <= {int} for col in cols)
            and set(map(type, names)) <= {str}
            and "" not in names
        )

    def _check_image(self, im: Any, path: Path, rec: str) -> None:
        if not isinstance(im, dict):
            raise _bad(path, rec, "must be a JSON object")
        _int(im.get("id"), path, f"{rec}.id")
        name = im.get("file_name")
        if not isinstance(name, str) or not name:
            raise _bad(path, f"{rec}.file_name", f"must be a non-empty string, got {name!r}")
        _int(im.get("width"), path, f"{rec}.width")
        _int(im.get("height"), path, f"{rec}.height")

    def _category(self, c: Any, path: Path, rec: str) -> None:
        if not isinstance(c, dict):
            raise _bad(path, rec, "must be a JSON object")
        cid = _int(c.get("id"), path, f"{rec}.id")
        name = c.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(path, f"{rec}.name", f"must be a non-empty string, got {name!r}")
        skeleton = None
        if c.get("keypoints"):
            edges = [[a - 1, b - 1] for a, b in c.get("skeleton") or []]
            try:
                skeleton = Skeleton.from_json(
                    {"keypoints": c["keypoints"], "edges": edges, "name": name}, field=rec
                )
            except (InvalidInput, TypeError, ValueError) as exc:
                raise _bad(path, rec, f"bad skeleton: {exc}") from None
        current = self.cat_ids.get(cid)
        if current is not None:
            if current.name != name:
                raise _bad(path, f"{rec}.id", f"category id {cid} is {current.name!r} elsewhere")
            if skeleton is not None and current.skeleton is None:
                current.skeleton = skeleton
            return
        if any(x.name == name for x in self.ds.categories):
            raise _bad(path, f"{rec}.name", f"category name {name!r} appears twice")
        cat = Category(cid, name, skeleton, supercategory=str(c.get("supercategory") or ""))
        self.ds.categories.append(cat)
        self.cat_ids[cid] = cat

    # -- annotations -------------------------------------------------------------------
    def _annotations(self, anns: list[Any], path: Path, offset: int = 0) -> None:
        simple: list[int] = []
        for i, a in enumerate(anns):
            if (
                type(a) is dict
                and a.keys() <= BOX_KEYS
                and not a.get("segmentation")
                and "bbox" in a
            ):
                simple.append(i)
            else:
                self._general(a, path, offset + i)
        if simple:
            self._boxes([anns[i] for i in simple], [offset + i for i in simple], path)

    def _boxes(self, anns: list[dict[str, Any]], rows: list[int], path: Path) -> None:
        n = len(anns)
        try:
            xywh = np.array([a["bbox"] for a in anns], dtype=np.float64)
            img = np.array([a["image_id"] for a in anns], dtype=np.int64)
            cat = np.array([a["category_id"] for a in anns], dtype=np.int64)
            ids = np.array([a.get("id", -1) for a in anns], dtype=np.int64)
            crowd = np.array([a.get("iscrowd", 0) for a in anns], dtype=np.int64)
        except (KeyError, TypeError, ValueError, OverflowError):
            for i, a in zip(rows, anns, strict=True):  # find the record to name
                self._check_box_record(a, path, i)
            raise
        if xywh.shape != (n, 4):
            for i, a in zip(rows, anns, strict=True):
                self._check_box_record(a, path, i)
        part = BoxColumns(img, cat, xywh, ids, np.full(n, np.nan), crowd.astype(bool))
        self._add_boxes(part, np.asarray(rows), path)

    def _image_rows(self, img: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """(row of each image id in ``img_order``, whether it is known)."""
        n_img = len(self.img_order)
        if self.img_lut is not None:
            at = img - self.img_lo
            inside = (at >= 0) & (at < self.img_lut.shape[0])
            if not inside.all():
                at = np.where(inside, at, 0)
            pos = self.img_lut[at]
            ok = inside & (pos >= 0)
            return np.maximum(pos, 0), ok
        pos = np.minimum(np.searchsorted(self.img_order, img), max(0, n_img - 1))
        ok = (self.img_order[pos] == img) if n_img else np.zeros(img.shape[0], bool)
        return pos, ok

    def _add_boxes(self, part: BoxColumns, rows: NDArray[np.int64], path: Path) -> None:
        """Validate a block of boxes (row i is record ``rows[i]``), clip those sticking out
        by up to EDGE_SLACK (in place) and add it."""
        img, cat, xywh, ids = part.image_id, part.label, part.xywh, part.ann_id
        pos, known = self._image_rows(img)
        if not known.all():
            k = int(np.argmax(~known))
            raise _bad(path, f"annotations[{rows[k]}].image_id", f"unknown image id {img[k]}")
        cat_ids = np.array(sorted(self.cat_ids), np.int64)
        at, cat_ok = positions(cat_ids, cat)
        if not cat_ok.all():
            k = int(np.argmax(~cat_ok))
            raise _bad(path, f"annotations[{rows[k]}].category_id", f"unknown category {cat[k]}")
        wh = self.img_wh[pos]
        finite = np.isfinite(xywh).all(axis=1)
        pos_size = (xywh[:, 2] > 0) & (xywh[:, 3] > 0)
        if not (finite & pos_size).all():
            k = int(np.argmax(~(finite & pos_size)))
            raise _bad(
                path, f"annotations[{rows[k]}].bbox", f"w and h must be > 0, got {xywh[k].tolist()}"
            )
        x0, y0 = xywh[:, 0], xywh[:, 1]
        x1, y1 = x0 + xywh[:, 2], y0 + xywh[:, 3]
        out = (x0 < 0) | (y0 < 0) | (x1 > wh[:, 0]) | (y1 > wh[:, 1])
        if out.any():
            far = (
                (x0 < -EDGE_SLACK)
                | (y0 < -EDGE_SLACK)
                | (x1 > wh[:, 0] + EDGE_SLACK)
                | (y1 > wh[:, 1] + EDGE_SLACK)
            )
            if far.any():
                k = int(np.argmax(far))
                iw, ih = wh[k]
                raise _bad(
                    path,
                    f"annotations[{rows[k]}].bbox",
                    f"{xywh[k].tolist()} lies outside the image {int(iw)}x{int(ih)}",
                )
            # only the boxes sticking out (x + w - x is not always w: the others keep
            # their values bit for bit)
            at_out = np.flatnonzero(out)
            iw, ih = wh[at_out, 0], wh[at_out, 1]
            nx0, ny0 = np.clip(x0[at_out], 0, iw), np.clip(y0[at_out], 0, ih)
            nx1, ny1 = np.clip(x1[at_out], 0, iw), np.clip(y1[at_out], 0, ih)
            xywh[at_out] = np.stack([nx0, ny0, nx1 - nx0, ny1 - ny0], axis=1)
            for k in np.flatnonzero(out)[:5]:
                self.report.approx("shape clipped to the image", self._where(img[k], ids[k]))
            self.report.approx(
                "shape clipped to the image", None, int(out.sum()) - min(5, int(out.sum()))
            )
            degenerate = (xywh[:, 2] <= 0) | (xywh[:, 3] <= 0)
            if degenerate.any():
                k = int(np.argmax(degenerate))
                raise _bad(path, f"annotations[{rows[k]}].bbox", "has no area inside the image")
        self.box_parts.append(part)
        names = [self.cat_ids[int(c)].name for c in cat_ids]
        counts = np.bincount(at, minlength=len(cat_ids)).tolist()
        self.report.count_many("box", Counter({names[i]: k for i, k in enumerate(counts) if k}))

    @property
    def img_size(self) -> dict[int, tuple[int, int, str]]:
        """Image id -> (width, height, file name), built on first use."""
        if self._img_size is None or len(self._img_size) != len(self.ds.images):
            self._img_size = {im.id: (im.width, im.height, im.file_name) for im in self.ds.images}
        return self._img_size

    def _where(self, image_id: Any, ann_id: Any) -> str:
        return where(int(image_id), self.img_size[int(image_id)][2], int(ann_id))

    def _check_box_record(self, a: dict[str, Any], path: Path, i: int) -> None:
        rec = f"annotations[{i}]"
        for key in ("image_id", "category_id"):
            _int(a.get(key), path, f"{rec}.{key}")
        b = a.get("bbox")
        if not (
            isinstance(b, list)
            and len(b) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
        ):
            raise _bad(path, f"{rec}.bbox", f"must be [x, y, w, h] numbers, got {b!r}")
        _int(a.get("iscrowd", 0), path, f"{rec}.iscrowd")
        if "id" in a:
            _int(a["id"], path, f"{rec}.id")

    def _general(self, a: Any, path: Path, i: int) -> None:
        from labelproof.formats._coco_shapes import read_general

        read_general(self, a, path, i)

    def finish(self) -> None:
        parts = [p for p in (self.ds.boxes, *self.box_parts) if len(p)]
        self.ds.boxes = parts[0] if len(parts) == 1 else BoxColumns.concat(parts)
        self.box_parts = []
