"""Walk every route of the OpenAPI document: anonymous callers get 401, each role gets
exactly what the permission matrix allows (403 otherwise), and a user of another project
gets 404 so ids do not leak. A route missing from ROUTES fails this test."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from labelproof.services import accounts, projects, revisions
from labelproof.services.context import new_request_id
from labelproof.services.permissions import MATRIX, Action, Role
from labelproof.store.db import transaction
from tests.qa.matrix import QA_ROUTES
from tests.world import PASSWORD, SCHEMA, World, png_bytes

PUBLIC = "public"
SIGNED_IN = "signed_in"
ORG_ADMIN = "org_admin"
SUPERUSER = "superuser"

Call = Callable[[World, Any], httpx.Response]


@dataclass(frozen=True)
class Route:
    access: str | Action
    call: Call


def _root(world: World):  # type: ignore[no-untyped-def]
    return world.rt.sessions


def _spare_user(world: World) -> int:
    with transaction(world.rt.sessions) as db:
        from labelproof.store.models import User

        root = db.get(User, world.users["orgadmin"])
        assert root is not None
        user = accounts.create_user(
            db,
            accounts.actor_for(root),
            org_id=world.org_id,
            email=f"{uuid.uuid4().hex[:8]}@org.test",
            display_name="s",
            password=PASSWORD,
        )
        projects.set_member(
            db,
            accounts.actor_for(root),
            project_id=world.project_id,
            user_id=user.id,
            role="annotator",
        )
        return user.id


def _current(world: World) -> int:
    with world.rt.sessions() as db:
        rev = revisions.current_revision(db, world.task_id)
        return rev.number if rev else 0


def _revoke_own(w: World, c: Any) -> httpx.Response:
    created = c.post("/api/auth/tokens", json={"name": "x"})
    token_id = created.json()["id"] if created.status_code == 201 else 1
    return c.delete(f"/api/auth/tokens/{token_id}")


def _zip_of_one() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x.png", png_bytes(seed=uuid.uuid4().int % 1000))
    return buf.getvalue()


def _coco_on_existing_asset() -> bytes:
    import json

    return json.dumps(
        {
            "images": [{"id": 1, "file_name": "a.png", "width": 640, "height": 480}],
            "annotations": [],
            "categories": [{"id": 1, "name": "car"}],
        }
    ).encode()


P = "/api/projects/{p}"
ROUTES: dict[str, Route] = {
    "health": Route(PUBLIC, lambda w, c: c.get("/api/health")),
    "login": Route(
        PUBLIC,
        lambda w, c: c.post(
            "/api/auth/login", json={"email": "annotator@org.test", "password": PASSWORD}
        ),
    ),
    "logout": Route(SIGNED_IN, lambda w, c: c.post("/api/auth/logout")),
    "get_me": Route(SIGNED_IN, lambda w, c: c.get("/api/auth/me")),
    "list_tokens": Route(SIGNED_IN, lambda w, c: c.get("/api/auth/tokens")),
    "create_token": Route(SIGNED_IN, lambda w, c: c.post("/api/auth/tokens", json={"name": "x"})),
    "revoke_token": Route(SIGNED_IN, _revoke_own),
    "create_org": Route(
        SUPERUSER,
        lambda w, c: c.post("/api/orgs", json={"name": "O", "slug": f"o-{uuid.uuid4().hex[:8]}"}),
    ),
    "create_user": Route(
        ORG_ADMIN,
        lambda w, c: c.post(
            "/api/users", json={"email": f"{uuid.uuid4().hex[:8]}@org.test", "password": PASSWORD}
        ),
    ),
    "list_users": Route(ORG_ADMIN, lambda w, c: c.get("/api/users")),
    "unlock_user": Route(
        ORG_ADMIN, lambda w, c: c.post(f"/api/users/{w.users['annotator']}/unlock")
    ),
    "list_projects": Route(SIGNED_IN, lambda w, c: c.get("/api/projects")),
    "create_project": Route(ORG_ADMIN, lambda w, c: c.post("/api/projects", json={"name": "N"})),
    "get_project": Route(Action.PROJECT_READ, lambda w, c: c.get(P.format(p=w.project_id))),
    "list_members": Route(
        Action.MEMBER_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/members")
    ),
    "set_member": Route(
        Action.MEMBER_MANAGE,
        lambda w, c: c.put(
            P.format(p=w.project_id) + "/members",
            json={"user_id": _spare_user(w), "role": "reviewer"},
        ),
    ),
    "remove_member": Route(
        Action.MEMBER_MANAGE,
        lambda w, c: c.delete(P.format(p=w.project_id) + f"/members/{_spare_user(w)}"),
    ),
    "create_schema_version": Route(
        Action.SCHEMA_WRITE,
        lambda w, c: c.post(P.format(p=w.project_id) + "/schemas", json={"definition": SCHEMA}),
    ),
    "list_schema_versions": Route(
        Action.SCHEMA_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/schemas")
    ),
    "get_schema_version": Route(
        Action.SCHEMA_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/schemas/1")
    ),
    "list_audit_events": Route(
        Action.AUDIT_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/audit")
    ),
    "upload_asset": Route(
        Action.ASSET_UPLOAD,
        lambda w, c: c.post(
            P.format(p=w.project_id) + "/assets",
            files={"file": ("x.png", png_bytes(seed=uuid.uuid4().int % 1000), "image/png")},
        ),
    ),
    "upload_asset_archive": Route(
        Action.ASSET_UPLOAD,
        lambda w, c: c.post(
            P.format(p=w.project_id) + "/assets/archive",
            files={"file": ("x.zip", _zip_of_one(), "application/zip")},
        ),
    ),
    "import_dataset": Route(
        Action.DATASET_IMPORT,
        lambda w, c: c.post(
            P.format(p=w.project_id) + "/imports",
            files={"file": ("instances.json", _coco_on_existing_asset(), "application/json")},
            data={"format": "coco"},
        ),
    ),
    "export_project": Route(
        Action.DATASET_EXPORT,
        lambda w, c: c.get(P.format(p=w.project_id) + "/export", params={"format": "coco"}),
    ),
    "list_assets": Route(
        Action.ASSET_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/assets")
    ),
    "get_asset": Route(
        Action.ASSET_READ, lambda w, c: c.get(P.format(p=w.project_id) + f"/assets/{w.asset_id}")
    ),
    "get_asset_content": Route(
        Action.ASSET_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + f"/assets/{w.asset_id}/content"),
    ),
    "get_asset_tiles": Route(
        Action.ASSET_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + f"/assets/{w.asset_id}/tiles"),
    ),
    "get_asset_tile": Route(
        Action.ASSET_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + f"/assets/{w.asset_id}/tiles/0/0_0.jpg"),
    ),
    "get_asset_thumbnail": Route(
        Action.ASSET_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + f"/assets/{w.asset_id}/thumbnail"),
    ),
    "create_tasks": Route(
        Action.TASK_CREATE,
        lambda w, c: c.post(P.format(p=w.project_id) + "/tasks", json={"asset_ids": [w.asset_id]}),
    ),
    "list_tasks": Route(Action.TASK_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/tasks")),
    "get_task": Route(Action.TASK_READ, lambda w, c: c.get(f"/api/tasks/{w.task_id}")),
    "get_annotations": Route(
        Action.ANNOTATION_READ, lambda w, c: c.get(f"/api/tasks/{w.task_id}/annotations")
    ),
    "save_annotations": Route(
        Action.ANNOTATION_WRITE,
        lambda w, c: c.put(
            f"/api/tasks/{w.task_id}/annotations",
            json={
                "base_revision": _current(w),
                "annotations": [
                    {"type": "box", "label": "car", "geometry": {"x": 1, "y": 1, "w": 5, "h": 5}}
                ],
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
    ),
    "list_revisions": Route(
        Action.ANNOTATION_READ, lambda w, c: c.get(f"/api/tasks/{w.task_id}/revisions")
    ),
    "get_revision": Route(
        Action.ANNOTATION_READ, lambda w, c: c.get(f"/api/tasks/{w.task_id}/revisions/1")
    ),
}

# The QA workflow's routes (their set-up lives beside the QA tests).
ROUTES.update({op: Route(access, call) for op, (access, call) in QA_ROUTES.items()})

ACTORS = [r.value for r in Role] + ["orgadmin", "outsider"]


def _operations(world: World) -> set[str]:
    doc = world.client(None).get("/openapi.json").json()
    return {op["operationId"] for path in doc["paths"].values() for op in path.values()}


def _expect(route: Route, who: str | None) -> set[int]:
    ok = {200, 201, 204}
    access = route.access
    if access == PUBLIC:
        return ok
    if who is None:
        return {401}
    if access == SIGNED_IN:
        return ok
    if access in (ORG_ADMIN, SUPERUSER):
        return ok if who == "orgadmin" else {403}
    assert isinstance(access, Action)
    if who == "outsider":
        return {404}
    role = Role.ADMIN if who == "orgadmin" else Role(who)
    return ok if access in MATRIX[role] else {403}


def _seed_revision(world: World) -> None:
    with transaction(world.rt.sessions) as db:
        from labelproof.store.models import User

        root = db.get(User, world.users["orgadmin"])
        assert root is not None
        revisions.save(
            db,
            accounts.actor_for(root, new_request_id()),
            task_id=world.task_id,
            base_revision=0,
            annotations=[],
            idempotency_key="seed",
        )


def test_every_route_is_in_the_matrix(world: World) -> None:
    ops = _operations(world)
    assert ops == set(ROUTES), (
        f"routes without a matrix entry: {sorted(ops - set(ROUTES))}; "
        f"entries without a route: {sorted(set(ROUTES) - ops)}"
    )


@pytest.mark.parametrize("who", [None, *ACTORS])
def test_route_access_matches_matrix(world: World, who: str | None) -> None:
    _seed_revision(world)
    failures = []
    for op_id, route in sorted(ROUTES.items()):
        client = world.client(who)
        response = route.call(world, client)
        expected = _expect(route, who)
        if response.status_code not in expected:
            failures.append(
                f"{op_id} as {who}: {response.status_code} not in {sorted(expected)}"
                f" ({response.text[:120]})"
            )
        elif response.status_code >= 400:
            assert response.json()["code"], op_id
    assert not failures, "\n".join(failures)


def test_other_projects_ids_are_404_not_403(world: World) -> None:
    c = world.client("annotator")
    for url in (
        f"/api/projects/{world.other_project_id}",
        f"/api/projects/{world.other_project_id}/assets",
        f"/api/tasks/{world.other_task_id}",
        f"/api/tasks/{world.other_task_id}/annotations",
        "/api/projects/999999",
        "/api/tasks/999999",
    ):
        r = c.get(url)
        assert r.status_code == 404, url
        assert r.json()["code"] == "not_found"
