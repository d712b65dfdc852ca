"""The scripted pilot: calibration with annotators of known skill, production with gold
mixed in, reviews and rejections, an escalation that publishes SOP v2; the figures must be
the ones the script implies, and equal the metrics engine's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from labelproof.metrics.agreement import krippendorff_alpha
from tests.qa.pilot import Pilot, careful, drops_last, scaled, sloppy
from tests.world import World

POLICY = {
    "peer_review": True,
    "lead_audit": True,
    "audit_rate": 0.5,
    "gold_rate": 0.3,
    "accuracy_bar": 0.9,
    "agreement_bar": 0.8,
    "iou_threshold": 0.5,
    "below_bar_action": "requalify",
    "gold_seed": "pilot-gold",
    "audit_seed": "pilot-audit",
}
CANDIDATES = {
    "c1": careful,
    "c2": careful,
    "c3": careful,
    "sloppy": sloppy,
    "loose": scaled(2.0),  # IoU with the truth 0.25 < 0.5: never matched
}
PRODUCTION = {"c1": careful, "c2": scaled(1.05), "c3": drops_last}


def _alpha(rows: list[list[str | None]]) -> float:
    return krippendorff_alpha(rows, level="nominal", bootstrap=0).value


def _events(pilot: Pilot) -> list[dict[str, Any]]:
    r = pilot.c("auditor").get(pilot.p + "/events", params={"limit": 10_000})
    assert r.status_code == 200
    return list(r.json()["items"])


@pytest.fixture
def pilot(world: World) -> Pilot:
    pilot = Pilot(world)
    pilot.add_people(list(CANDIDATES))
    pm = pilot.c("program_manager")
    assert pm.post(pilot.p + "/policies", json={"settings": POLICY}).status_code == 201
    sop = {"guidelines": "Box every car and person.", "checklist": ["All objects boxed"]}
    assert pilot.c("team_lead").post(pilot.p + "/sops", json=sop).status_code == 201
    return pilot


def _calibrate(pilot: Pilot) -> dict[str, Any]:
    batch = pilot.batch("calibration", 3, answers=True)
    for name, draw in CANDIDATES.items():
        while (a := pilot.claim(name, "calibration")) is not None:
            pilot.work(name, a, draw)
    r = pilot.c("team_lead").post(f"/api/qa/batches/{batch}/evaluate")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_calibration_decides_who_qualifies_with_engine_agreement(pilot: Pilot) -> None:
    report = _calibrate(pilot)
    ids = pilot.users
    decided = {name: report["decisions"][str(ids[name])] for name in CANDIDATES}
    assert decided == {
        "c1": "qualified",
        "c2": "qualified",
        "c3": "qualified",
        "sloppy": "not_qualified",
        "loose": "not_qualified",
    }
    users = report["users"]
    # Careful: every object matched with its label.
    assert users[str(ids["c1"])]["accuracy"] == {
        "correct": 6, "matched": 6, "missed": 0, "extra": 0, "accuracy": 1.0
    }  # fmt: skip
    # Sloppy: the person is matched across labels (a confusion): 3 of 6 correct.
    assert users[str(ids["sloppy"])]["accuracy"]["accuracy"] == 0.5
    # Loose: nothing reaches IoU 0.5, every object missed and every box extra.
    assert users[str(ids["loose"])]["accuracy"] == {
        "correct": 0, "matched": 0, "missed": 6, "extra": 6, "accuracy": 0.0
    }  # fmt: skip
    ref = ["car", "person"] * 3
    assert users[str(ids["c1"])]["alpha_vs_reference"]["value"] == pytest.approx(_alpha([ref, ref]))
    assert users[str(ids["sloppy"])]["alpha_vs_reference"]["value"] == pytest.approx(
        _alpha([ref, ["car", "car"] * 3])
    )
    loose_rows: list[list[str | None]] = [
        ["car", "person", "<none>", "<none>"] * 3,
        ["<none>", "<none>", "car", "person"] * 3,
    ]
    assert users[str(ids["loose"])]["alpha_vs_reference"]["value"] == pytest.approx(
        _alpha(loose_rows)
    )
    assert users[str(ids["loose"])]["agreement"] < 0.8
    # Group alpha over the candidates (rows in user-id order, units of all three tasks).
    unit = {
        "c1": ["car", "person", "<none>", "<none>"],
        "c2": ["car", "person", "<none>", "<none>"],
        "c3": ["car", "person", "<none>", "<none>"],
        "sloppy": ["car", "car", "<none>", "<none>"],
        "loose": ["<none>", "<none>", "car", "person"],
    }
    rows: list[list[str | None]] = [list(unit[n] * 3) for n in sorted(unit, key=ids.__getitem__)]
    assert report["group_alpha"]["value"] == pytest.approx(_alpha(rows))
    assert report["group_alpha"]["n_units"] == 12
    # The decision stores its evidence.
    quals = {q["user_id"]: q for q in pilot.c("auditor").get(pilot.p + "/qualifications").json()}
    evidence = quals[ids["sloppy"]]["evidence"]
    assert evidence["accuracy"]["accuracy"] == 0.5 and evidence["n_tasks"] == 3
    assert "Krippendorff" in evidence["agreement_definition"]
    # Not qualified: no production work.
    pilot.batch("production", 1)
    assert pilot.claim("sloppy").status_code == 403


def test_pilot_production_gold_reviews_escalation_and_figures(pilot: Pilot) -> None:
    _calibrate(pilot)
    pilot.batch("production", 9)
    pilot.batch("gold", 3, answers=True)
    active = list(PRODUCTION)
    made: dict[str, list[int]] = {"v1": [], "v2": []}
    sop_version = "v1"
    rounds = 0
    while active:
        rounds += 1
        for name in list(active):
            a = pilot.claim(name)
            if a is None or not isinstance(a, dict):
                active.remove(name)  # empty queue, or no longer qualified (403)
                continue
            made[sop_version].append(a["id"])
            if rounds == 2 and name == "c1":
                r = pilot.c("c1").post(
                    pilot.p + "/escalations",
                    json={"assignment_id": a["id"], "label": "person",
                          "question": "Is a cyclist a person?"},
                )  # fmt: skip
                assert r.status_code == 201, r.text
                esc = r.json()
                assert esc["sop_version"] == 1
                answer = {
                    "answer": "Yes: a cyclist is a person.",
                    "publish_sop": {
                        "guidelines": "Box every car and person; a cyclist is a person.",
                        "checklist": ["All objects boxed", "Cyclists boxed as person"],
                    },
                }
                r = pilot.c("team_lead").post(
                    f"/api/qa/escalations/{esc['id']}/answer", json=answer
                )
                assert r.status_code == 201, r.text
                assert r.json()["published_sop_version"] == 2
                sop_version = "v2"
            pilot.work(name, a, PRODUCTION[name])
    # Reviews: the reviewer rejects c3's missing objects; c3 reworks; loops until clean.
    loops = 0
    while pilot.review_all("reviewer", "reviews"):
        loops += 1
        for a in pilot.c("c3").get(pilot.p + "/assignments/mine").json():
            if a["status"] == "rework":
                # the annotator sees why, in the same shape for every kind of task
                last = a["feedback"][-1]
                assert last["comment"] == "objects missing"
                assert {e["type"] for e in last["errors"]} == {"missed_object"}
                assert "stage" not in last and "mode" not in last
                pilot.work("c3", a, careful)
        assert loops < 5
    pilot.review_all("team_lead", "audits")

    events = _events(pilot)
    ids = pilot.users
    name_of = {v: k for k, v in ids.items()}
    mode = {e["assignment_id"]: e["details"]["mode"] for e in events if e["kind"] == "submitted"}
    owner = {e["assignment_id"]: e["subject_id"] for e in events if e["kind"] == "claimed"}
    gold_by = Counter(name_of[owner[a]] for a, m in mode.items() if m == "gold")
    assert gold_by["c3"] >= 1 and gold_by["c1"] >= 1, gold_by

    fig = pilot.c("program_manager").get(pilot.p + "/figures").json()
    per = {name_of[row["user_id"]]: row for row in fig["annotators"]}
    # Gold accuracy: careful and slightly loose boxes match; c3 misses one of two objects.
    assert per["c1"]["gold_accuracy"]["value"] == 1.0
    assert per["c3"]["gold_accuracy"]["value"] == 0.5
    assert per["c3"]["gold_accuracy"]["tasks"] == gold_by["c3"]
    if gold_by["c2"]:
        assert per["c2"]["gold_accuracy"]["value"] == 1.0
    # c3 fell below the bar at their first gold task: requalify, no more production.
    assert per["c3"]["status"] == "requalify"
    assert pilot.claim("c3").status_code == 403
    # Rework: every submission of c3 was rejected once; nobody else's.
    c3_work = [a for a, m in mode.items() if owner[a] == ids["c3"] and m != "calibration"]
    assert per["c3"]["rework_loops"] == len(c3_work)
    assert per["c3"]["rework_rate"]["value"] == 1.0
    assert per["c1"]["rework_loops"] == 0 and per["c2"]["rework_loops"] == 0
    # Errors: missed persons (c3), loose geometry fixed for c2 at peer review.
    by_type = Counter()
    for row in fig["errors"]["rows"]:
        by_type[(row["type"], row["label"], name_of[row["annotator"]], row["stage"])] += row[
            "count"
        ]
    assert by_type[("missed_object", "person", "c3", "peer_review")] == len(c3_work)
    c2_work = [a for a, m in mode.items() if owner[a] == ids["c2"] and m != "calibration"]
    assert by_type[("loose_geometry", "car", "c2", "peer_review")] == len(c2_work)
    # Ambiguity per SOP version: one escalation under v1, none under v2.
    calibration_claims = 5 * 3
    amb = {row["sop_version"]: row for row in fig["ambiguity"]["by_sop_version"]}
    assert amb[1]["count"] == 1 and amb[1]["n"] == calibration_claims + len(made["v1"])
    assert amb[2]["count"] == 0 and amb[2]["n"] == len(made["v2"]) > 0
    assert amb[1]["value"] == pytest.approx(1 / amb[1]["n"]) and amb[2]["value"] == 0.0
    assert fig["ambiguity"]["by_class"] == [
        {"sop_version": 1, "label": "person", "value": 1 / amb[1]["n"], "count": 1,
         "n": amb[1]["n"]}
    ]  # fmt: skip
    # Everything submitted in production was accepted in the end.
    assert fig["turnaround"]["claim_to_accept"]["n"] == len(mode)
    assert fig["turnaround"]["claim_to_submit"]["mean_s"] >= 0
    _recompute_matches(events, fig)
    # Revisions record the schema and SOP versions in force.
    _annotator_sees_no_mode(pilot, mode)


def _recompute_matches(events: list[dict[str, Any]], fig: dict[str, Any]) -> None:
    """The figures again, from the event rows alone, by independent code."""
    gold: dict[int, list[int]] = {}
    rejections: Counter[int] = Counter()
    owner: dict[int, int] = {}
    claims_by_sop: Counter[int] = Counter()
    esc_by_sop: Counter[int] = Counter()
    errors: Counter[tuple[str, str, int, str, int]] = Counter()
    for e in events:
        d = e["details"]
        if e["kind"] == "claimed":
            owner[e["assignment_id"]] = e["subject_id"]
            claims_by_sop[d["sop_version"]] += 1
        elif e["kind"] == "gold_scored":
            g = gold.setdefault(e["subject_id"], [0, 0])
            g[0] += d["correct"]
            g[1] += d["matched"] + d["missed"] + d["extra"]
        elif e["kind"] == "reviewed":
            rejections[owner[e["assignment_id"]]] += d["verdict"] == "reject"
            for err in d["errors"]:
                key = (err["type"], err["label"], owner[e["assignment_id"]], d["stage"])
                errors[(*key, d["sop_version"])] += 1
        elif e["kind"] == "escalation_raised":
            esc_by_sop[d["sop_version"]] += 1
    per = {row["user_id"]: row for row in fig["annotators"]}
    for user, (correct, den) in gold.items():
        assert per[user]["gold_accuracy"]["value"] == correct / den
    for user, row in per.items():
        assert row["rework_loops"] == rejections[user]
    for row in fig["ambiguity"]["by_sop_version"]:
        v = row["sop_version"]
        assert (row["count"], row["n"]) == (esc_by_sop[v], claims_by_sop[v])
    got = {
        (r["type"], r["label"], r["annotator"], r["stage"], r["sop_version"]): r["count"]
        for r in fig["errors"]["rows"]
    }
    assert got == dict(errors)
    assert fig["n_events"] == len(events)


def _annotator_sees_no_mode(pilot: Pilot, mode: dict[int, str]) -> None:
    mine = pilot.c("c1").get(pilot.p + "/assignments/mine").json()
    gold = [a for a in mine if mode.get(a["id"]) == "gold"]
    other = [a for a in mine if mode.get(a["id"]) == "single"]
    assert gold and other
    assert set(gold[0]) == set(other[0])
    assert all("mode" not in a and "batch_id" not in a for a in mine)
    task = pilot.c("c1").get(f"/api/tasks/{gold[0]['task_id']}").json()
    assert task["mode"] == "single"
    # No gold answer, no figures, nobody else's work.
    assert pilot.c("c1").get(f"/api/qa/tasks/{gold[0]['task_id']}/answer").status_code == 403
    assert pilot.c("c1").get(pilot.p + "/figures").status_code == 403
    theirs = pilot.c("c2").get(pilot.p + "/assignments/mine").json()[0]["id"]
    assert pilot.c("c1").get(f"/api/qa/assignments/{theirs}").status_code == 404
    assert pilot.c("c1").get(f"/api/qa/assignments/{theirs}/annotations").status_code == 404
    # Revisions carry their SOP version.
    rev = pilot.c("c1").get(f"/api/qa/assignments/{mine[-1]['id']}/annotations").json()
    assert rev["sop_version"] == 2 and rev["schema_version_id"] >= 1
