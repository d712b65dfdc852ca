"""Dependencies: the runtime, one database transaction per request, and the current actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from labelproof.errors import NotAuthenticated
from labelproof.services import accounts
from labelproof.services.context import Actor, Runtime

SESSION_COOKIE = "labelproof_session"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


def get_db(request: Request) -> Iterator[Session]:
    """A transaction that commits when the endpoint returns, before the response is sent."""
    session = get_runtime(request).sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
RequestId = Annotated[str, Depends(request_id)]


def credential_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_actor(request: Request, db: SessionDep, rid: RequestId) -> Actor:
    secret = credential_from(request)
    if not secret:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    return accounts.resolve_secret(db, secret, request_id=rid)


CurrentActor = Annotated[Actor, Depends(current_actor)]
