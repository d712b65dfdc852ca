"""Walk every route of the OpenAPI document: anonymous callers get 401, each role gets
exactly what the permission matrix allows (403 otherwise), and a user of another project
gets 404 so ids do not leak. A route missing from ROUTES fails this test.

Clearance dimension: with the project classified ``phi``, every member without the PHI
clearance gets 403 on every project route (non-members still 404), each refusal is an audit
event, and a cleared member gets exactly what the matrix allows."""

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
from tests.api.account_routes import ACCOUNT_ROUTES
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
    "set_deid_policy": Route(
        Action.DEID_POLICY_WRITE,
        lambda w, c: c.put(P.format(p=w.project_id) + "/deid-policy", json={"photos": "off"}),
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
    "suggestion_figures": Route(
        Action.QA_READ,
        lambda w, c: c.get(f"/api/projects/{w.project_id}/suggestions/figures"),
    ),
}

# The QA workflow's routes (their set-up lives beside the QA tests).
ROUTES.update({op: Route(access, call) for op, (access, call) in QA_ROUTES.items()})


def _caller(w: World, c: Any) -> str | None:
    header = c.headers.get("Authorization", "")
    return next((k for k, t in w.tokens.items() if header == f"Bearer {t}"), None)


def _last_event(w: World) -> int:
    from sqlalchemy import func, select

    from labelproof.store.models import AuditEvent

    with w.rt.read() as db:
        return int(
            db.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.project_id == w.project_id))
            or 0
        )


def _throwaway_request(w: World, approver: str | None) -> int:
    """A new project where the approver has their world role, and a pending destruction
    request filed by another admin of it (so only the approver's right is tested)."""
    from labelproof.services.custody import destruction
    from labelproof.store.models import User

    with transaction(w.rt.sessions) as db:
        root_user = db.get(User, w.users["orgadmin"])
        assert root_user is not None
        root = accounts.actor_for(root_user, new_request_id())
        project = projects.create_project(db, root, name="to destroy")
        requester = root
        if approver == "orgadmin":
            admin_user = db.get(User, w.users["admin"])
            assert admin_user is not None
            projects.set_member(
                db, root, project_id=project.id, user_id=admin_user.id, role="admin"
            )
            requester = accounts.actor_for(admin_user, new_request_id())
        elif approver in {r.value for r in Role}:
            projects.set_member(
                db, root, project_id=project.id, user_id=w.users[approver], role=approver
            )
        req = destruction.request_destruction(
            db, requester, project_id=project.id, reason="route matrix"
        )
        return req.id


def _certificate(w: World) -> str:
    from labelproof.services.custody import destruction
    from labelproof.store.models import User

    request_id = _throwaway_request(w, "orgadmin")
    with w.rt.read() as db:
        root_user = db.get(User, w.users["orgadmin"])
        assert root_user is not None
        root = accounts.actor_for(root_user, new_request_id())
    return str(destruction.approve_destruction(w.rt, root, request_id=request_id)["certificate_id"])


def _set_closed(w: World, closed: bool) -> None:
    """Close (without scheduling) or reopen the world's project as the org admin."""
    from labelproof.services.custody import retention
    from labelproof.store.models import Project, User

    with transaction(w.rt.sessions) as db:
        root_user = db.get(User, w.users["orgadmin"])
        project = db.get(Project, w.project_id)
        assert root_user is not None and project is not None
        root = accounts.actor_for(root_user, new_request_id())
        if closed and project.closed_at is None:
            retention.close_project(
                db,
                root,
                project_id=w.project_id,
                retention_days=30,
                default_days=30,
                schedule_destruction=False,
            )
        elif not closed and project.closed_at is not None:
            retention.reopen_project(db, root, project_id=w.project_id)


def _close_then_reopen(w: World, c: Any) -> httpx.Response:
    r: httpx.Response = c.post(P.format(p=w.project_id) + "/close", json={"retention_days": 30})
    _set_closed(w, False)
    return r


def _reopen_closed(w: World, c: Any) -> httpx.Response:
    _set_closed(w, True)
    r: httpx.Response = c.post(P.format(p=w.project_id) + "/reopen")
    _set_closed(w, False)
    return r


# Custody routes (audit proofs, clearances, two-person destruction, retention).
ROUTES.update(
    {
        "get_audit_proof": Route(
            Action.AUDIT_READ,
            lambda w, c: c.get(P.format(p=w.project_id) + f"/audit/{_last_event(w)}/proof"),
        ),
        "get_audit_public_key": Route(SIGNED_IN, lambda w, c: c.get("/api/audit/public-key")),
        "create_audit_checkpoint": Route(ORG_ADMIN, lambda w, c: c.post("/api/audit/checkpoints")),
        "set_user_clearance": Route(
            ORG_ADMIN,
            lambda w, c: c.put(
                f"/api/users/{_spare_user(w)}/clearance",
                json={"clearances": ["pii"], "baa_signed": False, "training_done": False},
            ),
        ),
        "request_project_destruction": Route(
            Action.PROJECT_DESTROY,
            lambda w, c: c.post(
                P.format(p=w.project_id) + "/destruction-requests", json={"reason": "test"}
            ),
        ),
        "approve_project_destruction": Route(
            Action.PROJECT_DESTROY,
            lambda w, c: c.post(
                f"/api/destruction-requests/{_throwaway_request(w, _caller(w, c))}/approve"
            ),
        ),
        "get_destruction_certificate": Route(
            ORG_ADMIN, lambda w, c: c.get(f"/api/destruction-certificates/{_certificate(w)}")
        ),
        "close_project": Route(Action.PROJECT_CLOSE, _close_then_reopen),
        "reopen_project": Route(Action.PROJECT_CLOSE, _reopen_closed),
    }
)


# Account security: second factor, sessions, passwords, the org policy.
ROUTES.update({op: Route(access, call) for op, (access, call) in ACCOUNT_ROUTES.items()})

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


def _classify(world: World, classification: str) -> None:
    from sqlalchemy import update

    from labelproof.store.models import Project

    with transaction(world.rt.sessions) as db:
        db.execute(
            update(Project)
            .where(Project.id == world.project_id)
            .values(classification=classification)
        )


def _clear(world: World, who: str, clearance: dict[str, Any]) -> None:
    from sqlalchemy import update

    from labelproof.store.models import User

    with transaction(world.rt.sessions) as db:
        db.execute(update(User).where(User.id == world.users[who]).values(clearance=clearance))


PHI = {"clearances": ["phi"], "baa_signed": True, "training_done": False}


@pytest.mark.parametrize("who", [r.value for r in Role])
def test_uncleared_members_of_a_phi_project_get_403_everywhere(world: World, who: str) -> None:
    """Every project route refuses a member without PHI clearance (403, an audit event);
    set-up done through the services as that user is refused the same way."""
    from sqlalchemy import select

    from labelproof.errors import PermissionDenied
    from labelproof.store.models import AuditEvent

    _seed_revision(world)
    _clear(world, "orgadmin", PHI)  # the set-up helpers act as the org admin
    _classify(world, "phi")
    if who != "admin":
        _clear(world, who, {"clearances": ["phi"], "baa_signed": False})  # no BAA: not enough
    failures = []
    for op_id, route in sorted(ROUTES.items()):
        if not isinstance(route.access, Action) or op_id == "approve_project_destruction":
            continue
        role = Role.ADMIN if who == "orgadmin" else Role(who)
        before, before_all = _denials(world, who), _denials(world, None)
        try:
            response = route.call(world, world.client(who))
        except PermissionDenied as exc:  # set-up as some member, refused by the services
            assert "classified 'phi'" in exc.message, (op_id, exc.message)
            if _denials(world, None) <= before_all:
                failures.append(f"{op_id}: the set-up's refusal is not an audit event")
            continue
        else:
            reason = response.json().get("message", "")
            # a role that may do it is refused for clearance; one that may not, for its role
            if response.status_code != 403 or (
                route.access in MATRIX[role] and "classified 'phi'" not in reason
            ):
                failures.append(f"{op_id} as {who}: {response.status_code} {response.text[:120]}")
        if _denials(world, who) <= before:
            failures.append(f"{op_id} as {who}: the refusal is not an audit event")
    assert not failures, "\n".join(failures)
    with world.rt.read() as db:
        denied = list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "access.denied", AuditEvent.actor_id == world.users[who]
                )
            )
        )
    clearance = [e for e in denied if e.details["reason"] == "clearance"]
    assert clearance and {"phi"} == {e.details["classification"] for e in clearance}
    assert all(e.project_id == world.project_id for e in denied)


def _denials(world: World, who: str | None) -> int:
    """``access.denied`` events of ``who`` (of anyone when None)."""
    from sqlalchemy import func, select

    from labelproof.store.models import AuditEvent

    query = select(func.count()).where(AuditEvent.action == "access.denied")
    if who is not None:
        query = query.where(AuditEvent.actor_id == world.users[who])
    with world.rt.read() as db:
        return int(db.scalar(query) or 0)


def test_non_members_of_a_phi_project_still_get_404(world: World) -> None:
    _classify(world, "phi")
    c = world.client("outsider")
    for url in (f"/api/projects/{world.project_id}", f"/api/tasks/{world.task_id}"):
        assert c.get(url).status_code == 404


@pytest.mark.parametrize("who", ["annotator", "auditor"])
def test_cleared_members_of_a_phi_project_get_the_matrix(world: World, who: str) -> None:
    from labelproof.errors import PermissionDenied

    _seed_revision(world)
    _clear(world, "orgadmin", PHI)
    _clear(world, who, PHI)
    _classify(world, "phi")
    failures = []
    for op_id, route in sorted(ROUTES.items()):
        if not isinstance(route.access, Action) or op_id == "approve_project_destruction":
            continue
        try:
            response = route.call(world, world.client(who))
        except PermissionDenied as exc:  # set-up as a fresh (uncleared) member: refused
            assert "classified 'phi'" in exc.message, (op_id, exc.message)
            continue
        if response.status_code not in _expect(route, who):
            failures.append(f"{op_id} as {who}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
