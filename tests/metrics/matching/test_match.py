"""Matching: Hungarian within labels, confusions across labels, rates and quality."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from labelproof.errors import InvalidInput
from labelproof.metrics.matching import Annotation, MatchAccumulator, assign, match


def box(label: str, x: float, y: float, w: float = 10.0, h: float = 10.0, **kw: Any) -> Any:
    return {"label": label, "geometry": {"x": x, "y": y, "w": w, "h": h}, **kw}


def test_counts_rates_and_confusions() -> None:
    gt = [box("cat", 0, 0), box("cat", 100, 0), box("dog", 200, 0)]
    pred = [
        box("cat", 1, 0, id="p0"),  # IoU 9/11 with gt 0
        box("dog", 100, 0),  # exact position of gt 1, wrong class
        box("cat", 500, 500),  # nothing there
    ]
    r = match(gt, pred, type_name="box", threshold=0.5)
    assert [(m.gt_index, m.pred_index) for m in r.matches] == [(0, 0)]
    assert r.matches[0].similarity == pytest.approx(90 / 110)
    assert r.matches[0].pred_id == "p0"
    assert [(c.gt_index, c.pred_index, c.gt_label, c.pred_label) for c in r.confusions] == [
        (1, 1, "cat", "dog")
    ]
    assert r.missed == (2,)
    assert r.extra == (2,)
    assert (r.n_gt, r.n_pred, r.tp) == (3, 3, 1)
    assert r.precision == pytest.approx(1 / 3)
    assert r.recall == pytest.approx(1 / 3)
    assert r.f1 == pytest.approx(1 / 3)
    assert r.label_accuracy == pytest.approx(0.5)
    assert r.mean_iou == pytest.approx(90 / 110)
    assert r.mean_dice == pytest.approx(2 * 90 / (110 + 90))
    assert r.mean_boundary_distance_px is None
    json.dumps(r.to_dict())
    assert "Hungarian" in r.definition
    without = match(gt, pred, type_name="box", match_across_labels=False)
    assert without.confusions == () and without.missed == (1, 2)


def test_hungarian_beats_greedy() -> None:
    # p0 overlaps g0 best, but only the assignment g0-p1, g1-p0 matches both
    gt = [box("a", 0, 0), box("a", 4, 0)]
    pred = [box("a", 2, 0), box("a", -2, 0)]
    r = match(gt, pred, type_name="box", threshold=0.4)
    assert sorted((m.gt_index, m.pred_index) for m in r.matches) == [(0, 1), (1, 0)]
    sim = np.array([[0.9, 0.7], [0.6, 0.0]])
    assert sorted(assign(sim, 0.5)) == [(0, 1), (1, 0)]
    assert assign(np.array([[0.4]]), 0.5) == []
    assert assign(np.zeros((0, 3)), 0.5) == []


def test_threshold_leaves_pairs_unmatched() -> None:
    gt = [box("a", 0, 0)]
    pred = [box("a", 6, 0)]  # IoU 40/160
    assert match(gt, pred, type_name="box", threshold=0.3).tp == 0
    assert match(gt, pred, type_name="box", threshold=0.25).tp == 1


def test_empty_inputs() -> None:
    r = match([], [box("a", 0, 0), box("b", 0, 0)], type_name="box")
    assert (r.precision, r.recall, r.f1, r.label_accuracy, r.mean_iou) == (
        0.0,
        None,
        None,
        None,
        None,
    )
    assert r.extra == (0, 1)
    r = match([], [], type_name="polygon")
    assert (r.n_gt, r.n_pred, r.precision) == (0, 0, None)


def test_tags_and_keypoints() -> None:
    r = match(
        [{"label": "cat", "geometry": {}}, {"label": "sunny", "geometry": {}}],
        [Annotation("sunny", {}), Annotation("dog", {})],
        type_name="tag",
    )
    assert [(m.gt_label, m.pred_label) for m in r.matches] == [("sunny", "sunny")]
    assert [(c.gt_label, c.pred_label) for c in r.confusions] == [("cat", "dog")]
    assert r.mean_iou is None and r.mean_similarity == 1.0
    kp = {"points": [[10.0, 10.0, 2], [30.0, 40.0, 2]]}
    near = {"points": [[11.0, 10.0, 2], [30.0, 41.0, 2]]}
    r = match(
        [{"label": "p", "geometry": kp}],
        [{"label": "p", "geometry": near}],
        type_name="keypoints",
        similarity_options={"areas": [600.0], "sigmas": [0.1, 0.1]},
    )
    assert r.tp == 1 and r.matches[0].similarity == pytest.approx(np.exp(-1 / (2 * 0.04 * 600)))


def square(x0: float, y0: float, s: float) -> dict[str, Any]:
    return {"points": [[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]], "holes": []}


def test_polygon_boundary_distance_against_shapely() -> None:
    import shapely
    from shapely.geometry import Polygon

    a, b = square(0, 0, 10), square(1, 0.5, 9)
    r = match([{"label": "x", "geometry": a}], [{"label": "x", "geometry": b}], type_name="polygon")
    pa, pb = Polygon(a["points"]), Polygon(b["points"])

    def mean_to(src: Any, dst: Any) -> float:
        pts = shapely.line_interpolate_point(
            src.exterior, np.linspace(0, 1, 4001)[:-1], normalized=True
        )
        return float(shapely.distance(pts, dst.exterior).mean())

    want = 0.5 * (mean_to(pa, pb) + mean_to(pb, pa))
    assert r.mean_boundary_distance_px == pytest.approx(want, rel=2e-2)
    same = match(
        [{"label": "x", "geometry": a}], [{"label": "x", "geometry": a}], type_name="polygon"
    )
    assert same.mean_boundary_distance_px == pytest.approx(0.0, abs=1e-12)
    assert same.mean_iou == 1.0 and same.mean_dice == 1.0


def mask(bits: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    r = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    return {"rle": {"size": list(r["size"]), "counts": r["counts"].decode("ascii")}}


def test_mask_boundary_distance_brute_force() -> None:
    a = np.zeros((12, 14), bool)
    b = np.zeros((12, 14), bool)
    a[2:8, 2:8] = True
    b[3:9, 4:10] = True

    def edge(m: np.ndarray) -> np.ndarray:
        p = np.pad(m, 1)
        inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:] & m
        return np.argwhere(m & ~inner).astype(float)

    ea, eb = edge(a), edge(b)
    d = np.sqrt(((ea[:, None] - eb[None]) ** 2).sum(axis=2))
    want = 0.5 * (d.min(axis=1).mean() + d.min(axis=0).mean())
    r = match(
        [{"label": "x", "geometry": mask(a)}],
        [{"label": "x", "geometry": mask(b)}],
        type_name="mask",
    )
    assert r.tp == 0  # IoU 20/52 < 0.5
    r = match(
        [{"label": "x", "geometry": mask(a)}],
        [{"label": "x", "geometry": mask(b)}],
        type_name="mask",
        threshold=0.3,
    )
    assert r.mean_iou == pytest.approx(20 / 52)
    assert r.mean_boundary_distance_px == pytest.approx(want, abs=1e-12)


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        match([box("a", 0, 0, type="polygon")], [], type_name="box")
    assert err.value.field == "gt[0].type"
    with pytest.raises(InvalidInput) as err:
        match([], [{"label": "", "geometry": {}}], type_name="tag")
    assert err.value.field == "pred[0].label"
    with pytest.raises(InvalidInput) as err:
        match([], [box("a", 0, 0, score=2)], type_name="box")
    assert err.value.field == "pred[0].score"
    with pytest.raises(InvalidInput) as err:
        match([], [], type_name="box", threshold=0)
    assert err.value.field == "threshold"
    with pytest.raises(InvalidInput) as err:
        match([{"label": "a", "geometry": {}, "colour": 1}], [], type_name="tag")
    assert err.value.field == "gt[0]"


def test_accumulator_per_class_and_annotator() -> None:
    acc = MatchAccumulator(type_name="box", threshold=0.5)
    gt1 = [box("cat", 0, 0), box("dog", 100, 0)]
    acc.update(gt1, [box("cat", 0, 0), box("cat", 100, 0)], annotator="ann", image="img1")
    acc.update(
        gt1,
        [box("cat", 0, 0), box("dog", 100, 0), box("dog", 300, 0)],
        annotator="bob",
        image="img1",
    )
    acc.update([box("cat", 0, 0)], [], annotator="bob", image="img2")
    s = acc.compute()
    assert (s.n_updates, s.n_images) == (3, 2)
    o = s.overall
    assert (o.n_gt, o.n_pred, o.tp, o.confusions, o.fn, o.fp) == (5, 5, 3, 1, 2, 2)
    assert o.precision == pytest.approx(3 / 5) and o.recall == pytest.approx(3 / 5)
    assert o.label_accuracy == pytest.approx(3 / 4) and o.mean_iou == 1.0
    cat, dog = s.per_class["cat"], s.per_class["dog"]
    assert (cat.n_gt, cat.n_pred, cat.tp, cat.fn, cat.fp) == (3, 3, 2, 1, 1)
    assert (dog.n_gt, dog.n_pred, dog.tp, dog.confusions, dog.fn, dog.fp) == (2, 2, 1, 1, 1, 1)
    ann, bob = s.per_annotator["ann"], s.per_annotator["bob"]
    assert (ann.tp, ann.confusions, ann.precision) == (1, 1, 0.5)
    assert (bob.tp, bob.n_gt, bob.n_pred) == (2, 3, 3)
    assert s.confusion == {("dog", "cat"): 1}
    d = s.to_dict()
    json.dumps(d)
    assert d["confusion"] == [{"gt_label": "dog", "pred_label": "cat", "count": 1}]
    acc.reset()
    assert acc.compute().overall.n_gt == 0 and acc.compute().per_class == {}
