"""A demo installation: an organisation, a user per role, and a project holding
scikit-image's bundled sample images with annotations of every type, then (last) two DICOM
tasks from pydicom's bundled files (a CT slice and a multi-frame ultrasound loop).

Used by ``labelproof demo`` (and the README's first command). Running it again on a data
directory that has the demo is a no-op: passwords are shown only when users are created.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from labelproof.services import accounts, assets, projects, revisions, schemas
from labelproof.services.context import Runtime, new_request_id
from labelproof.services.permissions import Role
from labelproof.store.db import transaction
from labelproof.store.models import Organization

DEMO_SLUG = "demo"
ROLE_USERS = [
    ("admin@demo.labelproof.test", "Ada Admin", Role.ADMIN),
    ("pm@demo.labelproof.test", "Pat Manager", Role.PROGRAM_MANAGER),
    ("lead@demo.labelproof.test", "Lee Lead", Role.TEAM_LEAD),
    ("reviewer@demo.labelproof.test", "Rey Reviewer", Role.REVIEWER),
    ("annotator@demo.labelproof.test", "Ann Annotator", Role.ANNOTATOR),
    ("auditor@demo.labelproof.test", "Aud Auditor", Role.AUDITOR),
]

SCHEMA: dict[str, Any] = {
    "classes": [
        {
            "name": "scene",
            "types": ["tag"],
            "attributes": [
                {
                    "name": "setting",
                    "kind": "select",
                    "options": ["indoor", "outdoor", "studio"],
                    "required": True,
                }
            ],
        },
        {
            "name": "person",
            "types": ["box", "polygon", "keypoints", "mask"],
            "attributes": [{"name": "occluded", "kind": "bool"}],
            "skeleton": {
                "keypoints": [
                    "head",
                    "neck",
                    "left_shoulder",
                    "right_shoulder",
                    "left_hand",
                    "right_hand",
                ],
                "edges": [[0, 1], [1, 2], [1, 3], [2, 4], [3, 5]],
            },
        },
        {
            "name": "object",
            "types": ["box", "rotated_box", "polygon", "mask"],
            "attributes": [{"name": "material", "kind": "text"}],
        },
        {"name": "edge", "types": ["polyline"]},
        {"name": "container", "types": ["cuboid"]},
        {"name": "animal", "types": ["box", "polygon"]},
    ]
}


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    password: str | None


def _png(name: str) -> bytes:
    import numpy as np
    from PIL import Image
    from skimage import data

    pixels = np.asarray(getattr(data, name)())
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _annotations(name: str, width: int, height: int) -> list[dict[str, Any]]:
    from labelproof import annotypes

    def polygon_mask() -> dict[str, Any]:
        poly = {"points": [[200, 60], [320, 60], [330, 200], [190, 200]], "holes": []}
        mask = annotypes.get_type("polygon").to_mask(
            poly, annotypes.ImageSize(width=width, height=height)
        )
        assert mask is not None
        return mask

    setting = {"astronaut": "studio", "coffee": "indoor", "chelsea": "indoor", "rocket": "outdoor"}[
        name
    ]
    items: list[dict[str, Any]] = [
        {"type": "tag", "label": "scene", "geometry": {}, "attributes": {"setting": setting}},
    ]
    if name == "astronaut":
        items += [
            {
                "type": "box",
                "label": "person",
                "geometry": {"x": 140, "y": 20, "w": 290, "h": 490},
                "attributes": {"occluded": False},
            },
            {
                "type": "polygon",
                "label": "person",
                "geometry": {
                    "points": [
                        [180, 40],
                        [330, 30],
                        [420, 200],
                        [440, 511],
                        [150, 511],
                        [160, 220],
                    ],
                    "holes": [],
                },
                "attributes": {"occluded": False},
            },
            {
                "type": "keypoints",
                "label": "person",
                "geometry": {
                    "points": [
                        [260, 110, 2],
                        [265, 215, 2],
                        [190, 270, 2],
                        [360, 260, 2],
                        [175, 470, 1],
                        [0, 0, 0],
                    ]
                },
                "attributes": {},
            },
            {
                "type": "mask",
                "label": "person",
                "geometry": polygon_mask(),
                "source": "model",
                "confidence": 0.87,
                "attributes": {},
            },
            {
                "type": "rotated_box",
                "label": "object",
                "geometry": {"cx": 440, "cy": 400, "w": 90, "h": 40, "angle": -30},
                "attributes": {"material": "flag fabric"},
            },
        ]
    elif name == "coffee":
        items += [
            {
                "type": "polygon",
                "label": "object",
                "geometry": {
                    "points": [[140, 60], [470, 60], [490, 330], [120, 330]],
                    "holes": [[[250, 150], [360, 150], [360, 230], [250, 230]]],
                },
                "attributes": {"material": "ceramic"},
            },
            {
                "type": "polyline",
                "label": "edge",
                "geometry": {"points": [[10, 380], [200, 370], [400, 372], [590, 385]]},
            },
            {
                "type": "cuboid",
                "label": "container",
                "geometry": {
                    "center": [0.0, 0.0, 0.05],
                    "size": [0.12, 0.12, 0.1],
                    "rotation": [0.0, 0.0, 0.3],
                },
            },
        ]
    elif name == "chelsea":
        items += [
            {"type": "box", "label": "animal", "geometry": {"x": 60, "y": 10, "w": 360, "h": 280}},
        ]
    return items


def seed_demo(rt: Runtime) -> tuple[int, list[DemoUser], bool]:
    """Create the demo if absent. Returns (project id, users, created?)."""
    with transaction(rt.sessions) as db:
        org = db.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
        if org is not None:
            from labelproof.store.models import Project

            project_id = db.scalar(
                select(Project.id).where(Project.org_id == org.id).order_by(Project.id).limit(1)
            )
            return (
                project_id or 0,
                [DemoUser(email, role.value, None) for email, _n, role in ROLE_USERS],
                False,
            )
        rid = new_request_id()
        admin_password = accounts.generate_password()
        first = ROLE_USERS[0]
        admin = accounts.bootstrap(
            db,
            org_name="Demo annotation program",
            org_slug=DEMO_SLUG,
            email=first[0],
            password=admin_password,
            request_id=rid,
        )
        admin.display_name = first[1]
        actor = accounts.actor_for(admin, rid)
        users = [DemoUser(first[0], first[2].value, admin_password)]
        project = projects.create_project(
            db,
            actor,
            name="Demo: every annotation type",
            description="scikit-image sample images with an annotation of every type.",
            vertical="general",
            classification="internal",
        )
        for email, name, role in ROLE_USERS[1:]:
            password = accounts.generate_password()
            user = accounts.create_user(
                db, actor, org_id=actor.org_id, email=email, display_name=name, password=password
            )
            projects.set_member(db, actor, project_id=project.id, user_id=user.id, role=role.value)
            users.append(DemoUser(email, role.value, password))
        schemas.create_version(
            db, actor, project_id=project.id, definition=SCHEMA, note="demo schema"
        )
        for image in ("astronaut", "coffee", "chelsea", "rocket"):
            asset = assets.add_asset(
                db,
                rt,
                actor,
                project_id=project.id,
                filename=f"{image}.png",
                stream=io.BytesIO(_png(image)),
            )
            task = assets.create_tasks(db, actor, project_id=project.id, asset_ids=[asset.id])[0]
            revisions.save(
                db,
                actor,
                task_id=task.id,
                base_revision=0,
                annotations=_annotations(image, asset.width, asset.height),
                idempotency_key=f"demo-{image}",
            )
        _seed_dicom(db, rt, actor, project.id)
        return project.id, users, True


#: pydicom's bundled files: a CT slice and a 30-frame colour ultrasound loop (both offline).
DICOM_FILES = ("CT_small.dcm", "examples_ybr_color.dcm")


def _dicom_annotations(name: str, width: int, height: int, frames: int) -> list[dict[str, Any]]:
    if frames > 1:  # a box on the middle frame and one on the first
        return [
            {
                "type": "box",
                "label": "object",
                "geometry": {"x": width // 4, "y": height // 4, "w": width // 3, "h": height // 3},
                "frame": frames // 2,
            },
            {
                "type": "box",
                "label": "object",
                "geometry": {"x": 10, "y": 10, "w": width // 5, "h": height // 5},
                "frame": 0,
            },
        ]
    cx, cy, r = width / 2, height / 2, min(width, height) / 4
    return [
        {
            "type": "polygon",
            "label": "object",
            "geometry": {
                "points": [
                    [cx - r, cy - r / 2],
                    [cx + r, cy - r / 2],
                    [cx + r / 2, cy + r],
                    [cx - r / 2, cy + r],
                ]
            },
            "attributes": {"material": "tissue"},
        }
    ]


def _seed_dicom(db: Any, rt: Runtime, actor: Any, project_id: int) -> None:
    """DICOM tasks last in the demo project, de-identified at ingest (PS3.15 basic profile):
    the project turns its ``dicom`` policy on first (an audited policy change)."""
    from pydicom.data import get_testdata_file

    from labelproof.services import deid
    from labelproof.store.models import Project

    project = db.get(Project, project_id)
    policy = {**deid.policy_of(project), "dicom": "basic_profile"}
    deid.set_policy(db, actor, project_id=project_id, policy=policy)
    for name in DICOM_FILES:
        path = get_testdata_file(name)
        if not isinstance(path, str):  # a file pydicom would download: not here, skip it
            continue
        with open(path, "rb") as fh:
            asset = assets.add_asset(
                db, rt, actor, project_id=project_id, filename=name.lower(), stream=fh
            )
        task = assets.create_tasks(db, actor, project_id=project_id, asset_ids=[asset.id])[0]
        revisions.save(
            db,
            actor,
            task_id=task.id,
            base_revision=0,
            annotations=_dicom_annotations(name, asset.width, asset.height, asset.frames),
            idempotency_key=f"demo-{name}",
        )
