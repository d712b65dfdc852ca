"""Dependencies: the runtime, one database transaction per request, and the current actor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from labelproof.api import security
from labelproof.errors import NotAuthenticated
from labelproof.services import accounts
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.security import sessions
from labelproof.services.security.events import SecurityAction

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


def _from_cookie(request: Request) -> bool:
    return not request.headers.get("authorization", "").lower().startswith("bearer ")


def current_actor(request: Request, rid: RequestId) -> Actor:
    """Who is calling, resolved in its own short read (no connection held afterwards).

    A session past its idle timeout is ended (an audit event) and refused; a used session
    has ``last_used_at`` written at most once a minute. A request authenticated by the
    session cookie with an unsafe method must carry the session's CSRF token
    (``api/security.py``); a refusal is an audit event.
    """
    secret = credential_from(request)
    if not secret:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    runtime = get_runtime(request)
    with runtime.read() as db:
        found = accounts.resolve_credential(db, runtime.settings, secret, request_id=rid)
    if found.idle_expired:
        with runtime.write() as db:
            sessions.end_idle_session(db, found.credential_id, request_id=rid)
        minutes = runtime.settings.session_idle_minutes
        raise NotAuthenticated(f"session ended after {minutes} minutes without use; sign in")
    actor = found.actor
    if _from_cookie(request):
        try:
            security.check_csrf(request, secret)
        except security.CsrfRefused as exc:
            with runtime.write() as db:
                record(
                    db,
                    AuditRecord(
                        SecurityAction.CSRF_REFUSED,
                        "user",
                        str(actor.user_id),
                        actor.user_id,
                        rid,
                        details={
                            "method": request.method,
                            "path": request.url.path,
                            "reason": exc.message,
                        },
                    ),
                )
            raise
    if found.touch_due:
        with runtime.write() as db:
            sessions.touch(db, found.credential_id)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
