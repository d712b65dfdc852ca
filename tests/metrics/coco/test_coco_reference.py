"""labelproof.metrics.coco against pycocotools itself, corner case by corner case."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from .coco_cases import assert_same, ours, random_dataset

IMG = {"height": 100, "width": 100}


def gt_of(anns: list[dict[str, Any]], n_images: int = 3, cats: tuple[int, ...] = (1, 2)) -> dict:
    images = [{"id": i + 1, **IMG} for i in range(n_images)]
    full = []
    for k, a in enumerate(anns):
        b = a.get("bbox", [10, 10, 20, 20])
        full.append(
            {
                "id": k + 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": b[2] * b[3],
                "bbox": b,
                **a,
            }
        )
    return {
        "images": images,
        "annotations": full,
        "categories": [{"id": c, "name": str(c)} for c in cats],
    }


def det(bbox: list[float], score: float, img: int = 1, cat: int = 1) -> dict[str, Any]:
    return {"image_id": img, "category_id": cat, "bbox": bbox, "score": score}


def test_crowd_uses_detection_area_and_matches_many() -> None:
    gt = gt_of([{"bbox": [0, 0, 50, 50]}, {"bbox": [0, 0, 100, 100], "iscrowd": 1, "area": 10000}])
    dets = [
        det([0, 0, 50, 50], 0.9),
        det([60, 60, 20, 20], 0.8),
        det([55, 5, 30, 30], 0.7),
        det([1, 1, 48, 48], 0.95),
    ]
    res = assert_same(gt, dets, "bbox")
    assert res.stats[1] == pytest.approx(1.0)  # crowd swallows the extra detections


def test_gt_area_field_decides_area_range_not_the_box() -> None:
    gt = gt_of(
        [
            {"bbox": [0, 0, 60, 60], "area": 100.0},  # small by area, large by box
            {"bbox": [40, 40, 10, 10], "area": 5000.0},
        ]
    )
    dets = [det([0, 0, 60, 60], 0.9), det([40, 40, 10, 10], 0.8), det([5, 80, 5, 5], 0.7)]
    assert_same(gt, dets, "bbox")


def test_ignore_field_is_not_used_only_iscrowd() -> None:
    gt = gt_of([{"bbox": [0, 0, 30, 30], "ignore": 1}, {"bbox": [50, 50, 30, 30]}])
    dets = [det([0, 0, 30, 30], 0.9), det([50, 50, 30, 30], 0.5)]
    res = assert_same(gt, dets, "bbox")
    assert res.stats[0] == pytest.approx(1.0)


def test_max_dets_and_images_without_gt_or_detections() -> None:
    rng = np.random.default_rng(3)
    gt = gt_of([{"bbox": [float(x), 5.0, 8.0, 8.0]} for x in range(0, 90, 9)], n_images=4)
    dets = [det([float(x), 5.0, 8.0, 8.0], float(rng.random())) for x in range(0, 90, 9)]
    dets += [
        det([float(rng.uniform(0, 90)), 50.0, 5.0, 5.0], float(rng.random())) for _ in range(130)
    ]
    dets += [det([1.0, 1.0, 5.0, 5.0], 0.3, img=3)]  # detections on an image with no gt
    assert_same(gt, dets, "bbox")
    assert_same(gt, dets, "bbox", max_dets=[1, 5, 100])
    assert_same(gt, dets, "bbox", max_dets=[2, 10, 50])  # no 100: stats[0] is -1
    assert ours(gt, dets, "bbox", max_dets=[2, 10, 50]).stats[0] == -1


def test_score_ties_follow_mergesort_order_within_and_across_images() -> None:
    gt = gt_of(
        [
            {"bbox": [0, 0, 20, 20]},
            {"bbox": [0, 0, 20, 20], "image_id": 2},
            {"bbox": [50, 50, 20, 20], "image_id": 2},
        ],
        n_images=2,
    )
    dets = [
        det([0, 0, 20, 20], 0.5, img=2),
        det([60, 0, 20, 20], 0.5, img=1),
        det([0, 0, 20, 20], 0.5, img=1),
        det([50, 50, 20, 20], 0.5, img=2),
        det([0, 0, 21, 21], 0.5, img=1),
    ]
    assert_same(gt, dets, "bbox")
    assert_same(gt, list(reversed(dets)), "bbox")


def test_equal_iou_picks_the_last_ground_truth_and_gt_id_zero() -> None:
    gt = gt_of(
        [
            {"bbox": [0, 0, 20, 20]},
            {"bbox": [10, 0, 20, 20]},
            {"bbox": [0, 0, 20, 20], "category_id": 2},
        ]
    )
    gt["annotations"][0]["id"] = 0
    gt["annotations"][0]["area"] = 2000.0  # medium
    dets = [det([5, 0, 20, 20], 0.9), det([5, 0, 20, 20], 0.8), det([0, 0, 20, 20], 0.7, cat=2)]
    assert_same(gt, dets, "bbox")


def test_category_without_gt_is_minus_one_and_left_out_of_the_mean() -> None:
    gt = gt_of([{"bbox": [0, 0, 20, 20]}], cats=(1, 2, 3))
    dets = [det([0, 0, 20, 20], 0.9), det([0, 0, 20, 20], 0.9, cat=3)]
    res = assert_same(gt, dets, "bbox")
    assert res.per_category_ap == {1: pytest.approx(1.0), 2: -1.0, 3: -1.0}
    assert res.stats[0] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"use_cats": False},
        {"iou_thrs": [0.3, 0.5, 0.75, 0.9]},
        {"iou_thrs": [0.6, 0.8]},
        {"cat_ids": "subset"},
        {"img_ids": "subset"},
        {"area_rng": [[0, 1e10], [0, 400], [400, 1e10]], "area_lbl": ["all", "small", "large"]},
    ],
    ids=[
        "default",
        "no-cats",
        "iou-thrs",
        "iou-thrs-no-50",
        "cat-subset",
        "img-subset",
        "area-rng",
    ],
)
def test_random_bbox_against_pycocotools(seed: int, params: dict[str, Any]) -> None:
    gt, dets = random_dataset(seed, tie_scores=seed % 2 == 1)
    p = dict(params)
    if p.get("cat_ids") == "subset":
        p["cat_ids"] = sorted(c["id"] for c in gt["categories"])[:2]
    if p.get("img_ids") == "subset":
        p["img_ids"] = sorted(i["id"] for i in gt["images"])[::2]
    assert_same(gt, dets, "bbox", **p)


@pytest.mark.parametrize("seed", range(6))
def test_random_segm_against_pycocotools(seed: int) -> None:
    gt, dets = random_dataset(100 + seed, iou_type="segm", tie_scores=seed % 2 == 0)
    assert_same(gt, dets, "segm")
    if seed < 2:
        assert_same(gt, dets, "segm", use_cats=False)


def test_segm_results_with_bbox_take_the_box_area() -> None:
    """loadRes reads results in bbox mode when the first one has a bbox: area = w*h."""
    gt, dets = random_dataset(7, iou_type="segm")
    for d in dets:
        d["bbox"] = [1.0, 1.0, 30.0, 40.0]
    assert_same(gt, dets, "segm")
    assert_same(gt, dets, "bbox")


@pytest.mark.parametrize("seed", range(6))
def test_random_keypoints_against_pycocotools(seed: int) -> None:
    gt, dets = random_dataset(200 + seed, iou_type="keypoints", tie_scores=seed % 2 == 0)
    assert_same(gt, dets, "keypoints")
    if seed == 0:
        assert_same(gt, dets, "keypoints", use_cats=False)
        assert_same(gt, dets, "keypoints", iou_thrs=[0.2, 0.5, 0.75])


def test_custom_kpt_sigmas() -> None:
    gt, dets = random_dataset(300, iou_type="keypoints")
    k = 5
    for a in gt["annotations"]:
        a["keypoints"] = a["keypoints"][: 3 * k]
        a["num_keypoints"] = sum(1 for v in a["keypoints"][2::3] if v > 0)
    for d in dets:
        d["keypoints"] = d["keypoints"][: 3 * k]
    assert_same(gt, dets, "keypoints", kpt_sigmas=[0.05, 0.1, 0.3, 0.07, 0.5])


def test_keypoint_results_with_bbox_are_read_in_bbox_mode() -> None:
    gt, dets = random_dataset(301, iou_type="keypoints")
    for d in dets:
        d["bbox"] = [0.0, 0.0, 10.0, 10.0]
    assert_same(gt, dets, "keypoints")


def test_no_detections_gives_zero_where_gt_exists() -> None:
    gt, _ = random_dataset(5)
    res = ours(gt, [], "bbox")
    ref_gt, ref_dets = (
        copy.deepcopy(gt),
        [
            {
                "image_id": gt["images"][0]["id"],
                "score": 0.1,
                "category_id": gt["categories"][0]["id"],
                "bbox": [0.0, 0.0, 0.0, 0.0],
            }
        ],
    )
    # one zero-area detection matches nothing: same numbers as no detection at all
    ref = assert_same(ref_gt, ref_dets, "bbox")
    np.testing.assert_allclose(res.stats, ref.stats, atol=1e-12)
    assert res.n_dt == 0 and res.n_gt == len(gt["annotations"])


def test_empty_everything() -> None:
    gt = {"images": [], "annotations": [], "categories": []}
    res = ours(gt, [], "bbox")
    assert res.stats == (-1.0,) * 12
    assert res.n_images == 0


@pytest.mark.parametrize("iou_type", ["segm", "keypoints"])
def test_no_detections_segm_and_keypoints(iou_type: str) -> None:
    gt, _ = random_dataset(11, iou_type=iou_type)
    res = ours(gt, [], iou_type)
    assert all(s in (0.0, -1.0) for s in res.stats)
    assert res.stats[0] == 0.0
