"""The store on both databases: migrations match the models; blobs are atomic."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from labelproof.errors import FileTooLarge, NotFound
from labelproof.services.context import Runtime
from labelproof.store.blobs import LocalBlobStore
from labelproof.store.models import Base


def test_migrations_produce_exactly_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    tables = set(inspect(runtime.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    from labelproof.config import load_settings
    from labelproof.services.context import open_runtime

    runtime = open_runtime(load_settings(tmp_path))
    with runtime.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_blob_put_is_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    digest, size = store.put_bytes(b"hello world")
    assert digest == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert size == 11
    assert store.path_of(digest) == tmp_path / "blobs" / "b9" / "4d" / digest
    assert store.put_bytes(b"hello world") == (digest, 11)
    assert store.all_digests() == [digest]
    assert store.read(digest) == b"hello world"
    store.delete(digest)
    assert not store.exists(digest)
    with pytest.raises(NotFound):
        store.read(digest)


def test_blob_over_limit_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(FileTooLarge, match="limit of 10 bytes"):
        store.put_stream(io.BytesIO(b"x" * 11), max_bytes=10)
    assert store.all_digests() == []
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_blob_digest_must_be_hex(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(NotFound):
        store.read("../../etc/passwd")


def test_every_migration_upgrades_a_populated_sqlite_database(tmp_path: Path) -> None:
    """Each migration runs on a database that already holds rows (SQLite refuses table
    rebuilds of referenced tables with foreign keys on, which a fresh database hides)."""
    from sqlalchemy import text

    from labelproof.config import load_settings
    from labelproof.store import migrate
    from labelproof.store.db import make_engine

    settings = load_settings(tmp_path)
    engine = make_engine(settings)
    migrate.upgrade(engine, "0001", key_dir=tmp_path / "keys")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (name, slug, created_at) "
                "VALUES ('o', 'o', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (org_id, email, display_name, password_hash, is_org_admin, "
                "is_superuser, failed_logins, created_at) "
                "VALUES (1, 'a@b.test', 'a', 'x', 1, 1, 0, '2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(engine, "head", key_dir=tmp_path / "keys")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["a@b.test"]
        assert conn.execute(text("SELECT slug FROM organizations")).scalars().all() == ["o"]
    engine.dispose()
