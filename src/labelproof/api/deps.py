"""Dependencies: the runtime, one database transaction per request, and the current actor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from labelproof.errors import NotAuthenticated
from labelproof.services import accounts
from labelproof.services.context import Actor, Runtime

SESSION_COOKIE = "labelproof_session"
T = TypeVar("T")


async def get_runtime_dep(request: Request) -> Runtime:
    return get_runtime(request)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


def get_db(request: Request) -> Iterator[Session]:
    """A read-only session for the request (authentication and reads).

    Writes never go through it: a route that changes anything runs its service in
    ``UnitOfWorkDep``, so the write transaction begins, commits and ends in one thread
    before the response is sent.
    """
    with get_runtime(request).read() as session:
        yield session


class UnitOfWork:
    """Run one service call in a write transaction: ``uow(lambda db: service(db, ...))``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, fn: Callable[[Session], T]) -> T:
        with self.runtime.write() as db:
            return fn(db)


async def get_uow(request: Request) -> UnitOfWork:
    return UnitOfWork(get_runtime(request))


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_uow)]
RequestId = Annotated[str, Depends(request_id)]


def credential_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_actor(request: Request, rid: RequestId) -> Actor:
    """Who is calling, resolved in its own short read (no connection held afterwards)."""
    secret = credential_from(request)
    if not secret:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    with get_runtime(request).read() as db:
        return accounts.resolve_secret(db, secret, request_id=rid)


CurrentActor = Annotated[Actor, Depends(current_actor)]
