"""Projects, memberships, label schema versions and the project audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.models import (
    AuditOut,
    DeidPolicyIn,
    DeidPolicyOut,
    MemberIn,
    MemberOut,
    Page,
    ProjectIn,
    ProjectOut,
    SchemaIn,
    SchemaOut,
)
from labelproof.services import audit_log, deid, projects, schemas
from labelproof.services.permissions import Role
from labelproof.store.models import Project

router = APIRouter(prefix="/api/projects", tags=["projects"])


def project_out(project: Project, role: Role) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        org_id=project.org_id,
        name=project.name,
        description=project.description,
        vertical=project.vertical,
        classification=project.classification,
        created_at=project.created_at,
        role=role.value,
        deid_policy=deid.policy_of(project),
    )


@router.post("", status_code=201)
def create_project(body: ProjectIn, uow: UnitOfWorkDep, actor: CurrentActor) -> ProjectOut:
    """Create a project; its creator becomes its admin."""
    project = uow(
        lambda db: projects.create_project(
            db,
            actor,
            name=body.name,
            description=body.description,
            vertical=body.vertical,
            classification=body.classification,
            deid_policy=body.deid_policy,
        )
    )
    return project_out(project, Role.ADMIN)


@router.put("/{project_id}/deid-policy")
def set_deid_policy(
    project_id: int, body: DeidPolicyIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> DeidPolicyOut:
    """Set the project's de-identification at ingest (program managers, admins); audited."""
    policy = uow(
        lambda db: deid.set_policy(db, actor, project_id=project_id, policy=body.model_dump())
    )
    return DeidPolicyOut(**policy)


@router.get("")
def list_projects(db: SessionDep, actor: CurrentActor) -> list[ProjectOut]:
    """Projects you can see, with your role in each."""
    return [project_out(p, r) for p, r in projects.list_projects(db, actor)]


@router.get("/{project_id}")
def get_project(project_id: int, db: SessionDep, actor: CurrentActor) -> ProjectOut:
    """One project."""
    return project_out(*projects.get_project(db, actor, project_id=project_id))


@router.get("/{project_id}/members")
def list_members(project_id: int, db: SessionDep, actor: CurrentActor) -> list[MemberOut]:
    """Members of a project and their roles."""
    return [
        MemberOut(user_id=u.id, email=u.email, display_name=u.display_name, role=m.role)
        for m, u in projects.list_members(db, actor, project_id=project_id)
    ]


@router.put("/{project_id}/members")
def set_member(
    project_id: int, body: MemberIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> MemberOut:
    """Add a user to a project or change their role."""
    member, user = uow(
        lambda db: projects.set_member(
            db, actor, project_id=project_id, user_id=body.user_id, role=body.role
        )
    )
    return MemberOut(
        user_id=user.id, email=user.email, display_name=user.display_name, role=member.role
    )


@router.delete("/{project_id}/members/{user_id}", status_code=204)
def remove_member(project_id: int, user_id: int, uow: UnitOfWorkDep, actor: CurrentActor) -> None:
    """Remove a user from a project."""
    uow(lambda db: projects.remove_member(db, actor, project_id=project_id, user_id=user_id))


@router.post("/{project_id}/schemas", status_code=201)
def create_schema_version(
    project_id: int, body: SchemaIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> SchemaOut:
    """Publish a new label schema version (classes, types, attributes, skeletons)."""
    version = uow(
        lambda db: schemas.create_version(
            db, actor, project_id=project_id, definition=body.definition, note=body.note
        )
    )
    return SchemaOut.model_validate(version)


@router.get("/{project_id}/schemas")
def list_schema_versions(project_id: int, db: SessionDep, actor: CurrentActor) -> list[SchemaOut]:
    """All schema versions of a project, oldest first."""
    return [
        SchemaOut.model_validate(v) for v in schemas.list_versions(db, actor, project_id=project_id)
    ]


@router.get("/{project_id}/schemas/{version}")
def get_schema_version(
    project_id: int, version: int, db: SessionDep, actor: CurrentActor
) -> SchemaOut:
    """One schema version."""
    return SchemaOut.model_validate(
        schemas.get_version(db, actor, project_id=project_id, version=version)
    )


@router.get("/{project_id}/audit")
def list_audit_events(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> Page[AuditOut]:
    """The project's audit events, oldest first."""
    rows, total = audit_log.list_events(
        db, actor, project_id=project_id, offset=offset, limit=limit
    )
    return Page[AuditOut](
        items=[AuditOut.model_validate(r) for r in rows], total=total, offset=offset, limit=limit
    )
