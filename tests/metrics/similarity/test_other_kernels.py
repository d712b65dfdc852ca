"""Mask IoU, OKS (against pycocotools' COCOeval), polylines and tags."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from labelproof.errors import InvalidGeometry, InvalidInput
from labelproof.metrics.similarity import (
    COCO_PERSON_SIGMAS,
    keypoint_oks,
    mask_iou,
    polyline_similarity,
    tag_similarity,
)


def mask(bits: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    return {"rle": {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}}


def test_mask_iou_against_numpy() -> None:
    rng = np.random.default_rng(0)
    a = [rng.random((20, 30)) < 0.4 for _ in range(4)]
    c = [rng.random((20, 30)) < 0.6 for _ in range(3)]
    got = mask_iou([mask(x) for x in a], [mask(y) for y in c])
    want = np.array([[(x & y).sum() / (x | y).sum() for y in c] for x in a])
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert mask_iou([], [mask(a[0])]).shape == (0, 1)


def test_mask_size_mismatch_names_the_field() -> None:
    a = mask(np.ones((4, 5), bool))
    c = mask(np.ones((5, 4), bool))
    with pytest.raises(InvalidGeometry) as err:
        mask_iou([a], [a, c])
    assert err.value.field == "b[1].rle.size"


def coco_oks(gt: np.ndarray, dt: np.ndarray, area: float, sigmas: np.ndarray) -> float:
    """pycocotools' COCOeval.computeOks on one image with one GT and one detection."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    k = gt.shape[0]
    xs, ys = gt[gt[:, 2] > 0, 0], gt[gt[:, 2] > 0, 1]
    bbox = [float(xs.min()), float(ys.min()), float(np.ptp(xs)), float(np.ptp(ys))]
    coco = COCO()
    coco.dataset = {
        "images": [{"id": 1, "width": 1000, "height": 1000}],
        "categories": [{"id": 1, "name": "p", "keypoints": [str(i) for i in range(k)]}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "keypoints": gt.ravel().tolist(),
             "num_keypoints": int((gt[:, 2] > 0).sum()), "area": area, "bbox": bbox,
             "iscrowd": 0}
        ],
    }  # fmt: skip
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        det = coco.loadRes(
            [{"image_id": 1, "category_id": 1, "keypoints": dt.ravel().tolist(), "score": 1.0}]
        )
        ev = COCOeval(coco, det, "keypoints")
        ev.params.kpt_oks_sigmas = sigmas
        ev.params.imgIds = [1]
        ev._prepare()
        return float(np.asarray(ev.computeOks(1, 1))[0, 0])


def test_oks_equals_pycocotools() -> None:
    rng = np.random.default_rng(7)
    sigmas = np.array(COCO_PERSON_SIGMAS)
    for _ in range(10):
        gt = np.c_[rng.uniform(100, 400, (17, 2)), rng.integers(0, 3, 17)]
        gt[0, 2] = 2
        gt[gt[:, 2] == 0, :2] = 0
        dt = np.c_[gt[:, :2] + rng.normal(0, 8, (17, 2)), np.full(17, 2)]
        area = float(rng.uniform(2000, 40000))
        g = {"points": gt.tolist()}
        d = {"points": dt.tolist()}
        got = keypoint_oks([g], [d], sigmas=sigmas.tolist(), areas=[area])[0, 0]
        assert got == pytest.approx(coco_oks(gt, dt, area, sigmas), abs=1e-12)


def test_oks_conventions() -> None:
    g = {"points": [[10.0, 10.0, 2], [30.0, 40.0, 1], [0.0, 0.0, 0]]}
    assert keypoint_oks([g], [g])[0, 0] == pytest.approx(1.0)
    moved = {"points": [[13.0, 14.0, 2], [30.0, 40.0, 2], [50.0, 50.0, 2]]}
    # default area: box of the labelled GT points, 20 x 30; the unlabelled point is ignored
    e = 25.0 / (2 * 0.1**2 * 600.0)
    assert keypoint_oks([g], [moved])[0, 0] == pytest.approx((math.exp(-e) + 1.0) / 2)
    none = {"points": [[0.0, 0.0, 0]] * 3}
    assert keypoint_oks([none], [g])[0, 0] == 0.0
    assert keypoint_oks([], [g]).shape == (0, 1)
    with pytest.raises(InvalidInput) as err:
        keypoint_oks([g], [g], sigmas=[0.1])
    assert err.value.field == "sigmas"


def line(*pts: tuple[float, float]) -> dict[str, Any]:
    return {"points": [list(p) for p in pts]}


def test_polyline_values() -> None:
    a = line((0, 0), (100, 0))
    shifted = line((0, 3), (100, 3))
    assert polyline_similarity([a], [a])[0, 0] == pytest.approx(1.0)
    assert polyline_similarity([a], [shifted])[0, 0] == pytest.approx(math.exp(-0.5 * 0.36))
    assert polyline_similarity([a], [shifted], tolerance=3.0)[0, 0] == pytest.approx(math.exp(-0.5))
    # densely clicked or reversed: the same shape
    dense = line((100, 0), (60, 0), (30, 0), (0, 0))
    assert polyline_similarity([a], [dense])[0, 0] == pytest.approx(1.0)
    far = line((0, 500), (100, 500))
    m = polyline_similarity([a, far], [shifted, dense, far])
    assert m.shape == (2, 3)
    assert m[0, 2] < 1e-100 and m[1, 2] == pytest.approx(1.0)
    np.testing.assert_allclose(m, polyline_similarity([shifted, dense, far], [a, far]).T)
    assert polyline_similarity([], [a]).shape == (0, 1)
    with pytest.raises(InvalidInput):
        polyline_similarity([a], [a], tolerance=0)


def test_tags() -> None:
    assert tag_similarity([{}, {}], [{}]).tolist() == [[1.0], [1.0]]
    got = tag_similarity(
        [{}, {}], [{}, {}, {}], labels_a=["cat", "dog"], labels_b=["dog", "cat", "x"]
    )
    assert got.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert tag_similarity([], [], labels_a=[], labels_b=[]).shape == (0, 0)
    with pytest.raises(InvalidInput):
        tag_similarity([{}], [{}], labels_a=["a"])
