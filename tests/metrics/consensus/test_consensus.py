"""Consensus merges: values, STAPLE against a direct EM, and identity properties."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.annotypes import ImageSize
from labelproof.errors import InvalidInput
from labelproof.metrics.consensus import (
    fuse_boxes,
    merge_keypoints,
    staple,
    vote_masks,
    vote_polygons,
    vote_tags,
)


def mask(bits: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    r = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    return {"rle": {"size": list(r["size"]), "counts": r["counts"].decode("ascii")}}


def bits_of(g: dict[str, Any]) -> np.ndarray:
    from pycocotools import mask as mask_utils

    rle = {"size": g["rle"]["size"], "counts": g["rle"]["counts"].encode()}
    return mask_utils.decode(rle).astype(bool)


def test_tag_vote() -> None:
    r = vote_tags(["cat", "dog", "cat"])
    assert (r.label, r.agreement, r.tie, r.votes) == ("cat", 2 / 3, False, {"cat": 2.0, "dog": 1.0})
    r = vote_tags(["dog", "cat"])
    assert (r.label, r.tie, r.tied_labels, r.agreement) == ("cat", True, ("cat", "dog"), 0.5)
    r = vote_tags(["dog", "cat", "cat"], weights=[3.0, 1.0, 1.0])
    assert (r.label, r.agreement) == ("dog", 0.6)
    json.dumps(r.to_dict())
    with pytest.raises(InvalidInput) as err:
        vote_tags([])
    assert err.value.field == "labels"
    with pytest.raises(InvalidInput) as err:
        vote_tags(["a", "b"], weights=[1.0, 0.0])
    assert err.value.field == "weights[1]"


def b(x: float, y: float, w: float, h: float) -> dict[str, float]:
    return {"x": x, "y": y, "w": w, "h": h}


def test_box_fusion() -> None:
    r = fuse_boxes(
        [[b(0, 0, 10, 10), b(100, 100, 5, 5)], [b(2, 0, 10, 10)], [b(0, 2, 10, 10)]],
        weights=[2.0, 1.0, 1.0],
    )
    assert len(r.boxes) == 2
    main, lone = r.boxes
    assert main.geometry == pytest.approx({"x": 0.5, "y": 0.5, "w": 10.0, "h": 10.0})
    assert main.support == 3 and main.agreement == 1.0
    assert main.members == ((0, 0), (1, 0), (2, 0))
    assert lone.agreement == 0.5 and lone.geometry == b(100, 100, 5, 5)
    assert r.agreement == pytest.approx(0.75)
    json.dumps(r.to_dict())


def test_box_fusion_one_box_per_rater_and_scores() -> None:
    # two overlapping boxes of one rater never fuse together
    r = fuse_boxes([[b(0, 0, 10, 10), b(1, 0, 10, 10)]])
    assert len(r.boxes) == 2
    r = fuse_boxes(
        [[b(0, 0, 10, 10)], [b(4, 0, 10, 10)]], scores=[[1.0], [0.25]], iou_threshold=0.4
    )
    assert r.boxes[0].geometry["x"] == pytest.approx(0.8)
    assert fuse_boxes([[], []]).boxes == ()
    with pytest.raises(InvalidInput) as err:
        fuse_boxes([[b(0, 0, 1, 1)]], scores=[[1.0, 1.0]])
    assert err.value.field == "scores[0]"


def test_mask_vote_and_polygons() -> None:
    a = np.zeros((6, 6), bool)
    a[1:4, 1:4] = True
    c = a.copy()
    c[4, 4] = True
    d = np.zeros((6, 6), bool)
    r = vote_masks([mask(a), mask(c), mask(d)])
    assert (bits_of(r.geometry) == a).all()
    assert r.agreement == pytest.approx((1.0 + 9 / 10 + 0.0) / 3)
    r = vote_masks([mask(a), mask(d)], weights=[2, 1])
    assert (bits_of(r.geometry) == a).all() and r.method == "weighted majority"
    sq = {"points": [[1.0, 1.0], [4.0, 1.0], [4.0, 4.0], [1.0, 4.0]], "holes": []}
    r = vote_polygons([sq, sq], ImageSize(6, 6))
    assert bits_of(r.geometry)[1:4, 1:4].all() and r.agreement == 1.0


def staple_reference(
    d: np.ndarray, f: float, iters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EM of STAPLE over every pixel (no pattern grouping), the paper's update equations."""
    p = np.full(d.shape[0], 0.99)
    q = np.full(d.shape[0], 0.99)
    for _ in range(iters):
        a = np.prod(np.where(d, p[:, None], 1 - p[:, None]), axis=0)
        bb = np.prod(np.where(d, 1 - q[:, None], q[:, None]), axis=0)
        w = f * a / (f * a + (1 - f) * bb)
        p = (w * d).sum(axis=1) / w.sum()
        q = ((1 - w) * (1 - d)).sum(axis=1) / (1 - w).sum()
    return w, p, q


def test_staple_against_direct_em() -> None:
    rng = np.random.default_rng(3)
    truth = np.zeros((30, 40), bool)
    truth[5:20, 8:30] = True
    raters = []
    for flip in (0.02, 0.05, 0.2, 0.1):
        noise = rng.random(truth.shape) < flip
        raters.append(truth ^ noise)
    r = staple([mask(x) for x in raters], max_iterations=500, tol=1e-12)
    assert r.converged
    d = np.stack([x.reshape(-1) for x in raters]).astype(float)
    w, p, q = staple_reference(d, float(d.mean()), r.iterations)
    np.testing.assert_allclose(r.sensitivity, p, atol=1e-9)
    np.testing.assert_allclose(r.specificity, q, atol=1e-9)
    np.testing.assert_allclose(r.probability.reshape(-1), w, atol=1e-9)
    assert (bits_of(r.geometry) == (r.probability >= 0.5)).all()
    # the noisiest rater gets the lowest specificity and the consensus beats it
    assert int(np.argmin(r.specificity)) == 2
    assert (bits_of(r.geometry) ^ truth).sum() < (raters[2] ^ truth).sum()
    d_ = r.to_dict()
    assert "probability" not in d_
    json.dumps(d_)


def test_keypoint_merge() -> None:
    a = {"points": [[10.0, 10.0, 2], [20.0, 20.0, 1], [0.0, 0.0, 0]]}
    c = {"points": [[13.0, 10.0, 1], [0.0, 0.0, 0], [0.0, 0.0, 0]]}
    d = {"points": [[10.0, 13.0, 2], [22.0, 20.0, 1], [5.0, 5.0, 2]]}
    r = merge_keypoints([a, c, d])
    (x0, y0, v0), (x1, y1, v1), last = r.geometry["points"]
    assert (x0, y0, v0) == (pytest.approx(10.6), pytest.approx(11.2), 2)
    assert (x1, y1, v1) == (pytest.approx(21.0), pytest.approx(20.0), 1)
    assert last == [0.0, 0.0, 0]  # two of three raters left it unlabelled
    assert 0.0 < r.agreement < 1.0
    none = {"points": [[0.0, 0.0, 0]] * 3}
    assert merge_keypoints([none, none]).agreement is None


coord = st.floats(0, 500)


@settings(deadline=None, max_examples=60)
@given(
    k=st.integers(1, 5),
    boxes=st.lists(
        st.tuples(coord, coord, st.floats(0.5, 100), st.floats(0.5, 100)), min_size=0, max_size=6
    ),
)
def test_identical_boxes_merge_unchanged(k: int, boxes: list[tuple[float, ...]]) -> None:
    geoms = [b(*t) for t in boxes]
    r = fuse_boxes([geoms] * k, iou_threshold=0.99)
    got = sorted(tuple(f.geometry.values()) for f in r.boxes if f.support == k)
    assert all(f.agreement == 1.0 for f in r.boxes)
    want = sorted(tuple(g.values()) for g in geoms)
    assert len(got) == len(want)
    np.testing.assert_allclose(
        np.array(got).reshape(-1, 4), np.array(want).reshape(-1, 4), rtol=1e-12, atol=1e-9
    )


@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 6),
    shape=st.tuples(st.integers(1, 15), st.integers(1, 15)),
)
def test_identical_masks_merge_unchanged(seed: int, k: int, shape: tuple[int, int]) -> None:
    bits = np.random.default_rng(seed).random(shape) < 0.4
    g = mask(bits)
    v = vote_masks([g] * k)
    assert v.geometry == g and v.agreement == 1.0
    s = staple([g] * k)
    assert s.geometry == g and s.agreement == 1.0


@settings(deadline=None, max_examples=60)
@given(
    k=st.integers(1, 6),
    pts=st.lists(st.tuples(coord, coord, st.sampled_from([0, 1, 2])), min_size=1, max_size=10),
)
def test_identical_keypoints_and_tags_merge_unchanged(
    k: int, pts: list[tuple[float, float, int]]
) -> None:
    g = {"points": [[x, y, v] if v else [0.0, 0.0, 0] for x, y, v in pts]}
    r = merge_keypoints([g] * k)
    for got, want in zip(r.geometry["points"], g["points"], strict=True):
        assert got[2] == want[2]
        assert got[:2] == pytest.approx(want[:2], rel=1e-12, abs=1e-9)
    if any(v for _, _, v in pts):
        assert r.agreement == pytest.approx(1.0)
    t = vote_tags(["cat"] * k)
    assert (t.label, t.agreement, t.tie) == ("cat", 1.0, False)
