"""Projects and their memberships."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput, NotFound
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import (
    Action,
    Role,
    authorize,
    parse_role,
    require_org_admin,
    role_in_project,
)
from labelproof.store.models import Membership, Project, User

VERTICALS = (
    "general",
    "medical",
    "automotive",
    "defense",
    "retail",
    "agriculture",
    "geospatial",
    "manufacturing",
)
CLASSIFICATIONS = ("public", "internal", "pii", "phi", "cui")


def create_project(
    db: Session,
    actor: Actor,
    *,
    name: str,
    description: str = "",
    vertical: str = "general",
    classification: str = "internal",
    deid_policy: dict[str, Any] | None = None,
) -> Project:
    """Create a project; ``deid_policy`` defaults by classification (services/deid.py)."""
    from labelproof.services.deid import default_policy, parse_policy

    require_org_admin(actor, actor.org_id)
    if not name.strip() or len(name) > 200:
        raise InvalidInput("project name must be 1-200 characters", field="name")
    if vertical not in VERTICALS:
        raise InvalidInput(
            f"vertical must be one of {list(VERTICALS)}, got {vertical!r}", field="vertical"
        )
    if classification not in CLASSIFICATIONS:
        raise InvalidInput(
            f"classification must be one of {list(CLASSIFICATIONS)}, got {classification!r}",
            field="classification",
        )
    policy = (
        default_policy(classification)
        if deid_policy is None
        else parse_policy(deid_policy, classification=classification)
    )
    project = Project(
        org_id=actor.org_id,
        name=name.strip(),
        description=description,
        vertical=vertical,
        classification=classification,
        deid_policy=policy,
    )
    db.add(project)
    db.flush()
    db.add(Membership(project_id=project.id, user_id=actor.user_id, role=Role.ADMIN.value))
    record(
        db,
        AuditRecord(
            AuditAction.PROJECT_CREATED,
            "project",
            str(project.id),
            actor.user_id,
            actor.request_id,
            project.id,
            {"name": project.name, "deid_policy": policy},
        ),
    )
    return project


def list_projects(db: Session, actor: Actor) -> list[tuple[Project, Role]]:
    projects = db.scalars(
        select(Project).where(Project.org_id == actor.org_id).order_by(Project.id)
    )
    out = []
    for project in projects:
        role = role_in_project(db, actor, project)
        if role is not None:
            out.append((project, role))
    return out


def get_project(db: Session, actor: Actor, *, project_id: int) -> tuple[Project, Role]:
    project = authorize(db, actor, project_id, Action.PROJECT_READ)
    role = role_in_project(db, actor, project)
    assert role is not None
    return project, role


def set_member(
    db: Session, actor: Actor, *, project_id: int, user_id: int, role: str
) -> tuple[Membership, User]:
    project = authorize(db, actor, project_id, Action.MEMBER_MANAGE)
    parsed = parse_role(role)
    user = db.get(User, user_id)
    if user is None or user.org_id != project.org_id:
        raise NotFound(f"user {user_id} not found", field="user_id")
    member = db.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    if member is None:
        member = Membership(project_id=project_id, user_id=user_id, role=parsed.value)
        db.add(member)
    else:
        member.role = parsed.value
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.MEMBER_SET,
            "membership",
            str(member.id),
            actor.user_id,
            actor.request_id,
            project_id,
            {"user_id": user_id, "role": parsed.value},
        ),
    )
    return member, user


def remove_member(db: Session, actor: Actor, *, project_id: int, user_id: int) -> None:
    authorize(db, actor, project_id, Action.MEMBER_MANAGE)
    member = db.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    if member is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    db.delete(member)
    record(
        db,
        AuditRecord(
            AuditAction.MEMBER_REMOVED,
            "membership",
            str(member.id),
            actor.user_id,
            actor.request_id,
            project_id,
            {"user_id": user_id},
        ),
    )


def list_members(db: Session, actor: Actor, *, project_id: int) -> list[tuple[Membership, User]]:
    authorize(db, actor, project_id, Action.MEMBER_READ)
    rows = db.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.project_id == project_id)
        .order_by(Membership.id)
    )
    return [(m, u) for m, u in rows]


__all__ = [
    "CLASSIFICATIONS",
    "VERTICALS",
    "create_project",
    "get_project",
    "list_members",
    "list_projects",
    "remove_member",
    "require_org_admin",
    "set_member",
]
