"""The QA pages in a real browser: the annotator's queue (claim, draw, submit with the SOP
self-check), review (reject with an error type; the annotator sees the work returned for
rework), escalations (ask; a lead answers and publishes SOP v2) and the figures page.
Every result is read back through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, shot
from tests.browser.qa_setup import CHECKLIST, QaProject, client_as, make_project, ok
from tests.browser.workspace import Workspace, sign_in

BOX = {"x": 100.0, "y": 120.0, "w": 120.0, "h": 140.0}


@pytest.fixture
def qa(admin_api: httpx.Client) -> QaProject:
    return make_project(admin_api, tasks=2)


@pytest.fixture
def annotator_api(server: Server) -> Iterator[httpx.Client]:
    c = client_as(server.url, server.emails["annotator"], server.passwords["annotator"])
    try:
        yield c
    finally:
        c.close()


def history(admin: httpx.Client, assignment_id: int) -> dict[str, Any]:
    out: dict[str, Any] = ok(admin.get(f"/api/qa/assignments/{assignment_id}/history"))
    return out


def events(h: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in h["history"] if e["kind"] == kind]


def submitted_by_api(api: httpx.Client, qa: QaProject) -> int:
    """Claim, save one box and submit with the checklist, as the annotator: the assignment."""
    a = ok(api.post(f"/api/projects/{qa.id}/qa/claim", json={}))["assignment"]
    submit(api, a)
    return int(a["id"])


def submit(api: httpx.Client, a: dict[str, Any]) -> None:
    """Save one box in assignment ``a`` and submit it with the whole checklist."""
    box = {"id": "b1", "type": "box", "label": "person", "geometry": BOX, "attributes": {}}
    ok(
        api.put(
            f"/api/qa/assignments/{a['id']}/annotations",
            json={"base_revision": 0, "annotations": [box]},
            headers={"Idempotency-Key": f"seed-{a['id']}"},
        )
    )
    ok(
        api.post(
            f"/api/qa/assignments/{a['id']}/submit",
            json={"revision": 1, "checklist": [c["id"] for c in CHECKLIST]},
        )
    )


def test_queue_claim_draw_submit_with_checklist(
    page: Any, server: Server, qa: QaProject, admin_api: httpx.Client
) -> None:
    sign_in(page, server)
    page.goto(f"/#/projects/{qa.id}/queue")
    page.wait_for_selector("[data-testid=claim]")
    shot(page, "qa-queue-before")
    page.click("[data-testid=claim]")
    page.wait_for_url(f"**/#/projects/{qa.id}/queue/*")
    assignment = int(page.url.rsplit("/", 1)[1])
    ws = Workspace(page)
    ws.wait_ready()
    assert page.inner_text("[data-testid=assignment-status]") == "In progress"

    ws.cls("person")
    ws.tool("box")
    ws.drag((BOX["x"], BOX["y"]), (BOX["x"] + BOX["w"], BOX["y"] + BOX["h"]))
    assert ws.save() == 1

    page.click("[data-testid=open-submit]")
    dialog = page.locator("[data-testid=submit-dialog]")
    dialog.wait_for()
    submit = page.locator("[data-testid=submit]")
    assert submit.is_disabled()  # every item must be ticked
    page.check(f"[data-testid=check-{CHECKLIST[0]['id']}]")
    assert submit.is_disabled()
    page.check(f"[data-testid=check-{CHECKLIST[1]['id']}]")
    assert submit.is_enabled()
    shot(page, "qa-submit-checklist")
    submit.click()
    page.wait_for_url(f"**/#/projects/{qa.id}/queue")
    row = page.locator(f"[data-testid=assignment-row][data-assignment='{assignment}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "submitted"
    shot(page, "qa-queue")

    h = history(admin_api, assignment)
    assert h["stage"] == "peer_review" and h["submitted_revision"] == 1
    [sub] = events(h, "submitted")
    assert sorted(sub["checklist"]) == sorted(c["id"] for c in CHECKLIST)
    item = ok(admin_api.get(f"/api/qa/reviews/{assignment}"))
    [box] = item["revision"]["annotations"]
    assert box["type"] == "box" and box["label"] == "person"
    for k, v in BOX.items():
        assert abs(box["geometry"][k] - v) <= 0.5, (k, box["geometry"])


def test_review_reject_with_error_type_returns_for_rework(
    browser: Any,
    page: Any,
    server: Server,
    qa: QaProject,
    admin_api: httpx.Client,
    annotator_api: httpx.Client,
) -> None:
    assignment = submitted_by_api(annotator_api, qa)

    sign_in(page, server, "reviewer")
    page.goto(f"/#/projects/{qa.id}/reviews")
    row = page.locator(f"[data-testid=review-row][data-assignment='{assignment}']")
    row.wait_for()
    shot(page, "qa-reviews")
    row.locator("[data-testid=open-review]").click()
    ws = Workspace(page)
    ws.wait_ready()
    assert len(ws.items()) == 1  # the annotator's work
    reject = page.locator("[data-testid=verdict-reject]")
    assert reject.is_disabled()  # a rejection needs an error
    ws.tool("select")
    ws.click(BOX["x"] + 2, BOX["y"] + BOX["h"] / 2)  # on the box's left edge
    assert page.evaluate("() => window.__labelproof.doc.selected") == "b1"
    page.click("[data-testid=add-error]")
    page.select_option("[data-testid=error-type]", "loose_geometry")
    page.fill("[data-testid=error-comment]", "The box cuts off the feet")
    page.fill("[data-testid=review-comment]", "Please redo the box")
    shot(page, "qa-review")
    reject.click()
    page.wait_for_url(f"**/#/projects/{qa.id}/reviews")
    page.wait_for_selector("[data-testid=review-empty]")

    h = history(admin_api, assignment)
    assert h["stage"] == "rework" and h["rejections"] == 1
    [rev] = events(h, "reviewed")
    d = rev  # history entries are flat: kind, at and the event's details
    assert d["verdict"] == "reject" and d["comment"] == "Please redo the box"
    [err] = d["errors"]
    assert err["type"] == "loose_geometry" and err["annotation_id"] == "b1"
    assert err["label"] == "person" and err["comment"] == "The box cuts off the feet"
    assert err["region"] == pytest.approx(BOX, abs=0.01)

    # The annotator sees it returned for rework (a fresh browser context).
    ctx = browser.new_context(viewport={"width": 1400, "height": 850}, base_url=server.url)
    try:
        mine = ctx.new_page()
        sign_in(mine, server, "annotator")
        mine.goto(f"/#/projects/{qa.id}/queue")
        row = mine.locator(f"[data-testid=assignment-row][data-assignment='{assignment}']")
        row.wait_for()
        assert row.get_attribute("data-status") == "rework"
        assert "Returned for rework" in row.inner_text()
        row.locator("[data-testid=open-assignment]").click()
        Workspace(mine).wait_ready()
        assert mine.inner_text("[data-testid=assignment-status]") == "Returned for rework"
        assert mine.locator("[data-testid=open-submit]").is_enabled()
    finally:
        ctx.close()
    assert ok(annotator_api.get(f"/api/qa/assignments/{assignment}"))["status"] == "rework"

    # The lead reads the figures: one rework of one submission, one loose-geometry error.
    lead = browser.new_context(viewport={"width": 1400, "height": 950}, base_url=server.url)
    try:
        fp = lead.new_page()
        sign_in(fp, server, "team_lead")
        fp.goto(f"/#/projects/{qa.id}/figures")
        fp.wait_for_selector("[data-testid=fig-rework]")
        assert "100.0 %" in fp.inner_text("[data-testid=fig-rework]")
        assert "1 of 1" in fp.inner_text("[data-testid=fig-rework]")
        assert fp.inner_text("[data-testid=fig-errors]").split("\n")[1] == "1"
        [error_row] = fp.locator("[data-testid=error-count]").all()
        assert "Loose geometry" in error_row.inner_text() and "person" in error_row.inner_text()
        shot(fp, "qa-figures")
    finally:
        lead.close()
    figures = ok(admin_api.get(f"/api/projects/{qa.id}/qa/figures"))
    assert figures["rework_rate"] == {"value": 1.0, "count": 1, "n": 1}


def test_escalation_answered_with_a_new_sop_version(
    browser: Any,
    page: Any,
    server: Server,
    qa: QaProject,
    admin_api: httpx.Client,
    annotator_api: httpx.Client,
) -> None:
    a = ok(annotator_api.post(f"/api/projects/{qa.id}/qa/claim", json={}))["assignment"]
    sign_in(page, server)
    page.goto(f"/#/projects/{qa.id}/queue/{a['id']}")
    ws = Workspace(page)
    ws.wait_ready()
    ws.cls("object")
    ws.tool("box")
    ws.drag((300, 60), (420, 150))
    drawn = ws.items()[0]["id"]
    page.click("[data-testid=open-flag]")
    page.locator("[data-testid=flag-dialog]").wait_for()
    page.fill("[data-testid=flag-question]", "Is a reflection in a window an object?")
    page.select_option("[data-testid=flag-class]", "object")
    assert page.is_checked("[data-testid=flag-attach]")  # the selected box and its region
    shot(page, "qa-flag")
    page.click("[data-testid=flag-send]")
    page.wait_for_selector("[data-testid=my-escalation]")

    [esc] = ok(admin_api.get(f"/api/projects/{qa.id}/qa/escalations"))
    assert esc["question"] == "Is a reflection in a window an object?"
    assert esc["label"] == "object" and esc["assignment_id"] == a["id"]
    assert esc["annotation_id"] == drawn and esc["sop_version"] == 1
    assert esc["region"] == pytest.approx({"x": 300, "y": 60, "w": 120, "h": 90}, abs=0.5)
    assert esc["answer"] is None

    lead = browser.new_context(viewport={"width": 1400, "height": 950}, base_url=server.url)
    try:
        lp = lead.new_page()
        sign_in(lp, server, "team_lead")
        lp.goto(f"/#/projects/{qa.id}/escalations")
        card = lp.locator(f"[data-testid=escalation][data-escalation='{esc['id']}']")
        card.wait_for()
        lp.fill("[data-testid=answer-text]", "No: reflections are never labelled.")
        lp.check("[data-testid=answer-publish]")
        lp.click("[data-testid=sop-add-check]")
        lp.locator("[data-testid=sop-check-item]").last.fill("No reflections are labelled")
        shot(lp, "qa-escalation-answer")
        lp.click("[data-testid=answer-send]")
        lp.wait_for_selector("[data-testid=no-open-escalations]")
    finally:
        lead.close()

    [esc] = ok(admin_api.get(f"/api/projects/{qa.id}/qa/escalations"))
    assert esc["answer"] == "No: reflections are never labelled."
    assert esc["published_sop_version"] == 2
    sop = ok(admin_api.get(f"/api/projects/{qa.id}/qa/sop"))
    assert sop["version"] == 2 and sop["escalation_id"] == esc["id"]
    assert [c["text"] for c in sop["checklist"]] == [
        *(c["text"] for c in CHECKLIST),
        "No reflections are labelled",
    ]
    assert "reflections are never labelled" in sop["guidelines"]

    # The annotator sees the answer on the task, and v2's checklist gates the submission.
    page.reload()
    ws.wait_ready()
    assert "reflections are never labelled" in page.inner_text("[data-testid=my-escalation]")
    page.click("[data-testid=open-submit]")
    assert page.locator("[data-testid=submit-dialog] input[type=checkbox]").count() == 3


def test_gold_task_looks_like_any_other_in_the_queue(
    page: Any, server: Server, admin_api: httpx.Client, annotator_api: httpx.Client
) -> None:
    qa = make_project(admin_api, tasks=2, policy={"gold_rate": 1.0})
    gold = ok(
        admin_api.post(f"/api/projects/{qa.id}/qa/batches", json={"name": "g", "kind": "gold"})
    )
    [row] = ok(
        admin_api.post(f"/api/qa/batches/{gold['id']}/tasks", json={"asset_ids": [qa.asset_id]})
    )
    box = {"id": "g1", "type": "box", "label": "person", "geometry": BOX, "attributes": {}}
    ok(admin_api.put(f"/api/qa/tasks/{row['task_id']}/answer", json={"annotations": [box]}))
    claimed = []
    for _ in range(2):  # gold first (rate 1.0), then production
        a = ok(annotator_api.post(f"/api/projects/{qa.id}/qa/claim", json={}))["assignment"]
        claimed.append(a)
        submit(annotator_api, a)
    assert {a["task_id"] for a in claimed} == {row["task_id"], qa.task_ids[0]}
    assert sorted(claimed[0]) == sorted(claimed[1])  # the same fields

    sign_in(page, server)
    page.goto(f"/#/projects/{qa.id}/queue")
    page.wait_for_selector("[data-testid=assignment-row] >> nth=1")
    rows = page.locator("[data-testid=assignment-row]").all()
    shapes = [
        r.evaluate(
            "el => [el.className, [...el.attributes].map(a => a.name).sort(),"
            " el.querySelectorAll('*').length, el.innerText.replace(/[0-9]+/g, '#')]"
        )
        for r in rows
    ]
    assert shapes[0] == shapes[1]


def test_review_fix_sends_the_edited_list(
    page: Any, server: Server, qa: QaProject, admin_api: httpx.Client, annotator_api: httpx.Client
) -> None:
    assignment = submitted_by_api(annotator_api, qa)
    sign_in(page, server, "reviewer")
    page.goto(f"/#/projects/{qa.id}/reviews/{assignment}")
    ws = Workspace(page)
    ws.wait_ready()
    fix = page.locator("[data-testid=verdict-fix]")
    assert fix.is_disabled()  # nothing edited yet
    ws.cls("object")
    ws.tool("box")
    ws.drag((300, 60), (420, 150))  # the object the annotator missed
    assert fix.is_enabled() and page.locator("[data-testid=verdict-accept]").is_disabled()
    page.click("[data-testid=add-error]")
    page.select_option("[data-testid=error-type]", "missed_object")
    fix.click()
    page.wait_for_url(f"**/#/projects/{qa.id}/reviews")

    h = history(admin_api, assignment)
    [rev] = events(h, "reviewed")
    assert rev["verdict"] == "fix" and h["stage"] == "accepted"
    [err] = rev["errors"]
    assert err["type"] == "missed_object" and err["label"] == "object"
    assert err["annotation_id"] is None  # the reviewer's own box is tied by class and region
    result = ok(admin_api.get(f"/api/qa/tasks/{qa.task_ids[0]}/result"))
    labels = sorted(a["label"] for a in result["annotations"])
    assert labels == ["object", "person"]
