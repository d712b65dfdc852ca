"""One small Label Studio project used by the connector tests, live and fake.

Three images; labelproof pushes model predictions (boxes, a polygon, choices); two "humans"
annotate through the Label Studio API (the administrator on every task, ``human2`` on two).
All geometry is defined here in pixels, so the tests can check what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labelproof.connectors.labelstudio import LabelStudioClient, import_images, push
from labelproof.formats.model import Annotation, Category, Dataset, Image

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="cat"/><Label value="dog"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image">
    <Label value="cat"/><Label value="dog"/>
  </PolygonLabels>
  <Choices name="scene" toName="image">
    <Choice value="indoor"/><Choice value="outdoor"/>
  </Choices>
</View>"""

SIZES = {"a.png": (64, 48), "b.png": (80, 60), "c.png": (50, 50)}
ADMIN_EMAIL = "admin@labelproof.test"
HUMAN2_EMAIL = "human2@labelproof.test"
MODEL = "m1"

Shape = tuple[str, str, dict[str, Any]]
"""(type, label, canonical geometry in px)."""

HUMAN: dict[str, dict[str, list[Shape]]] = {
    ADMIN_EMAIL: {
        "a.png": [
            ("box", "cat", {"x": 3.5, "y": 4.0, "w": 20.0, "h": 11.0}),
            ("box", "dog", {"x": 2.0, "y": 30.0, "w": 10.0, "h": 10.0}),
            ("polygon", "cat", {"points": [[5.0, 30.0], [25.0, 31.5], [15.5, 44.0]]}),
            ("tag", "indoor", {}),
        ],
        "b.png": [
            ("box", "dog", {"x": 10.0, "y": 11.0, "w": 30.0, "h": 20.0}),
            ("tag", "indoor", {}),
        ],
        "c.png": [("box", "cat", {"x": 5.0, "y": 5.0, "w": 20.0, "h": 20.0})],
    },
    HUMAN2_EMAIL: {
        "a.png": [
            ("box", "cat", {"x": 3.0, "y": 4.5, "w": 21.0, "h": 10.0}),
            ("polygon", "cat", {"points": [[5.2, 30.1], [24.8, 31.2], [15.2, 44.5]]}),
            ("tag", "indoor", {}),
        ],
        "b.png": [
            ("box", "dog", {"x": 10.5, "y": 10.5, "w": 29.0, "h": 21.0}),
            ("box", "cat", {"x": 60.0, "y": 40.0, "w": 12.0, "h": 12.0}),
            ("tag", "outdoor", {}),
        ],
    },
}


def prediction_dataset() -> Dataset:
    """The model output labelproof pushes (awkward floats on purpose)."""
    ds = Dataset(
        images=[Image(i, n, w, h) for i, (n, (w, h)) in enumerate(SIZES.items(), 1)],
        categories=[
            Category(1, "cat"),
            Category(2, "dog"),
            Category(3, "indoor"),
            Category(4, "outdoor"),
        ],
    )
    ds.annotations = [
        Annotation(1, "box", 1, {"x": 3.25, "y": 4.125, "w": 20.5, "h": 10.75}, score=0.9),
        Annotation(1, "box", 2, {"x": 30.1, "y": 20.2, "w": 15.3, "h": 12.4}, score=0.8),
        Annotation(
            1,
            "polygon",
            1,
            {"points": [[5.5, 30.25], [25.125, 31.0], [15.0, 44.75]], "holes": []},
            score=0.7,
        ),
        Annotation(1, "tag", 3, {}, score=0.95),
        Annotation(2, "box", 1, {"x": 10.333, "y": 10.777, "w": 30.5, "h": 20.25}, score=0.6),
        Annotation(2, "tag", 4, {}, score=0.5),
    ]
    return ds


def ls_region(n: int, shape: Shape, width: int, height: int) -> dict[str, Any]:
    """A Label Studio result region as the labeling interface would save it."""
    kind, label, g = shape
    base = {
        "id": f"h{n}",
        "to_name": "image",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
    }
    if kind == "box":
        value = {
            "x": g["x"] * 100 / width,
            "y": g["y"] * 100 / height,
            "width": g["w"] * 100 / width,
            "height": g["h"] * 100 / height,
            "rotation": 0,
            "rectanglelabels": [label],
        }
        return {**base, "type": "rectanglelabels", "from_name": "box", "value": value}
    if kind == "polygon":
        pts = [[x * 100 / width, y * 100 / height] for x, y in g["points"]]
        return {
            **base,
            "type": "polygonlabels",
            "from_name": "poly",
            "value": {"points": pts, "polygonlabels": [label]},
        }
    return {
        "id": f"h{n}",
        "type": "choices",
        "from_name": "scene",
        "to_name": "image",
        "value": {"choices": [label]},
    }


@dataclass(frozen=True)
class Scenario:
    project_id: int
    task_ids: dict[str, int]
    """image file name -> task id"""
    users: dict[str, int]
    """annotator e-mail -> user id"""
    dataset: Dataset
    created: int


def build(client: LabelStudioClient, url_for: Callable[[Image], str]) -> Scenario:
    """Create the project, import the images, push the predictions, annotate as humans."""
    project = client.create_project("labelproof scenario", CONFIG)
    pid = int(project["id"])
    ds = prediction_dataset()
    by_image = import_images(client, pid, ds, url_for=url_for)
    outcome = push(client, pid, ds, as_predictions=True, model_version=MODEL)
    assert outcome.task_ids == by_image  # matched by file name
    human2 = int(client.create_user(HUMAN2_EMAIL)["id"])
    admin = next(int(u["id"]) for u in client.list_users() if u.get("email") == ADMIN_EMAIL)
    names = {im.id: im.file_name for im in ds.images}
    task_ids = {names[i]: t for i, t in by_image.items()}
    n = 0
    for email, who in ((ADMIN_EMAIL, None), (HUMAN2_EMAIL, human2)):
        for name, shapes in HUMAN[email].items():
            w, h = SIZES[name]
            result = []
            for s in shapes:
                n += 1
                result.append(ls_region(n, s, w, h))
            client.create_annotation(task_ids[name], result, completed_by=who)
    return Scenario(pid, task_ids, {ADMIN_EMAIL: admin, HUMAN2_EMAIL: human2}, ds, outcome.created)
