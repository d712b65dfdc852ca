"""Dataset import and project export through HTTP: round trip, all-or-nothing, audit."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from sqlalchemy import func, select

from labelproof.store.models import AnnotationRevision, Asset, AuditEvent
from tests.world import World

ITEMS = [
    {"id": "b1", "type": "box", "label": "car", "geometry": {"x": 10, "y": 20, "w": 30, "h": 40}},
    {
        "id": "p1",
        "type": "polygon",
        "label": "car",
        "geometry": {"points": [[100, 100], [200, 100], [200, 180], [100, 180]], "holes": []},
    },
    {
        "id": "k1",
        "type": "keypoints",
        "label": "person",
        "geometry": {"points": [[50, 50, 2], [55, 90, 1], [60, 120, 2]]},
    },
]


def _seed(world: World) -> None:
    r = world.client("annotator").put(
        f"/api/tasks/{world.task_id}/annotations",
        json={"base_revision": 0, "annotations": ITEMS},
        headers={"Idempotency-Key": "seed"},
    )
    assert r.status_code == 201, r.text


def _counts(world: World) -> tuple[int, int]:
    with world.rt.sessions() as db:
        return (
            db.scalar(select(func.count()).select_from(Asset)) or 0,
            db.scalar(select(func.count()).select_from(AnnotationRevision)) or 0,
        )


def _export(world: World, fmt: str, who: str = "program_manager") -> bytes:
    r = world.client(who).get(f"/api/projects/{world.project_id}/export", params={"format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return r.content


def _import(world: World, data: bytes, name: str = "ds.zip", **form: Any):  # type: ignore[no-untyped-def]
    return world.client("orgadmin").post(
        f"/api/projects/{world.other_project_id}/imports",
        files={"file": (name, data, "application/octet-stream")},
        data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    )


def test_export_coco_then_import_elsewhere_keeps_every_annotation(world: World) -> None:
    _seed(world)
    data = _export(world, "coco")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("labelproof-export.json"))
    assert manifest["schema_version"] == 1 and manifest["annotations"] == 3
    assert any(n.endswith(".json") and "instances" in n for n in names)
    assert any(n.endswith("a.png") for n in names), names
    r = _import(world, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "coco" and body["images"] == 1 and body["annotations"] == 3
    assert body["by_type"] == {"box": 1, "polygon": 1, "keypoints": 1}
    tasks = world.client("orgadmin").get(f"/api/projects/{world.other_project_id}/tasks").json()
    new_task = max(t["id"] for t in tasks["items"])
    got = world.client("orgadmin").get(f"/api/tasks/{new_task}/annotations").json()
    by_type = {a["type"]: a for a in got["annotations"]}
    assert by_type["box"]["geometry"] == {"x": 10.0, "y": 20.0, "w": 30.0, "h": 40.0}
    assert by_type["keypoints"]["geometry"]["points"][1] == [55.0, 90.0, 1]
    assert sorted(map(tuple, by_type["polygon"]["geometry"]["points"])) == sorted(
        [(100.0, 100.0), (200.0, 100.0), (200.0, 180.0), (100.0, 180.0)]
    )
    with world.rt.sessions() as db:
        actions = list(db.scalars(select(AuditEvent.action)))
    assert "dataset.exported" in actions and "dataset.imported" in actions


def test_import_as_prelabels_marks_model_source(world: World) -> None:
    _seed(world)
    r = _import(world, _export(world, "coco"), prelabels=True)
    assert r.status_code == 201 and r.json()["prelabels"] is True
    tasks = world.client("orgadmin").get(f"/api/projects/{world.other_project_id}/tasks").json()
    got = (
        world.client("orgadmin")
        .get(f"/api/tasks/{max(t['id'] for t in tasks['items'])}/annotations")
        .json()
    )
    assert {a["source"] for a in got["annotations"]} == {"model"}


def test_unknown_class_refuses_the_whole_import(world: World) -> None:
    _seed(world)
    data = _export(world, "coco")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename.endswith(".json") and "instances" in info.filename:
                doc = json.loads(raw)
                for cat in doc["categories"]:
                    if cat["name"] == "person":
                        cat["name"] = "alien"
                raw = json.dumps(doc).encode()
            dst.writestr(info, raw)
    before = _counts(world)
    r = _import(world, buf.getvalue())
    assert r.status_code == 422, r.text
    assert "class 'alien' is not in the project's schema" in r.json()["message"]
    assert _counts(world) == before


def test_auditor_cannot_export_and_annotator_cannot_import(world: World) -> None:
    r = world.client("auditor").get(
        f"/api/projects/{world.project_id}/export", params={"format": "coco"}
    )
    assert r.status_code == 403
    r = world.client("annotator").post(
        f"/api/projects/{world.project_id}/imports",
        files={"file": ("x.json", b"{}", "application/json")},
    )
    assert r.status_code == 403


def test_unknown_format_is_named(world: World) -> None:
    r = world.client("program_manager").get(
        f"/api/projects/{world.project_id}/export", params={"format": "tiff-stack"}
    )
    assert r.status_code == 422 and "tiff-stack" in r.json()["message"]


def test_export_accepted_scope_holds_only_qa_accepted_work(world: World) -> None:
    from tests.qa.pilot import Pilot, careful

    _seed(world)  # a working revision on the world's task: not accepted work
    pilot = Pilot(world)
    pilot.add_people(["ann"])
    pilot.c("program_manager").put(
        pilot.p + f"/qualifications/{pilot.users['ann']}",
        json={"status": "qualified", "reason": "test"},
    )
    settings = {"gold_rate": 0.0, "peer_review": False, "lead_audit": False}
    pilot.c("program_manager").post(pilot.p + "/policies", json={"settings": settings})
    batch = pilot.batch("production", 2)
    a = pilot.claim("ann")
    pilot.work("ann", a, careful)
    c = world.client("program_manager")
    r = c.get(
        f"/api/projects/{world.project_id}/export", params={"format": "coco", "scope": "accepted"}
    )
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        manifest = json.loads(zf.read("labelproof-export.json"))
        doc = json.loads(next(zf.read(n) for n in zf.namelist() if "instances" in n))
    assert manifest["scope"] == "accepted" and manifest["images"] == 1
    assert manifest["annotations"] == len(pilot.truth[a["task_id"]])
    assert len(doc["annotations"]) == manifest["annotations"]
    r = c.get(
        f"/api/projects/{world.project_id}/export", params={"format": "coco", "batch_id": batch}
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert json.loads(zf.read("labelproof-export.json"))["images"] == 2
    bad = c.get(
        f"/api/projects/{world.project_id}/export", params={"format": "coco", "scope": "some"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "scope"
    assert (
        c.get(
            f"/api/projects/{world.project_id}/export", params={"format": "coco", "batch_id": 999}
        ).status_code
        == 404
    )
