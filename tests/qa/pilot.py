"""A scripted QA pilot through the HTTP API: people, images with known truth, simulated
annotators of known skill, a simulated reviewer and lead."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from labelproof.services import accounts, assets, projects
from labelproof.services.context import new_request_id
from labelproof.store.db import transaction
from labelproof.store.models import User
from tests.world import PASSWORD, World, png_bytes

Item = dict[str, Any]
W, H = 200, 150


def truth_for(i: int) -> list[Item]:
    """Two objects per image: a car and a person, at positions that depend on ``i``."""
    return [
        {"id": "car", "type": "box", "label": "car",
         "geometry": {"x": 40.0 + i, "y": 30.0, "w": 60.0, "h": 40.0}},
        {"id": "person", "type": "box", "label": "person",
         "geometry": {"x": 150.0, "y": 50.0 + i, "w": 30.0, "h": 40.0}},
    ]  # fmt: skip


def careful(items: list[Item]) -> list[Item]:
    return [dict(i) for i in items]


def sloppy(items: list[Item]) -> list[Item]:
    """Calls every person a car."""
    return [dict(i, label="car") for i in items]


def scaled(factor: float) -> Callable[[list[Item]], list[Item]]:
    """Boxes drawn ``factor`` times too wide and too tall, around the same centre."""

    def draw(items: list[Item]) -> list[Item]:
        out = []
        for i in items:
            g = i["geometry"]
            w, h = g["w"] * factor, g["h"] * factor
            x, y = g["x"] - (w - g["w"]) / 2, g["y"] - (h - g["h"]) / 2
            out.append(dict(i, geometry={"x": x, "y": y, "w": w, "h": h}))
        return out

    return draw


def drops_last(items: list[Item]) -> list[Item]:
    return [dict(i) for i in items[:-1]]


def box_iou(a: dict[str, float], b: dict[str, float]) -> float:
    ix = max(0.0, min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]))
    iy = max(0.0, min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]))
    inter = ix * iy
    return inter / (a["w"] * a["h"] + b["w"] * b["h"] - inter)


@dataclass
class Pilot:
    world: World
    clients: dict[str, TestClient] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    truth: dict[int, list[Item]] = field(default_factory=dict)  # task id -> objects
    image: int = 0

    @property
    def p(self) -> str:
        return f"/api/projects/{self.world.project_id}/qa"

    def c(self, who: str) -> TestClient:
        if who not in self.clients:
            self.clients[who] = self.world.client(who)
        return self.clients[who]

    def add_people(self, names: list[str], role: str = "annotator") -> None:
        w = self.world
        with transaction(w.rt.sessions) as db:
            root = db.get(User, w.users["orgadmin"])
            assert root is not None
            actor = accounts.actor_for(root, new_request_id())
            for name in names:
                user = accounts.create_user(
                    db, actor, org_id=w.org_id, email=f"{name}-{uuid.uuid4().hex[:6]}@org.test",
                    display_name=name, password=PASSWORD,
                )  # fmt: skip
                projects.set_member(db, actor, project_id=w.project_id, user_id=user.id, role=role)
                w.users[name] = user.id
                w.tokens[name] = accounts.create_token(db, accounts.actor_for(user), name="t")[1]
                self.users[name] = user.id

    def upload(self, n: int) -> list[int]:
        w = self.world
        ids = []
        with transaction(w.rt.sessions) as db:
            root = db.get(User, w.users["orgadmin"])
            assert root is not None
            actor = accounts.actor_for(root, new_request_id())
            for _ in range(n):
                self.image += 1
                asset = assets.add_asset(
                    db, w.rt, actor, project_id=w.project_id, filename=f"i{self.image}.png",
                    stream=io.BytesIO(png_bytes(W, H, seed=1000 + self.image)),
                )  # fmt: skip
                ids.append(asset.id)
        return ids

    def batch(self, kind: str, n: int, mode: str = "single", answers: bool = False) -> int:
        """A batch of n tasks with known truth; gold/calibration tasks get it as answer."""
        lead = self.c("team_lead")
        r = lead.post(self.p + "/batches", json={"name": kind, "kind": kind})
        assert r.status_code == 201, r.text
        batch_id = int(r.json()["id"])
        asset_ids = self.upload(n)
        r = lead.post(
            f"/api/qa/batches/{batch_id}/tasks", json={"asset_ids": asset_ids, "mode": mode}
        )
        assert r.status_code == 201, r.text
        for row in r.json():
            self.truth[row["task_id"]] = truth_for(len(self.truth))
            if answers:
                a = lead.put(
                    f"/api/qa/tasks/{row['task_id']}/answer",
                    json={"annotations": self.truth[row["task_id"]]},
                )
                assert a.status_code == 200, a.text
        return batch_id

    def claim(self, who: str, queue: str = "production") -> Any:
        r = self.c(who).post(self.p + "/claim", json={"queue": queue})
        if r.status_code == 403:
            return r
        assert r.status_code == 200, r.text
        return r.json()["assignment"]

    def checklist(self, who: str) -> list[str]:
        r = self.c(who).get(self.p + "/sop")
        return [i["id"] for i in r.json()["checklist"]] if r.status_code == 200 else []

    def save(self, who: str, a: dict[str, Any], items: list[Item], base: int) -> int:
        r = self.c(who).put(
            f"/api/qa/assignments/{a['id']}/annotations",
            json={"base_revision": base, "annotations": items},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 201, r.text
        return int(r.json()["number"])

    def work(self, who: str, a: dict[str, Any], draw: Callable[[list[Item]], list[Item]]) -> None:
        """Annotate with ``draw`` applied to the truth, then self-check and submit."""
        number = self.save(who, a, draw(self.truth[a["task_id"]]), a["revision"])
        r = self.c(who).post(
            f"/api/qa/assignments/{a['id']}/submit",
            json={"revision": number, "checklist": self.checklist(who)},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] in ("submitted", "accepted")

    def verdict_for(self, task_id: int, annotations: list[Item]) -> dict[str, Any]:
        """What a careful reviewer decides, knowing the truth."""
        truth = self.truth[task_id]
        got = {a["id"]: a for a in annotations}
        missing = [t for t in truth if t["id"] not in got]
        if missing:
            return {
                "verdict": "reject",
                "errors": [{"type": "missed_object", "label": t["label"]} for t in missing],
                "comment": "objects missing",
            }
        wrong = [t for t in truth if got[t["id"]]["label"] != t["label"]]
        if wrong:
            return {
                "verdict": "reject",
                "errors": [{"type": "wrong_class", "annotation_id": t["id"]} for t in wrong],
            }
        loose = [t for t in truth if box_iou(t["geometry"], got[t["id"]]["geometry"]) < 0.95]
        if loose:
            return {
                "verdict": "fix",
                "errors": [{"type": "loose_geometry", "annotation_id": t["id"]} for t in loose],
                "annotations": truth,
            }
        return {"verdict": "accept"}

    def review_all(self, who: str, stage: str) -> int:
        """Review every waiting submission at ``stage`` ('reviews' or 'audits')."""
        c = self.c(who)
        n = 0
        for item in c.get(self.p + f"/{stage}").json():
            rev = self.submitted_annotations(item["id"])
            body = self.verdict_for(item["task_id"], rev)
            r = c.post(f"/api/qa/assignments/{item['id']}/{stage}", json=body)
            assert r.status_code == 201, r.text
            n += 1
        return n

    def submitted_annotations(self, assignment_id: int) -> list[Item]:
        r = self.c("reviewer").get(f"/api/qa/reviews/{assignment_id}")
        assert r.status_code == 200, r.text
        return list(r.json()["revision"]["annotations"])
