"""Pascal VOC segmentation PNGs: ``SegmentationClass/<stem>.png`` (pixel = class index in
the label map, 0 background) and ``SegmentationObject/<stem>.png`` (pixel = 1-based index
of the ``<object>`` in ``Annotations/<stem>.xml``), 255 = void (object borders, ignored).

PNGs are written with a palette (class colours from the label map, instance colours from
the VOC palette); palette, grey and RGB PNGs are read (RGB colours are mapped back through
the label map's colours, or the VOC palette for instances).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidDataset
from labelproof.formats._io import read_text
from labelproof.formats._palette import flat_palette, voc_color

VOID = 255
CLASS_DIR = "SegmentationClass"
OBJECT_DIR = "SegmentationObject"
LIST_DIR = "Segmentation"
VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
"""The VOC 2012 label map, used when a dataset has no ``labelmap.txt``."""

LabelMap = list[tuple[str, tuple[int, int, int]]]


def read_labelmap(root: Path) -> LabelMap:
    """(name, colour) per class index from ``labelmap.txt`` (``name:r,g,b:parts:actions``),
    else the VOC 2012 classes with VOC palette colours."""
    path = root / "labelmap.txt"
    if not path.is_file():
        return [(name, voc_color(i)) for i, name in enumerate(VOC_CLASSES)]
    out: LabelMap = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.partition(":")
        color_text = rest.partition(":")[0]
        try:
            parts = [int(v) for v in color_text.split(",")] if color_text.strip() else []
        except ValueError:
            raise InvalidDataset(f"{path}: line {n}: colour {color_text!r} is not r,g,b") from None
        if parts and (len(parts) != 3 or not all(0 <= v <= 255 for v in parts)):
            raise InvalidDataset(f"{path}: line {n}: colour {color_text!r} is not r,g,b")
        rgb = (parts[0], parts[1], parts[2]) if parts else voc_color(len(out))
        out.append((name.strip(), rgb))
    return out


def load_indices(png: Path, colors: list[tuple[int, int, int]]) -> NDArray[np.uint8]:
    """(H, W) uint8 indices of a palette, grey or RGB(A) PNG; RGB colours are looked up in
    ``colors`` (index = position) and VOID's colour; InvalidDataset names an unknown one."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(png) as pim:
            mode = pim.mode
            arr = np.asarray(pim if mode in ("P", "L") else pim.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise InvalidDataset(f"{png}: not a readable PNG ({exc})") from None
    if arr.ndim == 2:
        return arr.astype(np.uint8)
    packed = (
        (arr[..., 0].astype(np.int64) << 16) | (arr[..., 1].astype(np.int64) << 8) | arr[..., 2]
    )
    lut = {(r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(colors)}
    void = voc_color(VOID)
    lut.setdefault((void[0] << 16) | (void[1] << 8) | void[2], VOID)
    values, inverse = np.unique(packed, return_inverse=True)
    index = np.empty(values.shape[0], np.uint8)
    for j, v in enumerate(values.tolist()):
        if v not in lut:
            rgb = (v >> 16, (v >> 8) & 255, v & 255)
            raise InvalidDataset(f"{png}: colour {rgb} is not in the label map", field=str(png))
        index[j] = lut[v]
    return index[inverse.reshape(packed.shape)]


def save_indices(png: Path, indices: NDArray[np.uint8], colors: list[tuple[int, int, int]]) -> None:
    """Write (H, W) uint8 indices as a palette PNG (``colors`` first, VOC palette after)."""
    from PIL import Image as PILImage

    png.parent.mkdir(parents=True, exist_ok=True)
    pim = PILImage.fromarray(indices)  # mode L; putpalette makes it P
    pim.putpalette(flat_palette(colors))
    pim.save(png)


def _sized(indices: NDArray[np.uint8], png: Path, width: int, height: int) -> NDArray[np.uint8]:
    if indices.shape != (height, width):
        raise InvalidDataset(
            f"{png}: size {indices.shape[1]}x{indices.shape[0]} is not the image's "
            f"{width}x{height}",
            field=str(png),
        )
    return indices


def read_masks(
    root: Path, stem: str, width: int, height: int, labelmap: LabelMap, names: list[str]
) -> list[tuple[str, NDArray[np.bool_], int | None]]:
    """The masks of image ``stem``: [(class name, (H, W) bits, index of its ``<object>`` or
    None)].

    With an object PNG: one mask per instance number; its class is the most common class
    index under it in the class PNG (as Datumaro reads it), else the name of ``<object>``
    number v (``names[v - 1]``). The object is linked when its name is that class. Without
    an object PNG: one mask per class in the class PNG. [] when the image has neither.
    """
    obj_png, cls_png = root / OBJECT_DIR / f"{stem}.png", root / CLASS_DIR / f"{stem}.png"
    classes = None
    if cls_png.is_file():
        classes = _sized(load_indices(cls_png, [c for _, c in labelmap]), cls_png, width, height)

    def class_name(idx: int, png: Path) -> str:
        if idx >= len(labelmap):
            raise InvalidDataset(f"{png}: class index {idx} is not in the label map")
        return labelmap[idx][0]

    out: list[tuple[str, NDArray[np.bool_], int | None]] = []
    if obj_png.is_file():
        colors = [voc_color(i) for i in range(VOID)]
        objects = _sized(load_indices(obj_png, colors), obj_png, width, height)
        for v in np.unique(objects).tolist():
            if v in (0, VOID):
                continue
            bits = objects == v
            under = classes[bits] if classes is not None else np.zeros(0, np.uint8)
            under = under[(under != 0) & (under != VOID)]
            if under.size:
                name = class_name(int(np.bincount(under).argmax()), cls_png)
            elif v <= len(names):
                name = names[v - 1]
            else:
                raise InvalidDataset(
                    f"{obj_png}: instance {v} has no class (no class pixels, no <object> #{v})",
                    field=str(obj_png),
                )
            linked = v - 1 if v <= len(names) and names[v - 1] == name else None
            out.append((name, bits, linked))
    elif classes is not None:
        for v in np.unique(classes).tolist():
            if v not in (0, VOID):
                out.append((class_name(v, cls_png), classes == v, None))
    return out
