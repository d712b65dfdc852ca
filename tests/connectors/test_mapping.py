"""The mapping between labelproof datasets and Label Studio projects, on the in-memory
stand-in: labeling configurations, image names, binding regions to controls, what push drops
and reports, argument checks. Always run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from labelproof.connectors._ls_tasks import image_name
from labelproof.connectors.labelstudio import (
    LabelStudioClient,
    ProjectSchema,
    agreement,
    compare,
    label_config_for,
    pull,
    push,
)
from labelproof.errors import InvalidInput
from labelproof.formats.model import Annotation, Category, Dataset, Image
from tests.connectors.fake_ls import FakeLabelStudio
from tests.connectors.scenario import CONFIG


def test_schema_reads_controls_labels_and_image_field() -> None:
    s = ProjectSchema.parse(CONFIG.replace('value="$image"', 'value="$photo"'))
    assert s.image_key == "photo"
    assert [(c.name, c.kind, c.to_name) for c in s.controls] == [
        ("box", "rectanglelabels", "image"),
        ("poly", "polygonlabels", "image"),
        ("scene", "choices", "image"),
    ]
    assert s.labels == ("cat", "dog", "indoor", "outdoor")
    assert s.control_for("polygonlabels", "dog").name == "poly"  # type: ignore[union-attr]
    assert s.control_for("brushlabels", "dog") is None
    assert s.control_for("rectanglelabels", "zebra") is None


def test_schema_control_without_fixed_labels_takes_any_label() -> None:
    s = ProjectSchema.parse(
        '<View><Image name="img" value="$url"/><View>'
        '<RectangleLabels name="a" toName="img"><Label value="cat"/></RectangleLabels>'
        '<RectangleLabels name="b" toName="img"/></View>'
        '<RectangleLabels name="other" toName="text"><Label value="x"/></RectangleLabels></View>'
    )
    assert [c.name for c in s.controls] == ["a", "b"]  # "other" labels no image
    assert s.control_for("rectanglelabels", "cat").name == "a"  # type: ignore[union-attr]
    assert s.control_for("rectanglelabels", "zebra").name == "b"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("<View><Image", "not a readable labeling configuration"),
        ("<View><Text name='t' value='$t'/></View>", "no <Image> object"),
        ('<!DOCTYPE v [<!ENTITY e "x">]><View/>', "not a readable labeling configuration"),
    ],
)
def test_schema_errors(config: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as info:
        ProjectSchema.parse(config)
    assert info.value.field == "label_config"


def test_label_config_for_a_dataset_parses_back() -> None:
    ds = Dataset(
        images=[Image(1, "a.png", 10, 10)],
        categories=[Category(1, 'say "hi" & <go>'), Category(2, "x"), Category(3, "unused")],
    )
    ds.annotations = [
        Annotation(1, "rotated_box", 1, {"cx": 5, "cy": 5, "w": 2, "h": 2, "angle": 10}),
        Annotation(1, "tag", 2, {}),
    ]
    s = ProjectSchema.parse(label_config_for(ds))
    assert [(c.name, c.kind, c.labels) for c in s.controls] == [
        ("box", "rectanglelabels", ('say "hi" & <go>',)),
        ("choice", "choices", ("x",)),
    ]
    empty = ProjectSchema.parse(label_config_for(Dataset(categories=[Category(1, "a")])))
    assert [(c.kind, c.labels) for c in empty.controls] == [("rectanglelabels", ("a",))]


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("http://h/x/y/img%201.jpg?sig=2", "img 1.jpg"),
        ("/data/local-files/?d=folder/sub/b.png", "b.png"),
        ("s3://bucket/key/c.webp", "c.webp"),
        ("data:image/jpeg;base64,/9j/4AAQ", "task-7.jpg"),
        ("", "task-7.jpg"),
    ],
)
def test_image_name(ref: str, name: str) -> None:
    assert image_name({"id": 7, "data": {"image": ref}}, "image") == name


def _project(config: str, names: list[tuple[str, int, int]]) -> tuple[LabelStudioClient, int]:
    fake = FakeLabelStudio()
    c = LabelStudioClient("http://ls.test", fake.token, transport=fake.transport())
    pid = int(c.create_project("mapping test", config)["id"])
    c.import_tasks(
        pid, [{"data": {"image": f"http://i/{n}", "labelproof_size": [w, h]}} for n, w, h in names]
    )
    return c, pid


def test_rotated_boxes_and_masks_round_trip_and_unbound_regions_are_reported() -> None:
    from labelproof.formats._cvat_rle import encode_coco

    config = CONFIG.replace(
        "</View>",
        '<BrushLabels name="brush" toName="image"><Label value="cat"/></BrushLabels></View>',
    )
    c, pid = _project(config, [("a.png", 40, 30)])
    bits = np.zeros((30, 40), bool)
    bits[5:12, 7:20] = True
    ds = Dataset(
        images=[Image(1, "a.png", 40, 30)], categories=[Category(1, "cat"), Category(2, "zebra")]
    )
    ds.annotations = [
        Annotation(
            1,
            "rotated_box",
            1,
            {"cx": 20.5, "cy": 15.25, "w": 10.0, "h": 6.0, "angle": 30.0},
            score=0.5,
        ),
        Annotation(1, "mask", 1, {"rle": encode_coco(bits)}, score=0.25),
        Annotation(1, "box", 2, {"x": 1.0, "y": 1.0, "w": 3.0, "h": 3.0}, score=0.9),
        Annotation(
            1,
            "polygon",
            1,
            {"points": [[1, 1], [9, 1], [5, 8]], "holes": []},
            attributes={"pose": "left"},
            score=0.75,
        ),
    ]
    out = push(c, pid, ds, model_version="v2")
    assert out.created == 1 and out.regions == 3
    assert out.report.dropped == {
        "rectanglelabels label 'zebra': no control of the project accepts it": 1,
        "attribute: no control for it in the Label Studio project": 1,
    }
    assert out.report.by_type == {"box": 1, "mask": 1, "polygon": 1}
    back = pull(c, pid)
    got = {a.type: a for a in back.annotations}
    rb = got["rotated_box"].geometry
    for k, v in {"cx": 20.5, "cy": 15.25, "w": 10.0, "h": 6.0, "angle": 30.0}.items():
        assert math.isclose(rb[k], v, rel_tol=1e-12, abs_tol=1e-9), (k, rb[k], v)
    assert got["mask"].geometry["rle"] == encode_coco(bits)
    assert got["rotated_box"].score == 0.5 and got["mask"].score == 0.25
    assert got["polygon"].attributes == {}
    task = c.tasks(pid)[0]
    assert task["predictions"][0]["model_version"] == "v2"
    assert task["predictions"][0]["score"] == pytest.approx((0.5 + 0.25 + 0.75) / 3)
    assert {r["from_name"] for r in task["predictions"][0]["result"]} == {"box", "brush", "poly"}


def test_push_as_annotations_by_id_and_by_mapping() -> None:
    c, pid = _project(CONFIG, [("a.png", 10, 10), ("a.png", 10, 10)])
    ds = Dataset(images=[Image(1, "a.png", 10, 10)], categories=[Category(1, "cat")])
    ds.annotations = [Annotation(1, "box", 1, {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0}, score=0.3)]
    with pytest.raises(InvalidInput, match="2 tasks of project 1 show an image of this name"):
        push(c, pid, ds)
    out = push(c, pid, ds, as_predictions=False, match_by="id")
    assert out.task_ids == {1: 1} and out.model_version is None
    ann = c.tasks(pid)[0]["annotations"][0]
    assert "score" not in ann["result"][0] and ann["result"][0]["from_name"] == "box"
    out = push(c, pid, ds, task_ids={1: 2}, include_empty=False)
    assert out.task_ids == {1: 2} and c.tasks(pid)[1]["predictions"][0]["result"]
    assert pull(c, pid, include="annotations").annotations[0].score is None
    with pytest.raises(InvalidInput, match="match_by"):
        push(c, pid, ds, match_by="name")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"reference": "predictions", "candidate": "predictions"}, "same as the reference"),
        ({"threshold": 0.0}, "threshold: must be in"),
        ({"threshold": True}, "threshold: must be in"),
        ({"candidate": ""}, "candidate: one of predictions, annotators"),
        ({"reference": None}, "reference: one of annotations"),
    ],
)
def test_compare_argument_errors(kw: dict[str, object], words: str) -> None:
    c, pid = _project(CONFIG, [("a.png", 10, 10)])
    with pytest.raises(InvalidInput, match=words):
        compare(c, pid, **kw)  # type: ignore[arg-type]


def test_empty_project_and_undefined_alpha() -> None:
    c, pid = _project(CONFIG, [("a.png", 10, 10), ("b.png", 10, 10)])
    res = compare(c, pid)
    assert res.n_evaluated == 0 and res.by_type == {} and res.skipped == {"no reference": 2}
    c.create_user("h2@x.test")
    for tid in (1, 2):
        for who in (None, 2):
            choice = {
                "id": "c",
                "type": "choices",
                "from_name": "scene",
                "to_name": "image",
                "value": {"choices": ["indoor"]},
            }
            c.create_annotation(tid, [choice], completed_by=who)
    agr = agreement(c, pid, bootstrap=0)
    assert agr.n_multi == 2 and agr.choices == {"scene": None}
    assert "no variation" in agr.undefined["scene"] or "0/0" in agr.undefined["scene"]
    assert agr.regions == {}
    assert agr.to_dict()["choices"]["scene"]["value"] is None


def test_cli_errors_are_messages_not_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelproof.cli import app

    runner = CliRunner()
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    res = runner.invoke(
        app,
        [
            "labelstudio",
            "compare",
            "--url",
            "http://127.0.0.1:9",
            "--project",
            "1",
            "--token-env",
            "NO_SUCH_TOKEN_VAR",
        ],
    )
    assert res.exit_code == 2 and "NO_SUCH_TOKEN_VAR is not set" in res.output
    monkeypatch.setenv("SOME_TOKEN", "abcdef123456")
    res = runner.invoke(
        app, ["labelstudio", "projects", "--url", "127.0.0.1:9", "--token-env", "SOME_TOKEN"]
    )
    assert res.exit_code == 2 and "url: a Label Studio address is http(s)://" in res.output
    assert "Traceback" not in res.output and "abcdef123456" not in res.output
