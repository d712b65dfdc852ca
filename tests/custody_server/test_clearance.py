"""Clearances are set by organisation admins (API and CLI), validated, and audited."""

from __future__ import annotations

from sqlalchemy import select

from labelproof.services.custody.clearance import RULES, missing_clearance
from labelproof.store.models import AuditEvent, User
from tests.custody_server.helpers import cli, json_of
from tests.world import World


def test_rule_table() -> None:
    full = {"clearances": ["pii", "phi", "cui"], "baa_signed": True, "training_done": True}
    for classification in RULES:
        assert missing_clearance(classification, full) == []
    assert missing_clearance("public", None) == [] and missing_clearance("internal", {}) == []
    assert missing_clearance("pii", {}) == ["clearance 'pii'"]
    assert missing_clearance("phi", {"clearances": ["phi"]}) == ["baa_signed=true"]
    assert missing_clearance("cui", {"clearances": ["cui"], "baa_signed": True}) == [
        "training_done=true"
    ]
    assert missing_clearance("secret", full) != []  # unknown: refused, not let through


def test_org_admin_sets_a_clearance_and_it_opens_a_pii_project(world: World) -> None:
    c = world.client("orgadmin")
    r = c.post("/api/projects", json={"name": "pii", "classification": "pii"})
    assert r.status_code == 201
    pid = r.json()["id"]
    who = world.users["annotator"]
    # the org admin needs the clearance too, even to manage members
    assert c.get(f"/api/projects/{pid}").status_code == 403
    member = {"user_id": who, "role": "annotator"}
    assert c.put(f"/api/projects/{pid}/members", json=member).status_code == 403
    me = world.users["orgadmin"]
    assert c.put(f"/api/users/{me}/clearance", json={"clearances": ["pii"]}).status_code == 200
    assert c.get(f"/api/projects/{pid}").status_code == 200
    assert c.put(f"/api/projects/{pid}/members", json=member).status_code == 200
    assert world.client("annotator").get(f"/api/projects/{pid}").status_code == 403
    bad = c.put(f"/api/users/{who}/clearance", json={"clearances": ["top-secret"]})
    assert bad.status_code == 422 and bad.json()["field"] == "clearance.clearances[0]"
    assert (
        world.client("annotator")
        .put(f"/api/users/{who}/clearance", json={"clearances": ["pii"]})
        .status_code
        == 403
    )
    ok = c.put(f"/api/users/{who}/clearance", json={"clearances": ["pii"]})
    assert ok.json()["clearance"] == {
        "clearances": ["pii"],
        "baa_signed": False,
        "training_done": False,
    }
    assert world.client("annotator").get(f"/api/projects/{pid}").status_code == 200
    with world.rt.read() as db:
        events = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "user.clearance_set"))
        )
    assert [e.target_id for e in events] == [str(me), str(who)]


def test_cli_sets_a_clearance(world: World) -> None:
    result = cli(
        world.rt, "user", "clearance", "reviewer@org.test", "--as", "root@org.test",
        "--clearance", "phi", "--baa-signed", "--data-dir", str(world.rt.settings.data_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json_of(result)["clearance"]["clearances"] == ["phi"]
    with world.rt.read() as db:
        user = db.get(User, world.users["reviewer"])
        assert user is not None and user.clearance["baa_signed"] is True
    denied = cli(
        world.rt, "user", "clearance", "reviewer@org.test", "--as", "annotator@org.test",
        "--clearance", "phi", "--data-dir", str(world.rt.settings.data_dir),
    )  # fmt: skip
    assert denied.exit_code == 2
