"""The keys of one installation: master key, per-project data keys, audit signing key.

- Master key: ``$LABELPROOF_MASTER_KEY`` (base64 of 32 bytes) or ``<data_dir>/keys/master.key``
  (mode 0600). The file is created on first start only while the database holds no wrapped
  key, so a wrong or missing key on an installation with data is a clear error at start,
  never a silent new key.
- Data keys: one current AES-256 key per project, wrapped by the master key with the project
  id as associated data (``project_keys``), unwrapped on first use and kept in memory. After
  a data key rotation (``rotation.rotate_project``) the former keys stay in
  ``project_previous_keys`` until no ciphertext names them: readers take the key a
  ciphertext names from the current and previous keys; writers use the current key, which a
  process re-reads at most every :data:`KEY_RECHECK_S` seconds, so a rotation made by
  another process is picked up without a restart.
- Signing key: Ed25519, ``<data_dir>/keys/audit-signing-key.pem`` (0600), created on first use.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
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
from labelproof.store.custody_models import ProjectKey, ProjectPreviousKey

MASTER_KEY_FILE = "master.key"
#: ``Session.info`` key: data keys made in the session's open transaction (project id ->
#: key), cached for everyone only once that transaction commits.
NEW_KEYS = "labelproof.new_data_keys"
#: How often (seconds) a process checks that a cached data key is still its project's
#: current one (another process may have rotated it).
KEY_RECHECK_S = 5.0

__all__ = ["MASTER_KEY_FILE", "Custody", "open_custody"]


@dataclass
class Custody:
    """Keys and settings the services need for custody; one per runtime, thread-safe."""

    key_dir: Path
    provider: LocalKeyProvider
    checkpoint_every: int = 256
    _signing: Ed25519PrivateKey | None = field(default=None, repr=False)
    _data_keys: dict[int, DataKey] = field(default_factory=dict, repr=False)
    _checked: dict[int, float] = field(default_factory=dict, repr=False)
    _previous: dict[bytes, tuple[int, DataKey]] = field(default_factory=dict, repr=False)
    _ring_checked: dict[int, float] = field(default_factory=dict, repr=False)
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
            checked = self._checked.get(project_id, 0.0)
        if cached is not None:
            if time.monotonic() - checked < KEY_RECHECK_S:
                return cached
            current = (
                db.connection()
                .execute(select(ProjectKey.key_id).where(ProjectKey.project_id == project_id))
                .scalar()
            )
            if current == cached.key_id.hex():
                with self._lock:
                    self._checked[project_id] = time.monotonic()
                return cached
            self.forget(project_id)  # rotated (or destroyed) by another process: read again
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
                self._checked[project_id] = time.monotonic()
        return key

    def data_keys(self, db: Session, project_id: int) -> list[DataKey]:
        """The project's current data key and its previous ones (for reading ciphertexts
        made before a rotation; each names its key)."""
        ring = [self.data_key(db, project_id)]
        with self._lock:
            known = {kid: key for kid, (pid, key) in self._previous.items() if pid == project_id}
            fresh = time.monotonic() - self._ring_checked.get(project_id, 0.0) < KEY_RECHECK_S
        if fresh:
            return ring + [k for k in known.values() if k.key_id != ring[0].key_id]
        rows = (
            db.connection()
            .execute(
                select(ProjectPreviousKey.key_id, ProjectPreviousKey.wrapped).where(
                    ProjectPreviousKey.project_id == project_id
                )
            )
            .all()
        )
        for row in rows:
            kid = bytes.fromhex(row.key_id)
            key = known.get(kid)
            if key is None:
                key = DataKey(kid, self.provider.unwrap(project_id, row.wrapped))
                with self._lock:
                    self._previous[kid] = (project_id, key)
            ring.append(key)
        with self._lock:
            self._ring_checked[project_id] = time.monotonic()
        return ring

    def key_by_id(self, db: Session, key_id: bytes) -> tuple[int, DataKey]:
        """The project and data key a ciphertext names by its key id.

        Raises ``UnknownKey`` if no project holds it (a destroyed project's key).
        """
        with self._lock:
            for project_id, key in self._data_keys.items():
                if key.key_id == key_id:
                    return project_id, key
            if key_id in self._previous:
                return self._previous[key_id]
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
            prev = (
                db.connection()
                .execute(
                    select(ProjectPreviousKey.project_id, ProjectPreviousKey.wrapped).where(
                        ProjectPreviousKey.key_id == key_id.hex()
                    )
                )
                .first()
            )
            if prev is None:
                raise UnknownKey(
                    f"no project holds data key {key_id.hex()} (destroyed or retired?)",
                    field="key_id",
                    key_id=key_id.hex(),
                )
            project_id = int(prev.project_id)
            key = DataKey(key_id, self.provider.unwrap(project_id, prev.wrapped))
            with self._lock:
                self._previous[key_id] = (project_id, key)
            return project_id, key
        project_id = int(row.project_id)
        key = DataKey(key_id, self.provider.unwrap(project_id, row.wrapped))
        with self._lock:
            if project_id not in self._data_keys:
                self._data_keys[project_id] = key
                self._checked[project_id] = time.monotonic()
        return project_id, key

    def promote_new_keys(self, db: Session, *, committed: bool) -> None:
        """After a commit: cache the keys ``db`` made; after any rollback: forget them (they
        are read again, or made again, on next use)."""
        fresh = db.info.pop(NEW_KEYS, None)
        if fresh and committed:
            with self._lock:
                for project_id, key in fresh.items():
                    if project_id not in self._data_keys:
                        self._data_keys[project_id] = key
                        self._checked[project_id] = time.monotonic()

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
        """Drop a project's keys from memory (destroyed, or its data key rotated)."""
        with self._lock:
            self._data_keys.pop(project_id, None)
            self._checked.pop(project_id, None)
            self._ring_checked.pop(project_id, None)
            for kid in [k for k, (pid, _key) in self._previous.items() if pid == project_id]:
                del self._previous[kid]


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
        for prev in db.scalars(select(ProjectPreviousKey)):
            try:
                provider.unwrap(prev.project_id, prev.wrapped)
            except (UnknownKey, TamperedCiphertext) as exc:
                raise ConfigurationError(
                    f"the master key does not open previous data key {prev.key_id} of project"
                    f" {prev.project_id}: {exc.message} (wrong {MASTER_KEY_ENV} or master.key?)",
                    field="master_key",
                ) from None
    return keys


def open_custody(key_dir: Path, engine: Engine, *, checkpoint_every: int) -> Custody:
    """Load (or on a fresh installation create) the master key and check it opens every
    project's data key; raise ``ConfigurationError`` naming the problem otherwise."""
    provider = _load_master(key_dir, engine)
    custody = Custody(key_dir=key_dir, provider=provider, checkpoint_every=checkpoint_every)
    keys = _check_master(provider, engine)
    now = time.monotonic()
    custody._data_keys.update(keys)
    custody._checked.update(dict.fromkeys(keys, now))
    return custody
