"""The queue: race-free claims, claim expiry, consensus slots, adjudication, roles."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from labelproof.metrics.agreement import krippendorff_alpha
from labelproof.store.qa_models import QaAssignment
from tests.qa.pilot import Pilot, careful
from tests.world import World

N_PEOPLE = 50
N_TASKS = 40


def _qualify(pilot: Pilot, names: list[str]) -> None:
    for name in names:
        r = pilot.c("program_manager").put(
            pilot.p + f"/qualifications/{pilot.users[name]}",
            json={"status": "qualified", "reason": "pilot"},
        )
        assert r.status_code == 200, r.text


def test_fifty_annotators_claim_at_once_without_double_or_lost_tasks(world: World) -> None:
    pilot = Pilot(world)
    names = [f"a{i}" for i in range(N_PEOPLE)]
    pilot.add_people(names)
    _qualify(pilot, names)
    pilot.c("program_manager").post(pilot.p + "/policies", json={"settings": {"gold_rate": 0.0}})
    pilot.batch("production", N_TASKS)
    clients = {n: pilot.c(n) for n in names}
    results: dict[str, Any] = {}
    start = threading.Barrier(N_PEOPLE)

    def worker(name: str) -> None:
        start.wait()
        r = clients[name].post(pilot.p + "/claim", json={"queue": "production"})
        results[name] = (r.status_code, r.json())

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {code for code, _ in results.values()} == {200}
    got = [body["assignment"] for _, body in results.values() if body["assignment"]]
    tasks = Counter(a["task_id"] for a in got)
    assert len(got) == N_TASKS  # nobody lost: every task went to someone
    assert max(tasks.values()) == 1  # nobody doubled
    assert set(tasks) == set(pilot.truth)
    with world.rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(QaAssignment)) == N_TASKS


def test_expired_claim_returns_to_the_queue(world: World) -> None:
    pilot = Pilot(world)
    pilot.add_people(["slow", "fast"])
    _qualify(pilot, ["slow", "fast"])
    settings = {"gold_rate": 0.0, "claim_ttl_s": 1, "peer_review": False, "lead_audit": False}
    pilot.c("program_manager").post(pilot.p + "/policies", json={"settings": settings})
    pilot.batch("production", 1)
    first = pilot.claim("slow")
    assert pilot.claim("fast") is None  # the only task is taken
    time.sleep(1.2)
    second = pilot.claim("fast")
    assert second["task_id"] == first["task_id"] and second["id"] != first["id"]
    r = pilot.c("slow").put(
        f"/api/qa/assignments/{first['id']}/annotations",
        json={"base_revision": 0, "annotations": []},
        headers={"Idempotency-Key": "late"},
    )
    assert r.status_code == 409
    assert pilot.c("slow").get(f"/api/qa/assignments/{first['id']}").json()["status"] == "expired"
    pilot.work("fast", second, careful)
    assert pilot.c("fast").get(f"/api/qa/assignments/{second['id']}").json()["status"] == (
        "accepted"
    )
    history = pilot.c("auditor").get(f"/api/qa/assignments/{first['id']}/history").json()
    assert [h["kind"] for h in history["history"]] == ["expired"]


def test_consensus_merges_and_sends_disagreement_to_a_lead(world: World) -> None:
    pilot = Pilot(world)
    people = ["k1", "k2", "k3"]
    pilot.add_people(people)
    _qualify(pilot, people)
    settings = {"gold_rate": 0.0, "consensus_k": 3, "agreement_bar": 0.8}
    pilot.c("program_manager").post(pilot.p + "/policies", json={"settings": settings})
    pilot.batch("production", 2, mode="consensus")
    clear, hard = sorted(pilot.truth)
    for name in people:
        a = pilot.claim(name)
        assert a["task_id"] == clear
        pilot.work(name, a, careful)
        b = pilot.claim(name)
        assert b["task_id"] == hard
        # On the hard task k3 calls the person a car.
        pilot.work(
            name,
            b,
            careful if name != "k3" else lambda items: [dict(i, label="car") for i in items],
        )
    assert pilot.claim("k1") is None  # k distinct annotators per task, no more
    lead = pilot.c("team_lead")
    done = lead.get(f"/api/qa/tasks/{clear}/result").json()
    assert done["kind"] == "consensus"
    assert done["agreement"]["value"] == 1.0
    assert done["agreement"]["alpha"]["value"] == pytest.approx(
        krippendorff_alpha([["car", "person"]] * 3, bootstrap=0).value
    )
    assert sorted(a["label"] for a in done["annotations"]) == ["car", "person"]
    hard_result = lead.get(f"/api/qa/tasks/{hard}/result").json()
    expected = krippendorff_alpha(
        [["car", "person"], ["car", "person"], ["car", "car"]], bootstrap=0
    ).value
    assert hard_result["agreement"]["value"] == pytest.approx(expected)
    assert expected < 0.8
    # The majority still wins the merged label.
    assert sorted(a["label"] for a in hard_result["annotations"]) == ["car", "person"]
    queue = lead.get(pilot.p + "/adjudications").json()
    assert [q["task_id"] for q in queue] == [hard]
    mine = {
        a["task_id"]: a["status"] for a in pilot.c("k1").get(pilot.p + "/assignments/mine").json()
    }
    assert mine == {clear: "accepted", hard: "submitted"}
    r = lead.post(
        f"/api/qa/tasks/{hard}/adjudicate", json={"annotations": pilot.truth[hard], "comment": "ok"}
    )
    assert r.status_code == 201, r.text
    assert lead.get(pilot.p + "/adjudications").json() == []
    assert lead.get(f"/api/qa/tasks/{hard}/result").json()["kind"] == "adjudicated"
    mine = {
        a["task_id"]: a["status"] for a in pilot.c("k1").get(pilot.p + "/assignments/mine").json()
    }
    assert mine == {clear: "accepted", hard: "accepted"}
    fig = pilot.c("auditor").get(pilot.p + "/figures").json()
    assert fig["consensus"]["n"] == 2 and fig["consensus"]["below_bar"] == 1


def test_self_check_stale_base_and_roles(world: World) -> None:
    pilot = Pilot(world)
    pilot.add_people(["ann"])
    _qualify(pilot, ["ann"])
    pilot.c("program_manager").post(pilot.p + "/policies", json={"settings": {"gold_rate": 0.0}})
    lead = pilot.c("team_lead")
    sop = {"guidelines": "g", "checklist": [{"id": "boxes", "text": "Every object boxed"}]}
    assert lead.post(pilot.p + "/sops", json=sop).status_code == 201
    pilot.batch("production", 1)
    a = pilot.claim("ann")
    assert pilot.claim("ann")["id"] == a["id"]  # claiming again gives back the open claim
    n = pilot.save("ann", a, pilot.truth[a["task_id"]], 0)
    stale = pilot.c("ann").put(
        f"/api/qa/assignments/{a['id']}/annotations",
        json={"base_revision": 0, "annotations": []},
        headers={"Idempotency-Key": "other"},
    )
    assert stale.status_code == 409 and stale.json()["details"]["current_revision"] == 1
    url = f"/api/qa/assignments/{a['id']}/submit"
    r = pilot.c("ann").post(url, json={"revision": n, "checklist": []})
    assert r.status_code == 422 and r.json()["details"]["missing"] == ["boxes"]
    assert pilot.c("ann").post(url, json={"revision": n, "checklist": ["boxes"]}).status_code == 200
    # The auditor reads and never writes.
    auditor = pilot.c("auditor")
    assert auditor.get(pilot.p + "/figures").status_code == 200
    assert (
        auditor.post(
            f"/api/qa/assignments/{a['id']}/reviews", json={"verdict": "accept"}
        ).status_code
        == 403
    )
    assert auditor.post(pilot.p + "/claim", json={}).status_code == 403
    r = pilot.c("reviewer").post(
        f"/api/qa/assignments/{a['id']}/reviews",
        json={"verdict": "reject", "errors": [{"type": "sop_violation", "comment": "x"}]},
    )
    assert r.status_code == 201 and r.json()["stage"] == "rework"
    assert pilot.c("ann").get(f"/api/qa/assignments/{a['id']}").json()["status"] == "rework"
