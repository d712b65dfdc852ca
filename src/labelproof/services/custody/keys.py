"""The keys of one installation: master key, per-project data keys, audit signing key.

- Master key: ``$LABELPROOF_MASTER_KEY`` (base64 of 32 bytes) or ``<data_dir>/keys/master.key``
  (mode 0600). The file is created on first start only while the database holds no wrapped
  key, so a wrong or missing key on an installation with data is a clear error at start,
  never a silent new key.
- Data keys: one AES-256 key per project, wrapped by the master key with the project id as
  associated data (``project_keys``), unwrapped on first use and kept in memory.
- Signing key: Ed25519, ``<data_dir>/keys/audit-signing-key.pem`` (0600), created on first use.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from labelproof.custody.crypto import DataKey, new_data_key
from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.custody.keyring import MASTER_KEY_ENV, LocalKeyProvider, write_master_key_file
from labelproof.custody.keys import load_or_create_signing_key, public_key_pem
from labelproof.errors import ConfigurationError, NotFound
from labelproof.store.custody_models import ProjectKey

MASTER_KEY_FILE = "master.key"
#: ``Session.info`` key: data keys made in the session's open transaction (project id ->
#: key), cached for everyone only once that transaction commits.
NEW_KEYS = "labelproof.new_data_keys"

__all__ = ["MASTER_KEY_FILE", "Custody", "open_custody"]


@dataclass
class Custody:
    """Keys and settings the services need for custody; one per runtime, thread-safe."""

    key_dir: Path
    provider: LocalKeyProvider
    checkpoint_every: int = 256
    _signing: Ed25519PrivateKey | None = field(default=None, repr=False)
    _data_keys: dict[int, DataKey] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def signing_key(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._signing is None:
                self._signing = load_or_create_signing_key(self.key_dir)
            return self._signing

    def public_key_pem(self) -> bytes:
        return public_key_pem(self.signing_key())

    def data_key(self, db: Session, project_id: int, *, create: bool = False) -> DataKey:
        """The project's data key; with ``create``, made (in ``db``'s transaction) if absent.

        A key made inside an open transaction is cached for other sessions only when that
        transaction commits, and forgotten on any rollback, savepoints included
        (``promote_new_keys``), so a rolled-back key never seals anything. Raises
        ``NotFound`` when the project has no key and ``create`` is false (a destroyed
        project, or one that never stored anything sealed).
        """
        with self._lock:
            cached = self._data_keys.get(project_id)
        if cached is not None:
            return cached
        fresh: dict[int, DataKey] = db.info.setdefault(NEW_KEYS, {})
        if project_id in fresh:
            return fresh[project_id]
        row = db.scalar(select(ProjectKey).where(ProjectKey.project_id == project_id))
        made = row is None
        if row is None:
            if not create:
                raise NotFound(f"project {project_id} has no data key (destroyed or empty)")
            row = self._insert_key(db, project_id)
        key = DataKey(bytes.fromhex(row.key_id), self.provider.unwrap(project_id, row.wrapped))
        if made:  # not committed yet: this session only, until it commits
            fresh[project_id] = key
        else:
            with self._lock:
                self._data_keys[project_id] = key
        return key

    def key_by_id(self, db: Session, key_id: bytes) -> tuple[int, DataKey]:
        """The project and data key a ciphertext names by its key id.

        Raises ``UnknownKey`` if no project holds it (a destroyed project's key).
        """
        with self._lock:
            for project_id, key in self._data_keys.items():
                if key.key_id == key_id:
                    return project_id, key
        for project_id, key in db.info.get(NEW_KEYS, {}).items():
            if key.key_id == key_id:
                return project_id, key
        # made by another process since start: a plain read that does not flush the session
        row = (
            db.connection()
            .execute(
                select(ProjectKey.project_id, ProjectKey.wrapped).where(
                    ProjectKey.key_id == key_id.hex()
                )
            )
            .first()
        )
        if row is None:
            raise UnknownKey(
                f"no project holds data key {key_id.hex()} (destroyed?)",
                field="key_id",
                key_id=key_id.hex(),
            )
        project_id = int(row.project_id)
        key = DataKey(key_id, self.provider.unwrap(project_id, row.wrapped))
        with self._lock:
            self._data_keys.setdefault(project_id, key)
        return project_id, key

    def promote_new_keys(self, db: Session, *, committed: bool) -> None:
        """After a commit: cache the keys ``db`` made; after any rollback: forget them (they
        are read again, or made again, on next use)."""
        fresh = db.info.pop(NEW_KEYS, None)
        if fresh and committed:
            with self._lock:
                for project_id, key in fresh.items():
                    self._data_keys.setdefault(project_id, key)

    def _insert_key(self, db: Session, project_id: int) -> ProjectKey:
        fresh = new_data_key()
        values = {
            "project_id": project_id,
            "key_id": fresh.key_id.hex(),
            "wrapped": self.provider.wrap(project_id, fresh.key),
        }
        dialect = db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        from labelproof.store.models import utcnow

        db.execute(
            insert(ProjectKey)
            .values(**values, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["project_id"])
        )
        row = db.scalar(select(ProjectKey).where(ProjectKey.project_id == project_id))
        assert row is not None
        return row

    def forget(self, project_id: int) -> None:
        """Drop a project's key from memory (after it was destroyed)."""
        with self._lock:
            self._data_keys.pop(project_id, None)


def _load_master(key_dir: Path, engine: Engine) -> LocalKeyProvider:
    if os.environ.get(MASTER_KEY_ENV):
        return LocalKeyProvider.from_env()
    path = key_dir / MASTER_KEY_FILE
    if not path.exists():
        with Session(engine) as db:
            wrapped = db.scalar(select(ProjectKey.id).limit(1))
        if wrapped is not None:
            raise ConfigurationError(
                f"no master key: {path} is missing and {MASTER_KEY_ENV} is not set, but the"
                " database holds wrapped data keys; restore the key that made them",
                field="master_key",
            )
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_master_key_file(path)
    return LocalKeyProvider.from_file(path)


def _check_master(provider: LocalKeyProvider, engine: Engine) -> dict[int, DataKey]:
    """Unwrap every project key now, so a wrong master key fails at start, not on a read."""
    keys: dict[int, DataKey] = {}
    with Session(engine) as db:
        for row in db.scalars(select(ProjectKey)):
            try:
                keys[row.project_id] = DataKey(
                    bytes.fromhex(row.key_id), provider.unwrap(row.project_id, row.wrapped)
                )
            except (UnknownKey, TamperedCiphertext) as exc:
                raise ConfigurationError(
                    f"the master key does not open the data key of project {row.project_id}:"
                    f" {exc.message} (wrong {MASTER_KEY_ENV} or master.key?)",
                    field="master_key",
                ) from None
    return keys


def open_custody(key_dir: Path, engine: Engine, *, checkpoint_every: int) -> Custody:
    """Load (or on a fresh installation create) the master key and check it opens every
    project's data key; raise ``ConfigurationError`` naming the problem otherwise."""
    provider = _load_master(key_dir, engine)
    custody = Custody(key_dir=key_dir, provider=provider, checkpoint_every=checkpoint_every)
    custody._data_keys.update(_check_master(provider, engine))
    return custody
