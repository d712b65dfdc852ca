"""Fixtures shared by the whole suite: a fresh installation on SQLite or PostgreSQL.

Store and API tests take the ``backend`` parameter and run once per database. PostgreSQL
is the server at ``LABELPROOF_TEST_PG`` (default 127.0.0.1:5432, trust auth); each test gets
its own database cloned from a migrated template. When ``CI=true`` an unreachable server
fails the run; elsewhere those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from labelproof.config import Settings, load_settings
from labelproof.services.context import Runtime, open_runtime
from labelproof.store import migrate
from labelproof.store.db import make_engine

PG_BASE = os.environ.get("LABELPROOF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL template database, or None when the server is unreachable."""
    name = f"lp_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_BASE} is required in CI and unreachable: {exc}")
        yield None
        return
    engine = create_engine(f"{PG_BASE}/{name}")
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    settings = load_settings(folder)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    return folder / "labelproof.sqlite3"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, sqlite_template: Path, pg_template: str | None
) -> Iterator[Settings]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if backend == "sqlite":
        shutil.copyfile(sqlite_template, data_dir / "labelproof.sqlite3")
        yield load_settings(data_dir).with_changes(lockout_threshold=3)
        return
    if pg_template is None:
        pytest.skip(f"PostgreSQL at {PG_BASE} is unreachable (set CI=true to make this fail)")
    name = f"lp_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield load_settings(data_dir, f"{PG_BASE}/{name}").with_changes(lockout_threshold=3)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(settings, migrate=False)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def world(runtime: Runtime):  # type: ignore[no-untyped-def]
    from tests.world import build_world

    return build_world(runtime)
