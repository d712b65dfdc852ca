"""Who is acting, and the infrastructure a service may touch."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from labelproof.config import Settings
from labelproof.store.blobs import LocalBlobStore

if TYPE_CHECKING:
    from labelproof.services.custody.keys import Custody


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Actor:
    """An authenticated person (or the system) on whose behalf a service runs."""

    user_id: int
    org_id: int
    email: str
    is_org_admin: bool = False
    is_superuser: bool = False
    request_id: str = field(default_factory=new_request_id)


@dataclass(frozen=True)
class Runtime:
    """One installation's settings, database and blob store, shared by API and CLI."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: LocalBlobStore
    writer_lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    @property
    def custody(self) -> Custody:
        """Keys and audit-chain settings (installed on ``sessions`` by ``open_runtime``)."""
        from labelproof.errors import ConfigurationError
        from labelproof.services.custody.chain import CUSTODY

        custody: Custody | None = self.sessions.kw.get("info", {}).get(CUSTODY)
        if custody is None:
            raise ConfigurationError("this runtime was not opened with open_runtime()")
        return custody

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One writing unit of work, committed before this returns.

        On SQLite, writers of this process queue on a lock (woken in turn, without the
        busy-timeout's sleeps) and the whole unit runs in the caller's thread, so no thread
        ever holds the database's write lock while waiting for something else.
        """
        from labelproof.store.db import transaction

        guard = self.writer_lock if self.settings.is_sqlite else nullcontext()
        with guard, transaction(self.sessions) as db:
            yield db

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (SQLite: a deferred transaction beside the writer)."""
        from labelproof.store.db import read_only_engine

        session = self.sessions(bind=read_only_engine(self.engine))
        try:
            yield session
        finally:
            session.close()  # ends the read transaction; loaded objects stay readable


def open_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    from labelproof.services.custody import chain, fields
    from labelproof.services.custody.keys import open_custody
    from labelproof.store import migrate as migrations
    from labelproof.store.db import make_engine, make_sessionmaker

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    if migrate:
        migrations.upgrade(engine, key_dir=settings.key_dir)
    custody = open_custody(
        settings.key_dir, engine, checkpoint_every=settings.audit_checkpoint_every
    )
    sessions = make_sessionmaker(engine)
    chain.install(sessions, custody)
    fields.install(sessions)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        blobs=LocalBlobStore(settings.blob_dir),
    )
