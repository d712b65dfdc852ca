"""Saving annotations: revisions, stale bases, idempotency, validation with field paths."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from labelproof.store.models import AnnotationRevision
from tests.world import World

BOX = {
    "id": "b1",
    "type": "box",
    "label": "car",
    "geometry": {"x": 10, "y": 20, "w": 30, "h": 40},
    "attributes": {"occluded": True, "color": "red"},
}
POLY = {
    "id": "p1",
    "type": "polygon",
    "label": "car",
    "geometry": {"points": [[100, 100], [200, 100], [200, 180], [100, 180]], "holes": []},
}
KP = {
    "id": "k1",
    "type": "keypoints",
    "label": "person",
    "geometry": {"points": [[50, 50, 2], [55, 90, 1], [0, 0, 0]]},
}
LINE = {
    "id": "l1",
    "type": "polyline",
    "label": "lane",
    "geometry": {"points": [[0, 400], [639, 390]]},
}
TAG = {"id": "t1", "type": "tag", "label": "weather", "geometry": {}}


def _save(
    world: World,
    who: str,
    base: int,
    items: list[dict[str, Any]],
    key: str,
    task: int | None = None,
) -> Any:
    return world.client(who).put(
        f"/api/tasks/{task or world.task_id}/annotations",
        json={"base_revision": base, "annotations": items},
        headers={"Idempotency-Key": key},
    )


def test_save_then_read_back_canonical(world: World) -> None:
    r = _save(world, "annotator", 0, [BOX, POLY, KP, LINE, TAG], "k-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["number"] == 1 and body["created"] is True
    got = world.client("auditor").get(f"/api/tasks/{world.task_id}/annotations").json()
    assert got["number"] == 1
    by_id = {a["id"]: a for a in got["annotations"]}
    assert by_id["b1"]["geometry"] == {"x": 10.0, "y": 20.0, "w": 30.0, "h": 40.0}
    assert by_id["b1"]["attributes"] == {"occluded": True, "color": "red"}
    assert by_id["k1"]["geometry"]["points"][1] == [55.0, 90.0, 1]
    assert by_id["t1"]["source"] == "human"


def test_stale_base_gets_409_with_current_and_nothing_is_overwritten(world: World) -> None:
    assert _save(world, "annotator", 0, [BOX], "a").status_code == 201
    assert _save(world, "reviewer", 1, [BOX, POLY], "b").status_code == 201
    r = _save(world, "annotator", 1, [LINE], "c")
    assert r.status_code == 409
    err = r.json()
    assert err["code"] == "stale_revision"
    assert err["details"]["current_revision"] == 2
    assert [a["id"] for a in err["details"]["current"]["annotations"]] == ["b1", "p1"]
    history = world.client("auditor").get(f"/api/tasks/{world.task_id}/revisions").json()
    assert [(h["number"], h["base_number"]) for h in history] == [(1, 0), (2, 1)]
    assert [a["id"] for a in history[0]["annotations"]] == ["b1"]


def test_retry_with_same_key_returns_same_revision(world: World) -> None:
    first = _save(world, "annotator", 0, [BOX], "retry-me")
    again = _save(world, "annotator", 0, [BOX], "retry-me")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["number"] == 1 and again.json()["created"] is False
    different = _save(world, "annotator", 0, [POLY], "retry-me")
    assert different.status_code == 409 and different.json()["code"] == "conflict"
    with world.rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AnnotationRevision)) == 1


def test_bad_geometry_names_the_field(world: World) -> None:
    bowtie = dict(POLY, geometry={"points": [[0, 0], [10, 10], [10, 0], [0, 10]], "holes": []})
    cases = [
        (dict(BOX, geometry={"x": 10, "y": 20, "w": -3, "h": 4}), "annotations[0].geometry.w"),
        (dict(BOX, geometry={"x": 630, "y": 20, "w": 30, "h": 4}), "annotations[0].geometry"),
        (bowtie, "annotations[0].geometry.points"),
        (dict(KP, geometry={"points": [[1, 1, 2]]}), "annotations[0].geometry.points"),
        (dict(BOX, label="dog"), "annotations[0].label"),
        (dict(LINE, type="box"), "annotations[0].type"),
        (dict(BOX, attributes={"color": "green"}), "annotations[0].attributes.color"),
        (dict(BOX, attributes={"speed": 3}), "annotations[0].attributes"),
    ]
    for i, (item, field) in enumerate(cases):
        r = _save(world, "annotator", 0, [item], f"bad-{i}")
        assert r.status_code == 422, (field, r.text)
        body = r.json()
        assert body["field"].startswith(field), (field, body)
        assert body["message"], body
    dup = _save(world, "annotator", 0, [BOX, dict(POLY, id="b1")], "dup")
    assert dup.status_code == 422 and dup.json()["field"] == "annotations[1].id"
    with world.rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AnnotationRevision)) == 0


def test_malformed_bodies_get_422_with_field(world: World) -> None:
    c = world.client("annotator")
    url = f"/api/tasks/{world.task_id}/annotations"
    r = c.put(
        url,
        content=b"{not json",
        headers={"Idempotency-Key": "x", "content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    r = c.put(
        url, json={"base_revision": "one", "annotations": []}, headers={"Idempotency-Key": "x"}
    )
    assert r.status_code == 422 and r.json()["field"] == "base_revision"
    r = c.put(
        url,
        json={"base_revision": 0, "annotations": [{"type": "box"}]},
        headers={"Idempotency-Key": "x"},
    )
    assert r.status_code == 422 and r.json()["field"] == "annotations[0].label"
    r = c.put(url, json={"base_revision": 0, "annotations": []})
    assert r.status_code == 422 and r.json()["field"] == "idempotency_key"


def test_concurrent_saves_on_one_base_make_exactly_one_revision(world: World) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        r = _save(world, "annotator", 0, [dict(BOX, id=f"w{i}")], f"conc-{i}")
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 7
    with world.rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AnnotationRevision)) == 1


def test_concurrent_retries_of_one_key_make_one_revision(world: World) -> None:
    codes: list[int] = []

    def worker() -> None:
        codes.append(_save(world, "annotator", 0, [BOX], "same-key").status_code)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 5 + [201]
    with world.rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AnnotationRevision)) == 1


def test_saves_are_audited_with_schema_version(world: World) -> None:
    _save(world, "annotator", 0, [BOX], "aud")
    page = world.client("auditor").get(f"/api/projects/{world.project_id}/audit?limit=1000")
    assert page.status_code == 200
    saved = [e for e in page.json()["items"] if e["action"] == "annotation.saved"]
    assert saved[-1]["details"] == {"revision": 1, "count": 1, "schema_version": 1}
    assert saved[-1]["actor_id"] == world.users["annotator"]
