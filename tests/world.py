"""Build a small installation for API tests: an org, a user per role, a project, a task."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from labelproof.api.app import create_app
from labelproof.services import accounts, assets, projects, schemas
from labelproof.services.context import Runtime, new_request_id
from labelproof.services.permissions import Role
from labelproof.store.db import transaction

PASSWORD = "correct horse battery staple"

SCHEMA: dict[str, Any] = {
    "classes": [
        {
            "name": "car",
            "types": ["box", "polygon", "rotated_box", "mask"],
            "attributes": [
                {"name": "occluded", "kind": "bool"},
                {"name": "color", "kind": "select", "options": ["red", "blue"]},
            ],
        },
        {
            "name": "person",
            "types": ["keypoints", "box"],
            "skeleton": {"keypoints": ["head", "hip", "foot"], "edges": [[0, 1], [1, 2]]},
        },
        {"name": "lane", "types": ["polyline"]},
        {"name": "weather", "types": ["tag"]},
        {"name": "crate", "types": ["cuboid"]},
    ]
}


def png_bytes(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class World:
    rt: Runtime
    app_client: TestClient
    org_id: int
    project_id: int
    other_project_id: int
    asset_id: int
    task_id: int
    other_task_id: int
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None) -> TestClient:
        """A client authenticated as ``who`` (a role name, 'outsider', 'orgadmin') or anon."""
        c = TestClient(self.app_client.app)
        if who is not None:
            c.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return c


def build_world(rt: Runtime) -> World:
    rid = new_request_id()
    with transaction(rt.sessions) as db:
        root = accounts.bootstrap(
            db,
            org_name="Org",
            org_slug="org",
            email="root@org.test",
            password=PASSWORD,
            request_id=rid,
        )
        actor = accounts.actor_for(root, rid)
        project = projects.create_project(db, actor, name="P", classification="internal")
        other = projects.create_project(db, actor, name="Other")
        schemas.create_version(db, actor, project_id=project.id, definition=SCHEMA)
        schemas.create_version(db, actor, project_id=other.id, definition=SCHEMA)
        asset = assets.add_asset(
            db,
            rt,
            actor,
            project_id=project.id,
            filename="a.png",
            stream=io.BytesIO(png_bytes(640, 480)),
        )
        other_asset = assets.add_asset(
            db,
            rt,
            actor,
            project_id=other.id,
            filename="b.png",
            stream=io.BytesIO(png_bytes(seed=1)),
        )
        task = assets.create_tasks(db, actor, project_id=project.id, asset_ids=[asset.id])[0]
        other_task = assets.create_tasks(
            db, actor, project_id=other.id, asset_ids=[other_asset.id]
        )[0]
        users = {"orgadmin": root.id}
        tokens = {"orgadmin": accounts.create_token(db, actor, name="t")[1]}
        for role in Role:
            user = accounts.create_user(
                db,
                actor,
                org_id=actor.org_id,
                email=f"{role.value}@org.test",
                display_name=role.value,
                password=PASSWORD,
            )
            projects.set_member(db, actor, project_id=project.id, user_id=user.id, role=role.value)
            users[role.value] = user.id
            tokens[role.value] = accounts.create_token(db, accounts.actor_for(user), name="t")[1]
        outsider = accounts.create_user(
            db,
            actor,
            org_id=actor.org_id,
            email="outsider@org.test",
            display_name="outsider",
            password=PASSWORD,
        )
        projects.set_member(
            db, actor, project_id=other.id, user_id=outsider.id, role=Role.ADMIN.value
        )
        users["outsider"] = outsider.id
        tokens["outsider"] = accounts.create_token(db, accounts.actor_for(outsider), name="t")[1]
        return World(
            rt=rt,
            app_client=TestClient(create_app(rt)),
            org_id=actor.org_id,
            project_id=project.id,
            other_project_id=other.id,
            asset_id=asset.id,
            task_id=task.id,
            other_task_id=other_task.id,
            users=users,
            tokens=tokens,
        )
