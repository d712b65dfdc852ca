"""Organisations and their users."""

from __future__ import annotations

from fastapi import APIRouter

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.models import OrgIn, OrgOut, UserIn, UserOut
from labelproof.api.routers.auth import user_out
from labelproof.services import accounts

router = APIRouter(prefix="/api", tags=["organizations"])


@router.post("/orgs", status_code=201)
def create_org(body: OrgIn, uow: UnitOfWorkDep, actor: CurrentActor) -> OrgOut:
    """Create an organisation (superusers only)."""
    org = uow(lambda db: accounts.create_organization(db, actor, name=body.name, slug=body.slug))
    return OrgOut.model_validate(org)


@router.post("/users", status_code=201)
def create_user(body: UserIn, uow: UnitOfWorkDep, actor: CurrentActor) -> UserOut:
    """Create a user in your organisation (organisation admins only)."""
    user = uow(
        lambda db: accounts.create_user(
            db,
            actor,
            org_id=body.org_id or actor.org_id,
            email=body.email,
            display_name=body.display_name,
            password=body.password,
            is_org_admin=body.is_org_admin,
        )
    )
    return user_out(user)


@router.get("/users")
def list_users(db: SessionDep, actor: CurrentActor) -> list[UserOut]:
    """Users of your organisation (organisation admins only)."""
    return [user_out(u) for u in accounts.list_users(db, actor)]


@router.post("/users/{user_id}/unlock")
def unlock_user(user_id: int, uow: UnitOfWorkDep, actor: CurrentActor) -> UserOut:
    """Unlock an account locked by failed sign-ins (organisation admins only)."""
    return user_out(uow(lambda db: accounts.unlock_user(db, actor, user_id=user_id)))
