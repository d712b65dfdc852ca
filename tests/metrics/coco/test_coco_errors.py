"""Bad input: a clear InvalidDataset naming the file, the record and the field."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.metrics.coco import CocoEvaluator, evaluate_coco_files

from .coco_cases import random_dataset


@pytest.fixture
def data() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return random_dataset(1)


def _run(gt: Any, dets: Any, iou_type: str = "bbox") -> None:
    ev = CocoEvaluator(iou_type)  # type: ignore[arg-type]
    ev.update(gt=gt, gt_source="gt.json")
    ev.update(predictions=dets, pred_source="pred.json")
    ev.compute()


def _expect(gt: Any, dets: Any, field: str, *words: str, iou_type: str = "bbox") -> None:
    with pytest.raises(InvalidDataset) as info:
        _run(gt, dets, iou_type)
    assert info.value.field == field
    for w in words:
        assert w in info.value.message


def test_detection_on_unknown_image(data: Any) -> None:
    gt, dets = data
    dets[3]["image_id"] = 999_999_999
    _expect(gt, dets, "detections[3].image_id", "pred.json", "999999999", "absent")


def test_detection_with_unknown_category(data: Any) -> None:
    gt, dets = data
    dets[2]["category_id"] = 777
    _expect(gt, dets, "detections[2].category_id", "pred.json", "777")


@pytest.mark.parametrize(
    ("bbox", "word"),
    [
        ([1, 2, -3, 4], "negative"),
        ([-1, 2, 3, 4], "negative"),
        ([1, 2, 3], "4 numbers"),
        ([1, "2", 3, 4], "4 numbers"),
        ([1, 2, math.nan, 4], "finite"),
        (None, "4 numbers"),
    ],
)
def test_bad_detection_boxes(data: Any, bbox: Any, word: str) -> None:
    gt, dets = data
    dets[4]["bbox"] = bbox
    _expect(gt, dets, "detections[4].bbox", "pred.json", word)


def test_missing_and_bad_fields(data: Any) -> None:
    gt, dets = data
    d = copy.deepcopy(dets)
    del d[5]["score"]
    _expect(gt, d, "detections[5].score", "missing")
    d = copy.deepcopy(dets)
    d[1]["score"] = "high"
    _expect(gt, d, "detections[1].score", "number")
    g = copy.deepcopy(gt)
    del g["annotations"][2]["area"]
    _expect(g, dets, "annotations[2].area", "gt.json", "missing")
    g = copy.deepcopy(gt)
    del g["annotations"][0]["iscrowd"]
    _expect(g, dets, "annotations[0].iscrowd", "missing")
    g = copy.deepcopy(gt)
    g["annotations"][1]["iscrowd"] = 3
    _expect(g, dets, "annotations[1].iscrowd", "0 or 1")
    g = copy.deepcopy(gt)
    del g["categories"]
    _expect(g, dets, "categories", "no 'categories'")


def test_duplicate_ids(data: Any) -> None:
    gt, dets = data
    g = copy.deepcopy(gt)
    g["annotations"][3]["id"] = g["annotations"][1]["id"]
    _expect(g, dets, "annotations[3].id", "duplicates")
    g = copy.deepcopy(gt)
    g["images"][2]["id"] = g["images"][0]["id"]
    _expect(g, dets, "images[2].id", "duplicates")
    g = copy.deepcopy(gt)
    g["categories"].append(dict(g["categories"][0]))
    _expect(g, dets, f"categories[{len(g['categories']) - 1}].id", "duplicates")


def test_gt_annotation_on_unknown_image(data: Any) -> None:
    gt, dets = data
    gt["annotations"][0]["image_id"] = -5
    _expect(gt, dets, "annotations[0].image_id", "-5")


def test_rle_of_the_wrong_size() -> None:
    gt, dets = random_dataset(2, iou_type="segm")
    dets[1]["segmentation"]["size"] = [7, 9]
    _expect(gt, dets, "detections[1].segmentation", "[7, 9]", "image size", iou_type="segm")
    gt, dets = random_dataset(2, iou_type="segm")
    gt["annotations"][0]["segmentation"] = {
        "size": [gt["images"][0]["height"], gt["images"][0]["width"]],
        "counts": [1, 2, 3],
    }
    gt["annotations"][0]["image_id"] = gt["images"][0]["id"]
    _expect(gt, dets, "annotations[0].segmentation", "sum to 6", iou_type="segm")


def test_bad_keypoints() -> None:
    gt, dets = random_dataset(3, iou_type="keypoints")
    dets[0]["keypoints"] = dets[0]["keypoints"][:-3]
    _expect(gt, dets, "detections[0].keypoints", "51 numbers", iou_type="keypoints")
    gt, dets = random_dataset(3, iou_type="keypoints")
    gt["annotations"][1]["keypoints"][2] = 5
    _expect(gt, dets, "annotations[1].keypoints", "visibility", iou_type="keypoints")


def test_malformed_and_truncated_json(tmp_path: Path, data: Any) -> None:
    gt, dets = data
    gp, pp = tmp_path / "gt.json", tmp_path / "pred.json"
    gp.write_text(json.dumps(gt))
    pp.write_text(json.dumps(dets)[:-40])
    with pytest.raises(InvalidDataset, match=r"pred\.json: not valid JSON"):
        evaluate_coco_files(gp, pp)
    pp.write_text('{"not": "a list"}')
    with pytest.raises(InvalidDataset, match="list"):
        evaluate_coco_files(gp, pp)
    with pytest.raises(InvalidDataset, match="cannot read"):
        evaluate_coco_files(tmp_path / "absent.json", pp)


def test_bad_parameters() -> None:
    with pytest.raises(InvalidInput, match="iou_type"):
        CocoEvaluator("boxes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="max_dets"):
        CocoEvaluator("bbox", max_dets=[1, 10])
    with pytest.raises(InvalidInput, match="iou_thrs"):
        CocoEvaluator("bbox", iou_thrs=[1.5])
    with pytest.raises(InvalidInput, match="kpt_sigmas"):
        CocoEvaluator("keypoints", kpt_sigmas=[0.0, 0.1])


def test_reset_and_incremental_updates_equal_one_update(data: Any) -> None:
    gt, dets = data
    one = CocoEvaluator("bbox")
    one.update(gt=copy.deepcopy(gt), predictions=copy.deepcopy(dets))
    r1 = one.compute()
    inc = CocoEvaluator("bbox")
    half = len(gt["images"]) // 2
    ids_a = {i["id"] for i in gt["images"][:half]}
    for part in (True, False):
        imgs = [i for i in gt["images"] if (i["id"] in ids_a) == part]
        anns = [a for a in gt["annotations"] if (a["image_id"] in ids_a) == part]
        inc.update(
            gt={"images": imgs, "annotations": anns, "categories": gt["categories"]},
            predictions=[d for d in dets if (d["image_id"] in ids_a) == part],
        )
    assert inc.compute().stats == r1.stats
    inc.reset()
    with pytest.raises(InvalidDataset, match="absent"):
        inc.update(predictions=copy.deepcopy(dets))
    # adding the same image twice is refused
    one2 = CocoEvaluator("bbox")
    one2.update(gt=copy.deepcopy(gt))
    with pytest.raises(InvalidDataset, match="already added"):
        one2.update(gt=copy.deepcopy(gt))
