"""The permission matrix (role x action), in one place, and the check every service calls.

Project-scoped access: a user acts in a project through their membership role; an
organisation admin acts as ``admin`` in every project of their organisation. Someone with no
role in a project gets ``NotFound``, not ``PermissionDenied``, so ids of other projects do
not leak. A role that lacks an action gets ``PermissionDenied``, and so does a member who
lacks the clearance the project's data classification needs (``services/custody/
clearance.py`` holds that rule). Every ``PermissionDenied`` is an audit event
(``access.denied``), kept even though the refused transaction rolls back.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import NotFound, PermissionDenied
from labelproof.services.context import Actor
from labelproof.store.models import Membership, Project


class Role(StrEnum):
    ADMIN = "admin"
    PROGRAM_MANAGER = "program_manager"
    TEAM_LEAD = "team_lead"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"
    AUDITOR = "auditor"


class Action(StrEnum):
    PROJECT_READ = "project.read"
    MEMBER_READ = "member.read"
    MEMBER_MANAGE = "member.manage"
    SCHEMA_READ = "schema.read"
    SCHEMA_WRITE = "schema.write"
    ASSET_READ = "asset.read"
    ASSET_UPLOAD = "asset.upload"
    TASK_READ = "task.read"
    TASK_CREATE = "task.create"
    ANNOTATION_READ = "annotation.read"
    ANNOTATION_WRITE = "annotation.write"
    AUDIT_READ = "audit.read"
    DATASET_IMPORT = "dataset.import"
    DATASET_EXPORT = "dataset.export"
    # QA workflow (docs/qa-workflow.md)
    QA_READ = "qa.read"
    POLICY_WRITE = "qa.policy.write"
    SOP_WRITE = "qa.sop.write"
    BATCH_MANAGE = "qa.batch.manage"
    GOLD_MANAGE = "qa.gold.manage"
    QUEUE_WORK = "qa.queue.work"
    REVIEW = "qa.review"
    AUDIT_SAMPLE = "qa.audit"
    QUALIFY = "qa.qualify"
    ESCALATE = "qa.escalate"
    ESCALATION_ANSWER = "qa.escalation.answer"
    # Custody: destroying a project needs this action from two different people.
    PROJECT_DESTROY = "project.destroy"
    # Privacy: the project's de-identification policy at ingest (services/deid.py).
    DEID_POLICY_WRITE = "project.deid_policy.write"
    # Retention: close (scheduling destruction) and reopen (services/custody/retention.py).
    PROJECT_CLOSE = "project.close"


_READ = {
    Action.PROJECT_READ,
    Action.MEMBER_READ,
    Action.SCHEMA_READ,
    Action.ASSET_READ,
    Action.TASK_READ,
    Action.ANNOTATION_READ,
}

#: What each project role may do. Auditors read everything, labels included, and write
#: nothing; program managers set projects up but do not label. In the QA workflow,
#: annotators work the queue and escalate; reviewers peer-review; team leads audit,
#: adjudicate, answer escalations and keep the SOP, gold answers and batches; program
#: managers set the policy and decide qualification. Annotators never read QA figures.
MATRIX: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.PROGRAM_MANAGER: frozenset(
        _READ
        | {
            Action.MEMBER_MANAGE,
            Action.SCHEMA_WRITE,
            Action.ASSET_UPLOAD,
            Action.TASK_CREATE,
            Action.AUDIT_READ,
            Action.DATASET_IMPORT,
            Action.DATASET_EXPORT,
            Action.QA_READ,
            Action.POLICY_WRITE,
            Action.SOP_WRITE,
            Action.BATCH_MANAGE,
            Action.GOLD_MANAGE,
            Action.QUALIFY,
            Action.DEID_POLICY_WRITE,
            Action.PROJECT_CLOSE,
        }
    ),
    Role.TEAM_LEAD: frozenset(
        _READ
        | {
            Action.SCHEMA_WRITE,
            Action.TASK_CREATE,
            Action.ANNOTATION_WRITE,
            Action.DATASET_EXPORT,
            Action.QA_READ,
            Action.SOP_WRITE,
            Action.BATCH_MANAGE,
            Action.GOLD_MANAGE,
            Action.REVIEW,
            Action.AUDIT_SAMPLE,
            Action.QUALIFY,
            Action.ESCALATE,
            Action.ESCALATION_ANSWER,
        }
    ),
    Role.REVIEWER: frozenset(_READ | {Action.ANNOTATION_WRITE, Action.REVIEW, Action.ESCALATE}),
    Role.ANNOTATOR: frozenset(
        _READ | {Action.ANNOTATION_WRITE, Action.QUEUE_WORK, Action.ESCALATE}
    ),
    Role.AUDITOR: frozenset(_READ | {Action.AUDIT_READ, Action.QA_READ}),
}


#: Refused while a project is closed (it waits for its scheduled destruction or a reopening):
#: whatever adds or changes its data. Reading, export, membership and the custody actions
#: (destroy, close/reopen) stay open.
FROZEN_WHEN_CLOSED = frozenset(
    {
        Action.SCHEMA_WRITE,
        Action.ASSET_UPLOAD,
        Action.TASK_CREATE,
        Action.ANNOTATION_WRITE,
        Action.DATASET_IMPORT,
        Action.POLICY_WRITE,
        Action.SOP_WRITE,
        Action.BATCH_MANAGE,
        Action.GOLD_MANAGE,
        Action.QUEUE_WORK,
        Action.REVIEW,
        Action.AUDIT_SAMPLE,
        Action.QUALIFY,
        Action.ESCALATE,
        Action.ESCALATION_ANSWER,
        Action.DEID_POLICY_WRITE,
    }
)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        from labelproof.errors import InvalidInput

        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {value!r}; known roles: {known}", field="role") from None


#: ``Session.info``: (root transaction, {(project id, user id): role}) read in that transaction.
_ROLES = "labelproof.roles"


def remember_role(db: Session, project_id: int, user_id: int, role: str | None) -> None:
    """Note a membership role just read in ``db``'s open transaction (e.g. joined into a
    query that loads the task), so ``role_in_project`` does not read it again there; the
    note is ignored in any later transaction."""
    tx = db.get_transaction()
    held: tuple[object, dict[tuple[int, int], str | None]] | None = db.info.get(_ROLES)
    if held is None or held[0] is not tx:
        held = db.info[_ROLES] = (tx, {})
    held[1][(project_id, user_id)] = role


def role_in_project(db: Session, actor: Actor, project: Project) -> Role | None:
    if actor.is_superuser or (actor.is_org_admin and project.org_id == actor.org_id):
        return Role.ADMIN
    if project.org_id != actor.org_id:
        return None
    held = db.info.get(_ROLES)
    key = (project.id, actor.user_id)
    if held is not None and held[0] is db.get_transaction() and key in held[1]:
        role = held[1][key]
    else:
        role = db.scalar(
            select(Membership.role).where(
                Membership.project_id == project.id, Membership.user_id == actor.user_id
            )
        )
    return Role(role) if role is not None else None


def authorize(db: Session, actor: Actor, project_id: int, action: Action) -> Project:
    """Return the project if ``actor`` may do ``action`` in it; raise otherwise."""
    project = db.get(Project, project_id)
    role = role_in_project(db, actor, project) if project is not None else None
    if project is None or role is None:
        raise NotFound(f"project {project_id} not found")
    if action not in MATRIX[role]:
        _refuse(db, actor, project, action, {"reason": "role", "role": role.value})
        raise PermissionDenied(
            f"role {role.value!r} may not {action.value} in project {project_id}"
        )
    if project.classification not in ("public", "internal"):
        from labelproof.services.custody.clearance import missing_clearance
        from labelproof.store.models import User

        user = db.get(User, actor.user_id)
        missing = missing_clearance(project.classification, user.clearance if user else None)
        if missing:
            _refuse(
                db,
                actor,
                project,
                action,
                {
                    "reason": "clearance",
                    "classification": project.classification,
                    "missing": missing,
                },
            )
            raise PermissionDenied(
                f"project {project_id} is classified {project.classification!r}; you lack "
                + ", ".join(missing),
                classification=project.classification,
                missing=missing,
            )
    if project.closed_at is not None and action in FROZEN_WHEN_CLOSED:
        from labelproof.errors import Conflict

        raise Conflict(
            f"project {project_id} is closed: {action.value} is refused until it is reopened",
            field="project",
        )
    return project


def _refuse(
    db: Session, actor: Actor, project: Project, action: Action, details: dict[str, object]
) -> None:
    from labelproof.services.audit import AuditAction, AuditRecord, record_refusal

    record_refusal(
        db,
        AuditRecord(
            AuditAction.ACCESS_DENIED,
            "project",
            str(project.id),
            actor.user_id,
            actor.request_id,
            project.id,
            {"action": action.value, **details},
        ),
    )


def require_org_admin(actor: Actor, org_id: int) -> None:
    if actor.is_superuser or (actor.is_org_admin and actor.org_id == org_id):
        return
    if actor.org_id != org_id:
        raise NotFound(f"organization {org_id} not found")
    raise PermissionDenied("only an organization admin may do this")
