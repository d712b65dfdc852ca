"""Route-matrix entries of the QA routes (used by tests/api/test_route_matrix.py).

Each entry is (access, call); a call prepares what it needs through the services as the
organisation admin, then calls the route as the client's user, so allowed roles succeed,
other roles get 403 and a user of another project gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session

from labelproof.services import accounts, projects
from labelproof.services.context import Actor, new_request_id
from labelproof.services.permissions import Action
from labelproof.services.qa import batches, escalations, policy, qualify, queue, work
from labelproof.store.db import transaction
from labelproof.store.models import User, utcnow
from tests.world import PASSWORD, World

Call = Callable[[World, Any], httpx.Response]
BOX = {"type": "box", "label": "car", "geometry": {"x": 10, "y": 10, "w": 50, "h": 40}}
P = "/api/projects/{p}/qa"


def _root(db: Session, w: World) -> Actor:
    root = db.get(User, w.users["orgadmin"])
    assert root is not None
    return accounts.actor_for(root, new_request_id())


def _actor(db: Session, user_id: int) -> Actor:
    user = db.get(User, user_id)
    assert user is not None
    return accounts.actor_for(user, new_request_id())


def _caller(w: World, c: Any) -> int:
    """The user id behind the client (the world's annotator for an anonymous client)."""
    header = c.headers.get("Authorization", "")
    for name, token in w.tokens.items():
        if header == f"Bearer {token}":
            return w.users[name]
    return w.users["annotator"]


def _task(db: Session, w: World, kind: str, mode: str = "single") -> int:
    root = _root(db, w)
    batch = batches.create_batch(db, root, project_id=w.project_id, name=kind, kind=kind)
    return batches.add_tasks(db, root, batch_id=batch.id, asset_ids=[w.asset_id], mode=mode)[
        0
    ].task_id


def _assignment(db: Session, w: World, user_id: int, *, kind: str = "production") -> int:
    task_id = _task(db, w, kind)
    p = policy.current_policy(db, w.project_id)
    made = queue._try_claim(db, _actor(db, user_id), w.project_id, (task_id, "single"), p, utcnow())
    assert made is not None
    return made.id


def _saved(db: Session, w: World, user_id: int, items: list[Any] | None = None) -> int:
    a_id = _assignment(db, w, user_id)
    a = queue.load_assignment(db, a_id)
    work.append_revision(
        db,
        _actor(db, user_id),
        a,
        base_revision=0,
        annotations=items or [BOX],
        idempotency_key="k1",
    )
    return a_id


def _checklist(db: Session, w: World) -> list[str]:
    sop = policy.current_sop(db, w.project_id)
    return [i["id"] for i in sop.checklist] if sop else []


def _submitted(db: Session, w: World, user_id: int) -> int:
    a_id = _saved(db, w, user_id)
    work.submit(
        db, _actor(db, user_id), assignment_id=a_id, revision=1, checklist=_checklist(db, w)
    )
    return a_id


def _policy(db: Session, w: World, **settings: Any) -> None:
    policy.set_policy(db, _root(db, w), project_id=w.project_id, settings=settings)


def _spare_annotator(db: Session, w: World) -> int:
    root = _root(db, w)
    user = accounts.create_user(
        db,
        root,
        org_id=w.org_id,
        email=f"{uuid.uuid4().hex[:8]}@org.test",
        display_name="s",
        password=PASSWORD,
    )
    projects.set_member(db, root, project_id=w.project_id, user_id=user.id, role="annotator")
    return user.id


def _prepare(w: World, fn: Callable[[Session], Any]) -> Any:
    with transaction(w.rt.sessions) as db:
        return fn(db)


def _for_caller(fn: Callable[[Session, World, int], Any]) -> Callable[[World, Any], Any]:
    return lambda w, c: _prepare(w, lambda db: fn(db, w, _caller(w, c)))


def _at_peer_review(w: World) -> int:
    def run(db: Session) -> int:
        _policy(db, w, peer_review=True, lead_audit=True, audit_rate=1.0)
        return _submitted(db, w, w.users["annotator"])

    return int(_prepare(w, run))


def _at_lead_audit(w: World) -> int:
    from labelproof.services.qa.events import Stage
    from labelproof.services.qa.review import decide

    def run(db: Session) -> int:
        _policy(db, w, peer_review=True, lead_audit=True, audit_rate=1.0)
        a_id = _submitted(db, w, w.users["annotator"])
        decide(db, _root(db, w), assignment_id=a_id, stage=Stage.PEER_REVIEW, verdict="accept")
        return a_id

    return int(_prepare(w, run))


def _below_bar_consensus(w: World) -> int:
    def run(db: Session) -> int:
        _policy(db, w, consensus_k=2, agreement_bar=0.8)
        task_id = _task(db, w, "production", mode="consensus")
        p = policy.current_policy(db, w.project_id)
        for user_id, label in ((w.users["annotator"], "car"), (_spare_annotator(db, w), "person")):
            actor = _actor(db, user_id)
            a = queue._try_claim(db, actor, w.project_id, (task_id, "consensus"), p, utcnow())
            assert a is not None
            work.append_revision(
                db,
                actor,
                a,
                base_revision=0,
                annotations=[dict(BOX, label=label)],
                idempotency_key="k",
            )
            work.submit(db, actor, assignment_id=a.id, revision=1, checklist=_checklist(db, w))
        return task_id

    return int(_prepare(w, run))


def _gold_task(w: World, with_answer: bool) -> int:
    def run(db: Session) -> int:
        task_id = _task(db, w, "gold")
        if with_answer:
            batches.set_answer(db, _root(db, w), task_id=task_id, annotations=[BOX])
        return task_id

    return int(_prepare(w, run))


def _claimable(db: Session, w: World, user_id: int) -> None:
    qualify.decide(
        db,
        None,
        project_id=w.project_id,
        user_id=user_id,
        status="qualified",
        reason="t",
        evidence={},
    )
    _task(db, w, "production")


def _with_sop(w: World) -> None:
    def run(db: Session) -> None:
        if policy.current_sop(db, w.project_id) is None:
            policy.publish_sop(db, _root(db, w), project_id=w.project_id, guidelines="g")

    _prepare(w, run)


def _escalation(w: World) -> int:
    def run(db: Session) -> int:
        e = escalations.raise_escalation(
            db, _root(db, w), project_id=w.project_id, question="?", task_id=w.task_id
        )
        return e.id

    return int(_prepare(w, run))


def _calibration_batch(w: World) -> int:
    def run(db: Session) -> int:
        root = _root(db, w)
        b = batches.create_batch(db, root, project_id=w.project_id, name="c", kind="calibration")
        t = batches.add_tasks(db, root, batch_id=b.id, asset_ids=[w.asset_id])[0]
        batches.set_answer(db, root, task_id=t.task_id, annotations=[BOX])
        return b.id

    return int(_prepare(w, run))


def _batch(w: World) -> int:
    def run(db: Session) -> int:
        return batches.create_batch(
            db, _root(db, w), project_id=w.project_id, name="b", kind="production"
        ).id

    return int(_prepare(w, run))


def _verdict(path: str) -> Call:
    def call(w: World, c: Any) -> httpx.Response:
        a_id = _at_peer_review(w) if path == "reviews" else _at_lead_audit(w)
        return c.post(f"/api/qa/assignments/{a_id}/{path}", json={"verdict": "accept"})

    return call


def _own(w: World, c: Any, fn: Callable[[Session, World, int], int]) -> int:
    return int(_for_caller(fn)(w, c))


QA_ROUTES: dict[str, tuple[Action, Call]] = {
    "qa_set_policy": (
        Action.POLICY_WRITE,
        lambda w, c: c.post(P.format(p=w.project_id) + "/policies", json={"settings": {}}),
    ),
    "qa_get_policy": (Action.QA_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/policy")),
    "qa_publish_sop": (
        Action.SOP_WRITE,
        lambda w, c: c.post(P.format(p=w.project_id) + "/sops", json={"guidelines": "g"}),
    ),
    "qa_list_sops": (Action.PROJECT_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/sops")),
    "qa_current_sop": (
        Action.PROJECT_READ,
        lambda w, c: (_with_sop(w), c.get(P.format(p=w.project_id) + "/sop"))[1],
    ),
    "qa_create_batch": (
        Action.BATCH_MANAGE,
        lambda w, c: c.post(
            P.format(p=w.project_id) + "/batches", json={"name": "b", "kind": "production"}
        ),
    ),
    "qa_list_batches": (
        Action.QA_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + "/batches"),
    ),
    "qa_add_batch_tasks": (
        Action.BATCH_MANAGE,
        lambda w, c: c.post(f"/api/qa/batches/{_batch(w)}/tasks", json={"asset_ids": [w.asset_id]}),
    ),
    "qa_set_answer": (
        Action.GOLD_MANAGE,
        lambda w, c: c.put(
            f"/api/qa/tasks/{_gold_task(w, False)}/answer", json={"annotations": [BOX]}
        ),
    ),
    "qa_get_answer": (
        Action.GOLD_MANAGE,
        lambda w, c: c.get(f"/api/qa/tasks/{_gold_task(w, True)}/answer"),
    ),
    "qa_claim": (
        Action.QUEUE_WORK,
        lambda w, c: (
            _for_caller(_claimable)(w, c),
            c.post(P.format(p=w.project_id) + "/claim", json={"queue": "production"}),
        )[1],
    ),
    "qa_my_assignments": (
        Action.QUEUE_WORK,
        lambda w, c: c.get(P.format(p=w.project_id) + "/assignments/mine"),
    ),
    "qa_get_assignment": (
        Action.QUEUE_WORK,
        lambda w, c: c.get(f"/api/qa/assignments/{_own(w, c, _assignment)}"),
    ),
    "qa_get_assignment_annotations": (
        Action.QUEUE_WORK,
        lambda w, c: c.get(f"/api/qa/assignments/{_own(w, c, _saved)}/annotations"),
    ),
    "qa_save_assignment_annotations": (
        Action.QUEUE_WORK,
        lambda w, c: c.put(
            f"/api/qa/assignments/{_own(w, c, _assignment)}/annotations",
            json={"base_revision": 0, "annotations": [BOX]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
    ),
    "qa_submit": (
        Action.QUEUE_WORK,
        lambda w, c: c.post(
            f"/api/qa/assignments/{_own(w, c, _saved)}/submit",
            json={
                "revision": 1,
                "checklist": _prepare(w, lambda db: _checklist(db, w)),
            },
        ),
    ),
    "qa_review_queue": (Action.REVIEW, lambda w, c: c.get(P.format(p=w.project_id) + "/reviews")),
    "qa_review_item": (
        Action.REVIEW,
        lambda w, c: c.get(f"/api/qa/reviews/{_at_peer_review(w)}"),
    ),
    "qa_peer_review": (Action.REVIEW, _verdict("reviews")),
    "qa_audit_queue": (
        Action.AUDIT_SAMPLE,
        lambda w, c: c.get(P.format(p=w.project_id) + "/audits"),
    ),
    "qa_lead_audit": (Action.AUDIT_SAMPLE, _verdict("audits")),
    "qa_reassign": (
        Action.AUDIT_SAMPLE,
        lambda w, c: c.post(
            f"/api/qa/assignments/"
            f"{_prepare(w, lambda db: _assignment(db, w, w.users['annotator']))}/reassign",
            json={"reason": "r"},
        ),
    ),
    "qa_assignment_history": (
        Action.QA_READ,
        lambda w, c: c.get(
            f"/api/qa/assignments/"
            f"{_prepare(w, lambda db: _assignment(db, w, w.users['annotator']))}/history"
        ),
    ),
    "qa_adjudication_queue": (
        Action.AUDIT_SAMPLE,
        lambda w, c: c.get(P.format(p=w.project_id) + "/adjudications"),
    ),
    "qa_adjudicate": (
        Action.AUDIT_SAMPLE,
        lambda w, c: c.post(
            f"/api/qa/tasks/{_below_bar_consensus(w)}/adjudicate", json={"annotations": [BOX]}
        ),
    ),
    "qa_task_result": (
        Action.QA_READ,
        lambda w, c: c.get(f"/api/qa/tasks/{_below_bar_consensus(w)}/result"),
    ),
    "qa_evaluate_calibration": (
        Action.QUALIFY,
        lambda w, c: c.post(f"/api/qa/batches/{_calibration_batch(w)}/evaluate"),
    ),
    "qa_list_qualifications": (
        Action.QA_READ,
        lambda w, c: c.get(P.format(p=w.project_id) + "/qualifications"),
    ),
    "qa_set_qualification": (
        Action.QUALIFY,
        lambda w, c: c.put(
            P.format(p=w.project_id) + f"/qualifications/{w.users['annotator']}",
            json={"status": "qualified", "reason": "r"},
        ),
    ),
    "qa_raise_escalation": (
        Action.ESCALATE,
        lambda w, c: c.post(
            P.format(p=w.project_id) + "/escalations",
            json={"question": "q", "task_id": w.task_id, "label": "car"},
        ),
    ),
    "qa_list_escalations": (
        Action.ESCALATE,
        lambda w, c: c.get(P.format(p=w.project_id) + "/escalations"),
    ),
    "qa_answer_escalation": (
        Action.ESCALATION_ANSWER,
        lambda w, c: c.post(f"/api/qa/escalations/{_escalation(w)}/answer", json={"answer": "a"}),
    ),
    "qa_figures": (Action.QA_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/figures")),
    "qa_events": (Action.QA_READ, lambda w, c: c.get(P.format(p=w.project_id) + "/events")),
}
