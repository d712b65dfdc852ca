"""``labelproof eval`` and the Python surface of labelproof.metrics.coco."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import labelproof.metrics.coco as coco
from labelproof.cli import app
from labelproof.metrics.coco import CocoEvaluator, evaluate_coco_files

from .coco_cases import random_dataset, reference


def test_public_surface() -> None:
    assert sorted(coco.__all__) == [
        "COCO_KPT_SIGMAS",
        "CocoEvaluator",
        "CocoParams",
        "CocoResult",
        "evaluate_coco_files",
    ]


def _files(tmp_path: Path, seed: int = 4, iou_type: str = "bbox") -> tuple[Path, Path, Any]:
    gt, dets = random_dataset(seed, iou_type=iou_type)
    gp, pp = tmp_path / "gt.json", tmp_path / "pred.json"
    gp.write_text(json.dumps(gt))
    pp.write_text(json.dumps(dets))
    return gp, pp, (gt, dets)


def test_cli_json_equals_pycocotools(tmp_path: Path) -> None:
    gp, pp, (gt, dets) = _files(tmp_path)
    out = CliRunner().invoke(app, ["eval", "--gt", str(gp), "--pred", str(pp), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    ref, _ = reference(gt, dets, "bbox")
    np.testing.assert_allclose(doc["stats"], ref, atol=1e-9)
    assert len(doc["curves"]["recall_thresholds"]) == 101
    cid = str(gt["categories"][0]["id"])
    assert set(doc["curves"]["precision"][cid]) == {"iou_mean", "iou_50", "iou_75"}
    assert doc["params"]["max_dets"] == [1, 10, 100]
    assert doc["n_dt"] == len(dets)


def test_cli_options_and_table(tmp_path: Path) -> None:
    gp, pp, (gt, dets) = _files(tmp_path)
    cats = sorted(c["id"] for c in gt["categories"])[:2]
    args = [
        "eval",
        "--gt",
        str(gp),
        "--pred",
        str(pp),
        "--json",
        "--no-cats",
        "--iou-thrs",
        "0.5,0.75",
        "--max-dets",
        "1,10,100",
        "--cat-ids",
        ",".join(map(str, cats)),
    ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    ref, _ = reference(gt, dets, "bbox", use_cats=False, iou_thrs=[0.5, 0.75], cat_ids=cats)
    np.testing.assert_allclose(json.loads(out.stdout)["stats"], ref, atol=1e-9)
    table = CliRunner().invoke(app, ["eval", "--gt", str(gp), "--pred", str(pp)])
    assert table.exit_code == 0
    assert "AP@[.50:.95] area=all maxDets=100" in table.stdout


def test_cli_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    gp, pp, (_, dets) = _files(tmp_path)
    dets[0]["category_id"] = 4242
    pp.write_text(json.dumps(dets))
    out = CliRunner().invoke(app, ["eval", "--gt", str(gp), "--pred", str(pp)])
    assert out.exit_code == 2
    assert "4242" in out.stderr and "detections[0]" in out.stderr
    assert "Traceback" not in out.output
    out = CliRunner().invoke(
        app, ["eval", "--gt", str(gp), "--pred", str(pp), "--iou-type", "mask"]
    )
    assert out.exit_code == 2 and "iou-type" in out.stderr


def test_result_fields(tmp_path: Path) -> None:
    gp, pp, (gt, _) = _files(tmp_path)
    res = evaluate_coco_files(gp, pp, "bbox")
    d = res.to_dict()
    assert d["n_images"] == len(gt["images"]) and d["n_gt"] == len(gt["annotations"])
    assert "pycocotools" in res.definition
    assert len(res.stat_names) == len(res.stats) == 12
    assert res.precision.shape == (10, 101, len(gt["categories"]), 4, 3)
    json.dumps(d)


def test_array_predictions_equal_records() -> None:
    gt, dets = random_dataset(8)
    arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dets])
    a = CocoEvaluator("bbox")
    a.update(gt=copy.deepcopy(gt), predictions=arr)
    b = CocoEvaluator("bbox")
    b.update(gt=copy.deepcopy(gt), predictions=copy.deepcopy(dets))
    assert a.compute().stats == b.compute().stats


# Boxes on a coarse integer grid: many exact IoU ties, threshold hits and score ties.
_box = st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 4), st.integers(1, 4))


@st.composite
def _datasets(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    n_img = draw(st.integers(1, 3))
    anns, dets = [], []
    for i in range(n_img):
        for b in draw(st.lists(_box, max_size=5)):
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": draw(st.sampled_from([1, 2])),
                    "bbox": [float(v) for v in b],
                    "area": float(b[2] * b[3] * 40),
                    "iscrowd": int(draw(st.integers(0, 9)) == 0),
                }
            )
        for b in draw(st.lists(_box, max_size=6)):
            dets.append(
                {
                    "image_id": i + 1,
                    "category_id": draw(st.sampled_from([1, 2])),
                    "bbox": [float(v) for v in b],
                    "score": draw(st.sampled_from([0.25, 0.5, 0.75, 1.0])),
                }
            )
    images = [{"id": i + 1, "height": 20, "width": 20} for i in range(n_img)]
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }
    return gt, dets


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_datasets(), st.booleans())
def test_property_equal_to_pycocotools(data: Any, use_cats: bool) -> None:
    gt, dets = data
    if not dets:
        return  # pycocotools.loadRes cannot take an empty list
    ref, ref_eval = reference(gt, dets, "bbox", use_cats=use_cats, max_dets=[1, 2, 100])
    ev = CocoEvaluator("bbox", use_cats=use_cats, max_dets=[1, 2, 100])
    ev.update(gt=copy.deepcopy(gt), predictions=copy.deepcopy(dets))
    res = ev.compute()
    np.testing.assert_allclose(res.stats, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.precision, ref_eval["precision"], rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(_datasets(), st.integers(-50, 50), st.integers(-50, 50))
def test_property_translation_invariant(data: Any, dx: int, dy: int) -> None:
    gt, dets = data
    moved_gt, moved = copy.deepcopy(gt), copy.deepcopy(dets)
    for r in moved_gt["annotations"] + moved:
        r["bbox"][0] += 60 + dx
        r["bbox"][1] += 60 + dy
    a, b = CocoEvaluator("bbox"), CocoEvaluator("bbox")
    a.update(gt=copy.deepcopy(gt), predictions=copy.deepcopy(dets))
    b.update(gt=moved_gt, predictions=moved)
    sa, sb = a.compute().stats, b.compute().stats
    assert all(-1 <= s <= 1 for s in sa)
    assert sa == pytest.approx(sb, abs=1e-12)
