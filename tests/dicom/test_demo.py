"""``labelproof demo`` seeds two DICOM tasks last in its project (both databases)."""

from __future__ import annotations

from sqlalchemy import select

from labelproof.demo import seed_demo
from labelproof.services.context import Runtime
from labelproof.services.deid import policy_of
from labelproof.store.models import Asset, Project, Task


def test_demo_seeds_dicom_tasks_last(runtime: Runtime) -> None:
    project_id, _users, created = seed_demo(runtime)
    assert created
    with runtime.read() as db:
        rows = list(
            db.scalars(select(Asset).where(Asset.project_id == project_id).order_by(Asset.id))
        )
        names = [a.filename for a in rows]
        assert names == [
            "astronaut.png",
            "coffee.png",
            "chelsea.png",
            "rocket.png",
            "ct_small.dcm",
            "examples_ybr_color.dcm",
        ]
        ct, us = rows[4], rows[5]
        assert (ct.media_type, ct.frames, ct.width, ct.height) == ("application/dicom", 1, 128, 128)
        assert (us.frames, us.width, us.height) == (30, 320, 240)
        assert ct.deid is not None and ct.deid["kind"] == "dicom"
        assert us.deid is not None and us.deid["burned_in"] is True  # ultrasound: flagged
        assert rows[0].deid is None  # the photos were stored as before (photos policy off)
        assert us.media_meta is not None and us.media_meta["photometric"] == "YBR_FULL_422"
        tasks = list(
            db.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id))
        )
        assert [t.asset_id for t in tasks] == [a.id for a in rows]
        project = db.get(Project, project_id)
        assert project is not None and policy_of(project)["dicom"] == "basic_profile"
        assert policy_of(project)["photos"] == "off"
