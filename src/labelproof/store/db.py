"""Engine and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a commit that returned is on disk,
``foreign_keys=ON`` and a busy timeout so that concurrent writers queue instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Integer, Table, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from labelproof.config import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens implicit transactions lazily; we issue BEGIN ourselves below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A transaction that may write begins IMMEDIATE: it takes the write lock at once, so
    # two writers never fail upgrading a read snapshot; busy_timeout makes the second wait.
    # Read-only work (``read_only_engine``) begins DEFERRED and runs beside writers (WAL).
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # More connections than the server's worker threads (40), so a request never
            # waits for a connection; SQLite connections are cheap.
            pool_size=48,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=20, max_overflow=30, pool_pre_ping=True)


_READ_ONLY = "_labelproof_read_only"


def read_only_engine(engine: Engine) -> Engine:
    """The same pool, for transactions that only read (SQLite: BEGIN DEFERRED); made once
    per engine and kept on it (every request reads through it)."""
    ro: Engine | None = engine.__dict__.get(_READ_ONLY)
    if ro is None:
        ro = engine.execution_options(sqlite_begin="DEFERRED")
        engine.__dict__[_READ_ONLY] = ro
    return ro


def next_id(dialect: str, table: Table) -> ColumnElement[int]:
    """The id the next row of ``table`` gets, as a column of a query, so a row's id is known
    before its INSERT (a sealed field binds its ciphertext to the row id) at no extra
    statement. Call it only in a writing transaction:

    - SQLite: ``max(id) + 1``, the id SQLite itself would give (an ``INTEGER PRIMARY KEY``
      without AUTOINCREMENT takes ``max(rowid) + 1``). Exact, because a writing transaction
      holds the database's write lock from ``BEGIN IMMEDIATE`` to its commit: no connection,
      of this process or another, inserts in between.
    - PostgreSQL: ``nextval`` of the column's sequence (the id is the transaction's own even
      when others insert meanwhile; a refused save leaves a gap, as a rollback does).
    """
    if dialect == "postgresql":
        seq = func.pg_get_serial_sequence(table.name, "id")
        return func.nextval(seq, type_=Integer)
    return select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
