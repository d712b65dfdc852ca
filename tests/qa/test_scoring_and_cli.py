"""Scoring and merging without a database, and the ``labelproof qa`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labelproof.metrics.agreement import krippendorff_alpha
from labelproof.services.qa.merge import merge
from labelproof.services.qa.policy import unit_hash
from labelproof.services.qa.scoring import Counts, accuracy_counts, cluster, label_alpha
from tests.test_cli import run
from tests.world import png_bytes


def box(label: str, x: float, y: float, w: float = 10, h: float = 10) -> dict[str, Any]:
    return {"type": "box", "label": label, "geometry": {"x": x, "y": y, "w": w, "h": h}}


def test_accuracy_counts_match_confusion_missed_extra() -> None:
    ref = [box("car", 0, 0), box("person", 50, 50), box("car", 100, 100)]
    got = [box("car", 1, 0), box("car", 50, 50), box("car", 200, 200)]
    c = accuracy_counts(ref, got, 0.5)
    # car matched (IoU 0.82), person confused as car, third car missed, far car extra.
    assert c == Counts(correct=1, matched=2, missed=1, extra=1)
    assert c.accuracy == pytest.approx(1 / 4)
    assert accuracy_counts([], [], 0.5).accuracy is None
    assert accuracy_counts(ref, [], 0.5) == Counts(0, 0, 3, 0)
    # Types never match each other: a tag is not a box.
    tag = {"type": "tag", "label": "car", "geometry": {}}
    assert accuracy_counts([tag], [box("car", 0, 0)], 0.5) == Counts(0, 0, 1, 1)


def test_clusters_and_alpha_equal_the_engine() -> None:
    a = [box("car", 0, 0), box("person", 50, 50)]
    b = [box("car", 0, 0), box("car", 50, 50)]
    c = [box("car", 0, 0)]
    units = cluster([a, b, c], 0.5)
    assert [u.members for u in units] == [(0, 0, 0), (1, 1, None)]
    rows = [["car", "person"], ["car", "car"], ["car", "<none>"]]
    got = label_alpha(rows)
    assert got["value"] == pytest.approx(krippendorff_alpha(rows, bootstrap=0).value)
    assert label_alpha([["car"], ["car"]])["undefined"] == "no_variation"


def test_merge_averages_boxes_by_majority() -> None:
    sets = [[box("car", 0, 0)], [box("car", 2, 0)], [box("truck", 1, 0)]]
    merged = merge(sets, 0.5)
    (item,) = merged.annotations
    assert item["label"] == "car"
    assert item["geometry"] == pytest.approx({"x": 1.0, "y": 0.0, "w": 10.0, "h": 10.0})
    assert item["confidence"] == pytest.approx(2 / 3)
    # One annotator alone: not a majority of three, dropped.
    assert merge([[box("car", 0, 0)], [], []], 0.5).annotations == []
    assert merge([[], []], 0.5).agreement["value"] == 1.0


def test_sampling_hash_is_deterministic_and_near_the_rate() -> None:
    draws = [unit_hash("seed", "audit", i) for i in range(4000)]
    assert draws == [unit_hash("seed", "audit", i) for i in range(4000)]
    assert all(0 <= d < 1 for d in draws)
    assert sum(d < 0.1 for d in draws) / 4000 == pytest.approx(0.1, abs=0.02)


def test_qa_commands(tmp_path: Path) -> None:
    d = tmp_path / "data"
    boss = ("--as", "boss@x.test")
    run("init", "--email", "boss@x.test", "--org", "X", "--slug", "x", data_dir=d)
    run("project", "create", "Roads", *boss, data_dir=d)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"classes": [{"name": "car", "types": ["box"]}]}))
    run("project", "schema", "1", str(schema), *boss, data_dir=d)
    img = tmp_path / "road.png"
    img.write_bytes(png_bytes(40, 30))
    run("asset", "add", "1", str(img), *boss, data_dir=d)
    out = run("qa", "policy", "1", "--set", "accuracy_bar=0.95", *boss, data_dir=d).stdout
    assert json.loads(out)["settings"]["accuracy_bar"] == 0.95
    bad = run("qa", "policy", "1", "--set", "nope=1", *boss, data_dir=d, ok=False)
    assert bad.returncode == 2 and "unknown keys ['nope']" in bad.stderr
    assert "Traceback" not in bad.stderr
    guide = tmp_path / "sop.txt"
    guide.write_text("Box every car.")
    out = run("qa", "sop", "1", str(guide), "--item", "All cars boxed", *boss, data_dir=d).stdout
    assert out.strip() == "SOP version 1 with 1 self-check items"
    out = run("qa", "batch", "1", "cal", "calibration", "--asset", "1", *boss, data_dir=d).stdout
    batch = json.loads(out)
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps([box("car", 1, 1)]))
    run("qa", "answer", str(batch["task_ids"][0]), str(answer), *boss, data_dir=d)
    report = json.loads(run("qa", "evaluate", str(batch["batch_id"]), *boss, data_dir=d).stdout)
    assert report["n_tasks"] == 1 and report["decisions"] == {}
    fig = json.loads(run("qa", "figures", "1", *boss, data_dir=d).stdout)
    assert fig["n_events"] == 0 and "gold_accuracy" in fig["definitions"]
