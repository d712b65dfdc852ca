"""Retention: closing a project schedules its destruction; a second person approves it
before it is due; due approved destructions are carried out with a certificate, due
unapproved ones are reported and kept; reopening cancels. Injected clock, both databases."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from labelproof.services.custody.retention import run_due, start_timer
from labelproof.store.custody_models import DestructionRequest
from labelproof.store.models import AuditEvent, Project
from tests.custody_server.helpers import cli, json_of
from tests.world import World


def _close(world: World, who: str = "program_manager", **body: Any) -> Any:
    return world.client(who).post(f"/api/projects/{world.project_id}/close", json=body)


def _events(world: World, project_id: int) -> list[tuple[str, dict[str, Any]]]:
    with world.rt.read() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.project_id == project_id).order_by(AuditEvent.id)
        )
        return [(e.action, e.details) for e in rows]


def _exists(world: World, project_id: int) -> bool:
    with world.rt.read() as db:
        return db.get(Project, project_id) is not None


def _status(world: World, request_id: int) -> str:
    with world.rt.read() as db:
        req = db.get(DestructionRequest, request_id)
        assert req is not None
        return req.status


def test_an_approved_schedule_is_carried_out_when_due(world: World, tmp_path: Path) -> None:
    r = _close(world, retention_days=30)
    assert r.status_code == 200, r.text
    body = r.json()
    closed = datetime.fromisoformat(body["closed_at"])
    req = body["destruction_request"]
    assert body["retention_days"] == 30 and req["status"] == "scheduled"
    assert datetime.fromisoformat(req["due_at"]) == closed + timedelta(days=30)
    # the person who closed it cannot approve; a program manager has no destroy right
    approve = f"/api/destruction-requests/{req['id']}/approve"
    assert world.client("program_manager").post(approve).status_code == 403
    # not due yet: nothing happens, approved or not
    assert run_due(world.rt, now=closed + timedelta(days=29)).to_dict() == {
        "destroyed": [],
        "awaiting_approval": [],
        "failed": [],
    }
    r = world.client("admin").post(approve)
    assert r.status_code == 200, r.text
    assert (r.json()["request_id"], r.json()["status"]) == (req["id"], "approved")
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime.fromisoformat(req["due_at"])
    assert world.client("admin").post(approve).status_code == 409  # approved once
    assert run_due(world.rt, now=closed + timedelta(days=29, hours=23)).destroyed == []
    assert _exists(world, world.project_id)
    # due: carried out, with a signed certificate naming the schedule
    report = run_due(world.rt, now=closed + timedelta(days=30, seconds=1))
    assert [d["request_id"] for d in report.destroyed] == [req["id"]]
    assert report.awaiting_approval == [] and report.failed == []
    assert not _exists(world, world.project_id)
    assert _status(world, req["id"]) == "done"
    cert_id = report.destroyed[0]["certificate_id"]
    cert = world.client("orgadmin").get(f"/api/destruction-certificates/{cert_id}").json()
    assert cert["retention"]["trigger"] == "retention schedule"
    assert (
        cert["retention"]["retention_days"] == 30 and cert["retention"]["request_id"] == req["id"]
    )
    assert cert["approved_by"]["user_id"] == world.users["admin"]
    assert cert["requested"]["user_id"] == world.users["program_manager"]
    path = world.rt.settings.certificate_dir / f"{cert_id}.json"
    assert (
        cli(
            world.rt,
            "certificate",
            "verify",
            str(path),
            "--data-dir",
            str(world.rt.settings.data_dir),
        ).exit_code
        == 0
    )
    actions = [a for a, _d in _events(world, world.project_id)]
    for expected in (
        "project.closed",
        "project.destruction_scheduled",
        "project.destruction_approved",
        "project.destroyed",
    ):
        assert expected in actions, (expected, actions)
    # a later run finds nothing more to do
    assert run_due(world.rt, now=closed + timedelta(days=60)).destroyed == []


def test_a_due_schedule_without_approval_is_reported_and_kept(world: World) -> None:
    body = _close(world, retention_days=1).json()
    closed = datetime.fromisoformat(body["closed_at"])
    rid = body["destruction_request"]["id"]
    report = run_due(world.rt, now=closed + timedelta(days=2))
    assert report.destroyed == [] and report.failed == []
    assert [a["request_id"] for a in report.awaiting_approval] == [rid]
    assert _exists(world, world.project_id) and _status(world, rid) == "scheduled"
    overdue = [d for a, d in _events(world, world.project_id) if a == "project.destruction_overdue"]
    assert len(overdue) == 1 and overdue[0]["request_id"] == rid
    assert overdue[0]["reason"] == "no second-person approval"
    # the CLI says so and exits 1, every run (never silently)
    at = (closed + timedelta(days=3)).isoformat()
    r = cli(
        world.rt, "custody", "run-due", "--data-dir", str(world.rt.settings.data_dir), "--now", at
    )
    assert r.exit_code == 1, r.output
    assert f"destruction request {rid}" in r.stderr and "no second-person approval" in r.stderr
    assert json_of(r)["awaiting_approval"][0]["request_id"] == rid
    runs = [a for a, _d in _events(world, world.project_id) if a == "project.destruction_overdue"]
    assert len(runs) == 2 and _exists(world, world.project_id)


def test_reopening_cancels_the_schedule(world: World) -> None:
    body = _close(world).json()  # the installation's default: 30 days
    assert body["retention_days"] == 30
    closed = datetime.fromisoformat(body["closed_at"])
    rid = body["destruction_request"]["id"]
    assert world.client("admin").post(f"/api/destruction-requests/{rid}/approve").status_code == 200
    assert _close(world).status_code == 409  # already closed
    r = world.client("program_manager").post(f"/api/projects/{world.project_id}/reopen")
    assert r.status_code == 200, r.text
    assert r.json() == {"project_id": world.project_id, "cancelled_requests": [rid]}
    assert _status(world, rid) == "cancelled"
    assert run_due(world.rt, now=closed + timedelta(days=365)).destroyed == []
    assert _exists(world, world.project_id)
    events = _events(world, world.project_id)
    cancelled = [d for a, d in events if a == "project.destruction_cancelled"]
    assert [(d["request_id"], d["was"]) for d in cancelled] == [(rid, "approved")]
    due = datetime.fromisoformat(body["destruction_request"]["due_at"])
    assert datetime.fromisoformat(cancelled[0]["due_at"]) == due
    assert ("project.reopened", {"cancelled_requests": [rid]}) in events
    assert (
        world.client("program_manager").post(f"/api/projects/{world.project_id}/reopen").status_code
        == 409
    )
    with world.rt.read() as db:
        project = db.get(Project, world.project_id)
        assert project is not None and project.closed_at is None


def test_who_may_close_and_what_is_checked(world: World) -> None:
    assert _close(world, "annotator").status_code == 403
    assert _close(world, "auditor").status_code == 403
    assert _close(world, "outsider").status_code == 404
    r = _close(world, retention_days=-1)
    assert r.status_code == 422
    r = _close(world, retention_days=7, schedule_destruction=False)
    assert r.status_code == 200 and r.json()["destruction_request"] is None
    assert r.json()["retention_days"] == 7


def test_cli_close_approve_and_run_due(world: World) -> None:
    d = str(world.rt.settings.data_dir)
    r = cli(
        world.rt,
        "project",
        "close",
        str(world.project_id),
        "--as",
        "program_manager@org.test",
        "--retention-days",
        "0",
        "--data-dir",
        d,
    )
    assert r.exit_code == 0, r.output
    rid = json_of(r)["destruction_request"]["id"]
    r = cli(
        world.rt,
        "custody",
        "approve",
        str(rid),
        "--as",
        "program_manager@org.test",
        "--data-dir",
        d,
    )
    assert r.exit_code == 2  # the closer is not the second person
    r = cli(world.rt, "custody", "approve", str(rid), "--as", "admin@org.test", "--data-dir", d)
    assert r.exit_code == 0, r.output
    r = cli(world.rt, "custody", "run-due", "--data-dir", d)
    assert r.exit_code == 0, r.output
    assert [x["request_id"] for x in json_of(r)["destroyed"]] == [rid]
    assert not _exists(world, world.project_id)


def test_the_server_timer_runs_due_destructions(world: World) -> None:
    body = _close(world, retention_days=5).json()
    rid = body["destruction_request"]["id"]
    world.client("admin").post(f"/api/destruction-requests/{rid}/approve")
    later = datetime.fromisoformat(body["closed_at"]) + timedelta(days=6)
    stop = start_timer(world.rt, 0.05, clock=lambda: later)
    try:
        deadline = time.monotonic() + 30
        while _exists(world, world.project_id) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert not _exists(world, world.project_id) and _status(world, rid) == "done"


def test_a_closed_project_is_read_only_until_reopened(world: World) -> None:
    import uuid

    from tests.world import png_bytes

    def save(base: int) -> Any:
        return world.client("annotator").put(
            f"/api/tasks/{world.task_id}/annotations",
            json={"base_revision": base, "annotations": []},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def upload() -> Any:
        return world.client("program_manager").post(
            f"/api/projects/{world.project_id}/assets",
            files={"file": ("c.png", png_bytes(seed=3), "image/png")},
        )

    assert _close(world, retention_days=30).status_code == 200
    r = save(0)
    assert r.status_code == 409 and "is closed" in r.json()["message"], r.text
    assert upload().status_code == 409
    pm = world.client("program_manager")
    assert pm.get(f"/api/projects/{world.project_id}/assets").status_code == 200
    content = f"/api/projects/{world.project_id}/assets/{world.asset_id}/content"
    assert pm.get(content).status_code == 200
    assert (
        world.client("annotator")
        .post(f"/api/projects/{world.project_id}/close", json={})
        .status_code
        == 403
    )  # refusals by role still come first
    assert pm.post(f"/api/projects/{world.project_id}/reopen").status_code == 200
    assert save(0).status_code in (200, 201)
    assert upload().status_code == 201
