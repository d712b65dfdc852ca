"""The one round-trip helper every codec's tests use: write, read back, compare.

``assert_round_trip(codec, dataset, tmp)`` writes ``dataset`` with the codec, reads it
back, and checks that every annotation of a type the codec writes and reads comes back with
the same image, label and geometry (within the codec's declared ``TOLERANCE``), and every
property the codec declares in ``CARRIES``. Whatever the codec could not carry must be
counted in its write report (dropped or approximated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labelproof.annotypes import Skeleton, get_type
from labelproof.formats import Annotation, Category, Codec, Dataset, Image, LossReport
from labelproof.formats._cvat_rle import encode_coco

W, H = 200, 100
PERSON = Skeleton(("head", "left_hand", "right_hand"), ((0, 1), (0, 2)), "person")


def _mask() -> dict[str, Any]:
    bits = np.zeros((H, W), bool)
    bits[20:40, 30:70] = True
    bits[25:30, 40:45] = False
    return {"rle": encode_coco(bits)}


EXAMPLES: dict[str, dict[str, Any]] = {
    "box": {"x": 10.25, "y": 20.5, "w": 30.0, "h": 40.75},
    "rotated_box": {"cx": 100.0, "cy": 50.0, "w": 40.0, "h": 20.0, "angle": 30.0},
    "polygon": {"points": [[10.0, 10.0], [60.0, 12.0], [55.5, 50.0], [12.0, 45.25]]},
    "polyline": {"points": [[0.0, 10.0], [25.5, 12.0], [40.0, 30.0]]},
    "mask": _mask(),
    "keypoints": {"points": [[30.0, 10.0, 2], [10.0, 40.0, 2], [0.0, 0.0, 0]]},
    "tag": {},
    "cuboid": {"center": [1.0, 2.0, 0.5], "size": [4.0, 2.0, 1.5], "rotation": [0.0, 0.0, 0.5]},
}


def sample_dataset(types: list[str], *, extras: bool = True) -> Dataset:
    """One image per (type, copy): two copies per type, in splits ``train`` and ``val``."""
    cats = [
        Category(1, "car"),
        Category(2, "road sign"),
        Category(5, "person", PERSON),
    ]
    ds = Dataset(name="sample", categories=cats)
    n = 0
    for t in types:
        for copy in range(2):
            n += 1
            ds.images.append(Image(n, f"img_{t}_{copy}.jpg", W, H, "train" if copy == 0 else "val"))
            label = 5 if t == "keypoints" else (1 if copy == 0 else 2)
            g = get_type(t).validate(EXAMPLES[t], skeleton=PERSON if t == "keypoints" else None)
            a = Annotation(n, t, label, g, id=n)
            if extras:
                a.attributes = {"colour": "red"} if t != "keypoints" else {}
                a.occluded = copy == 1
                a.z_order = copy
            ds.annotations.append(a)
    return ds


def _close(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, str):
        return bool(a == b)
    if isinstance(a, int) and isinstance(b, int):
        return bool(a == b)
    return abs(float(a) - float(b)) <= tol + 1e-9


def round_trip(codec: Codec, ds: Dataset, tmp: Path) -> tuple[Dataset, LossReport, LossReport]:
    out = tmp / f"out-{codec.name}"
    out.mkdir()
    wrep = codec.write(ds, out)
    back, rrep = codec.read(out)
    return back, wrep, rrep


def assert_round_trip(codec: Codec, ds: Dataset, tmp: Path) -> tuple[Dataset, LossReport]:
    """Round-trip ``ds`` through ``codec``; returns (read-back dataset, write report)."""
    back, wrep, rrep = round_trip(codec, ds, tmp)
    carried = codec.writes & codec.reads
    originals = list(ds.iter_annotations())
    expected = [a for a in originals if a.type in carried]
    lost = len(originals) - len(expected)
    assert sum(wrep.dropped.values()) + sum(wrep.approximated.values()) >= lost, wrep.to_dict()
    assert wrep.images == len(ds.images)
    assert rrep.images == len(back.images) == len(ds.images)
    names = {c.id: c.name for c in ds.categories}
    back_names = {c.id: c.name for c in back.categories}
    by_file = {im.file_name: im for im in back.images}
    orig_images = ds.image_by_id()
    got = list(back.iter_annotations())
    assert rrep.annotations == len(got)
    for a in expected:
        im = orig_images[a.image_id]
        bim = by_file[im.file_name]
        assert (bim.width, bim.height) == (im.width, im.height)
        if "splits" in codec.carries:
            assert bim.split == im.split, (codec.name, im.file_name)
        cands = [
            b
            for b in got
            if b.image_id == bim.id and back_names[b.label] == names[a.label] and b.type == a.type
        ]
        assert cands, f"{codec.name}: {a.type} of {im.file_name} did not come back"
        b = cands[0]
        assert _close(a.geometry, b.geometry, codec.tolerance), (codec.name, a.geometry, b.geometry)
        if "attributes" in codec.carries:
            assert b.attributes == a.attributes, (codec.name, a.type)
        for prop in ("z_order", "occluded", "crowd"):
            reported = any(prop.split("_")[0] in kind for kind in wrep.dropped)
            if prop in codec.carries and not reported:
                assert getattr(b, prop) == getattr(a, prop), (codec.name, prop)
        if "score" in codec.carries:
            assert (a.score is None) == (b.score is None)
            if a.score is not None:
                assert abs(a.score - (b.score or 0.0)) < 1e-9
    return back, wrep
