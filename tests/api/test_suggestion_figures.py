"""GET /api/projects/{p}/suggestions/figures and ``labelproof suggestions figures``: the
outcome of each model suggestion and the edit rate from the revision history, per project,
annotator and label (both databases)."""

from __future__ import annotations

import io
from typing import Any

from labelproof.services import accounts, assets, revisions
from labelproof.store.db import transaction
from labelproof.store.models import User
from tests.world import World, png_bytes

M: dict[str, Any] = {"source": "model", "confidence": 0.9}


def box(i: str, x: float, **kw: Any) -> dict[str, Any]:
    return {
        "id": i,
        "type": "box",
        "label": "car",
        "geometry": {"x": x, "y": 5, "w": 20, "h": 10},
        **kw,
    }


def save(world: World, who: str, task: int, base: int, items: list[dict[str, Any]]) -> None:
    with transaction(world.rt.sessions) as db:
        user = db.get(User, world.users[who])
        assert user is not None
        revisions.save(
            db,
            accounts.actor_for(user),
            task_id=task,
            base_revision=base,
            annotations=items,
            idempotency_key=f"{task}-{base}",
        )


def second_task(world: World) -> int:
    with transaction(world.rt.sessions) as db:
        root = db.get(User, world.users["orgadmin"])
        assert root is not None
        actor = accounts.actor_for(root)
        a = assets.add_asset(
            db,
            world.rt,
            actor,
            project_id=world.project_id,
            filename="c.png",
            stream=io.BytesIO(png_bytes(200, 100, seed=3)),
        )
        return assets.create_tasks(db, actor, project_id=world.project_id, asset_ids=[a.id])[0].id


def seed(world: World) -> int:
    t1, t2 = world.task_id, second_task(world)
    # Task 1: four car boxes and one lane suggested by the lead (a model import).
    lane = {
        "id": "l",
        "type": "polyline",
        "label": "lane",
        "geometry": {"points": [[0, 1], [9, 9]]},
        **M,
    }
    sugg = [box("a", 10, **M), box("b", 40, **M), box("c", 70, **M), box("d", 100, **M), lane]
    save(world, "team_lead", t1, 0, sugg)
    # The annotator accepts a, edits b, deletes c; leaves d and the lane pending.
    save(
        world,
        "annotator",
        t1,
        1,
        [box("a", 10, source="human"), box("b", 45, source="human"), box("d", 100, **M), lane],
    )
    # The reviewer deletes the lane; a human box of their own is not a suggestion.
    save(world, "reviewer", t1, 2, [box("a", 10), box("b", 45), box("d", 100, **M), box("z", 1)])
    # Task 2: one suggestion, accepted by the reviewer.
    save(world, "team_lead", t2, 0, [box("q", 10, **M)])
    save(world, "reviewer", t2, 1, [box("q", 10, source="human")])
    return t2


def test_figures_per_project_annotator_and_label(world: World) -> None:
    t2 = seed(world)
    r = world.client("auditor").get(f"/api/projects/{world.project_id}/suggestions/figures")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tasks"] == 2 and body["task_id"] is None
    overall = body["overall"]
    assert {k: overall[k] for k in ("suggestions", "accepted", "edited", "deleted", "pending")} == {
        "suggestions": 6,
        "accepted": 2,
        "edited": 1,
        "deleted": 2,
        "pending": 1,
    }
    assert overall["edit_rate"] == 1 / 5
    assert overall["deletion_rate"] == 2 / 5
    assert overall["acceptance_rate"] == 2 / 5
    who = {row["user_id"]: row for row in body["by_annotator"]}
    ann, rev = world.users["annotator"], world.users["reviewer"]
    assert set(who) == {ann, rev, None}
    assert (who[ann]["accepted"], who[ann]["edited"], who[ann]["deleted"]) == (1, 1, 1)
    assert who[ann]["edit_rate"] == 1 / 3
    assert (who[rev]["accepted"], who[rev]["deleted"], who[rev]["suggestions"]) == (1, 1, 2)
    assert who[None]["pending"] == 1 and who[None]["edit_rate"] is None
    assert body["by_annotator"][-1]["user_id"] is None  # pending last
    labels = {row["label"]: row for row in body["by_label"]}
    assert labels["car"]["suggestions"] == 5 and labels["lane"]["deleted"] == 1
    assert "edit_rate" in body["definitions"]

    one = world.client("team_lead").get(
        f"/api/projects/{world.project_id}/suggestions/figures", params={"task_id": t2}
    )
    assert one.status_code == 200
    assert one.json()["overall"]["accepted"] == 1 and one.json()["overall"]["suggestions"] == 1


def test_readers_are_the_qa_readers(world: World) -> None:
    url = f"/api/projects/{world.project_id}/suggestions/figures"
    assert world.client("annotator").get(url).status_code == 403
    assert world.client("reviewer").get(url).status_code == 403
    assert world.client("outsider").get(url).status_code == 404
    assert world.client(None).get(url).status_code == 401
    # a task of another project is not found through this project
    r = world.client("admin").get(url, params={"task_id": world.other_task_id})
    assert r.status_code == 404 and "not found in project" in r.json()["message"]
    empty = world.client("program_manager").get(url).json()
    assert empty["overall"]["suggestions"] == 0 and empty["overall"]["edit_rate"] is None
    assert empty["by_annotator"] == [] and empty["by_label"] == []
