"""Master key rotation, online: every wrapped key moves to a new master key while servers run.

Wrapped data keys name the master key that wraps them (``custody.keyring``), and a provider
loaded from a key file follows the file (it reloads before a wrap when the file changed, and
on an unwrap that names a master key it does not hold). A rotation therefore never stops a
server:

1. The key file is replaced atomically by ``[new, old, ...]`` (mode 0600): from now on every
   process wraps under the new key and still unwraps under the old one.
2. One write transaction rewraps, under the new key, every row that names another master
   key: ``project_keys``, ``project_previous_keys`` and the keys of sealed TOTP secrets in
   ``users`` (rows locked ``FOR UPDATE`` on PostgreSQL; SQLite's writers are serialised),
   and appends a ``custody.master_key_rotated`` audit event.
3. The rows are read again; a key wrapped under an old master key meanwhile (a process that
   read the file just before step 1) is rewrapped in another transaction, until none is
   left.
4. The key file is replaced by ``[new]`` alone: the old master key is gone from disk.

A rotation interrupted after step 1 leaves a file with two keys that every process can use;
running it again finishes it (the first key of the file is the target).

With ``$LABELPROOF_MASTER_KEY`` instead of a file, the variable cannot be rewritten from here:
the operator first sets ``NEW,OLD`` on every host (rolling restart), then runs the rotation,
which rewraps under the first key of the variable, then sets ``NEW`` alone.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.custody.keyring import (
    MASTER_KEY_ENV,
    LocalKeyProvider,
    read_master_key_file,
    rewrap,
    wrapped_under,
    write_master_keys,
)
from labelproof.errors import ConfigurationError, InvalidInput
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Runtime, new_request_id
from labelproof.services.custody.events import CustodyAction
from labelproof.services.security.sealing import rewrap_totp_secret, totp_wrapped_under
from labelproof.store.custody_models import ProjectKey, ProjectPreviousKey
from labelproof.store.models import User

__all__ = ["MasterRotation", "load_new_master_key", "rotate_master", "stale_wraps"]

_MAX_PASSES = 5


@dataclass(frozen=True)
class MasterRotation:
    """What a master key rotation did (key ids are hex; no key is ever reported)."""

    from_key_ids: list[str]
    to_key_id: str
    project_keys: int
    previous_keys: int
    totp_secrets: int
    passes: int
    key_file: str | None
    resumed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_new_master_key(path: Path) -> bytes:
    """The new master key an operator prepared in ``path`` (one base64 key, mode 0600)."""
    keys = read_master_key_file(path)
    if len(keys) != 1:
        raise InvalidInput(
            f"{path} holds {len(keys)} keys; a new master key file holds exactly one",
            field="new_key_file",
        )
    return keys[0]


def _plan(rt: Runtime, new_key: bytes | None) -> tuple[list[bytes], Path | None, bool]:
    """The key ring to use (target first), the key file to rewrite, and whether this
    finishes an interrupted rotation."""
    source = rt.custody.provider.source
    if source is None:
        if new_key is not None:
            raise ConfigurationError(
                f"the master key comes from ${MASTER_KEY_ENV}, which this command cannot"
                f" rewrite: set {MASTER_KEY_ENV}=NEW,OLD on every host, then run the rotation"
                " without --new-key-file",
                field="new_key_file",
            )
        keys = _env_keys()
        if len(keys) < 2:
            raise ConfigurationError(
                f"${MASTER_KEY_ENV} holds one key: list the new key first and the current one"
                f" after it ({MASTER_KEY_ENV}=NEW,OLD) on every host, then rotate",
                field="master_key",
            )
        return keys, None, False
    keys = read_master_key_file(source)
    unfinished = len(keys) > 1
    if new_key is None:
        if unfinished:
            return keys, source, True
        return [os.urandom(32), *keys], source, False
    if unfinished and new_key != keys[0]:
        raise ConfigurationError(
            f"an earlier rotation to another key is unfinished in {source}; run rotate-master"
            " without --new-key-file to finish it first",
            field="new_key_file",
        )
    if new_key == keys[0] and not unfinished:
        raise InvalidInput("the new master key is the current one", field="new_key_file")
    return [new_key, *(k for k in keys if k != new_key)], source, unfinished


def _env_keys() -> list[bytes]:
    return LocalKeyProvider.from_env().master_keys()


def _rewrap_all(db: Session, provider: LocalKeyProvider) -> tuple[int, int, int]:
    """Rewrap every row not under ``provider``'s current key; returns the counts."""
    target = provider.key_id
    n_keys = n_prev = n_totp = 0
    for row in db.scalars(select(ProjectKey).with_for_update()):
        if wrapped_under(row.wrapped) != target:
            row.wrapped = rewrap(row.project_id, row.wrapped, source=provider, target=provider)
            n_keys += 1
    for prev in db.scalars(select(ProjectPreviousKey).with_for_update()):
        if wrapped_under(prev.wrapped) != target:
            prev.wrapped = rewrap(prev.project_id, prev.wrapped, source=provider, target=provider)
            n_prev += 1
    for user in db.scalars(select(User).where(User.totp_secret.is_not(None)).with_for_update()):
        assert user.totp_secret is not None
        if totp_wrapped_under(user.totp_secret) != target:
            user.totp_secret = rewrap_totp_secret(provider, provider, user.id, user.totp_secret)
            n_totp += 1
    return n_keys, n_prev, n_totp


def stale_wraps(db: Session, target: bytes) -> int:
    """How many wrapped keys name a master key other than ``target``."""
    wrapped = [
        *db.scalars(select(ProjectKey.wrapped)),
        *db.scalars(select(ProjectPreviousKey.wrapped)),
    ]
    n = sum(1 for w in wrapped if wrapped_under(w) != target)
    secrets = db.scalars(select(User.totp_secret).where(User.totp_secret.is_not(None)))
    return n + sum(1 for s in secrets if s is not None and totp_wrapped_under(s) != target)


def rotate_master(rt: Runtime, *, new_key: bytes | None = None) -> MasterRotation:
    """Rotate the installation's master key (see the module's steps); returns a report.

    ``new_key``: 32 bytes prepared by the operator; default a new random key. Servers on the
    same data directory keep serving throughout.
    """
    ring, key_file, resumed = _plan(rt, new_key)
    target = ring[0]
    if key_file is not None:
        write_master_keys(key_file, ring, note="rotation under way: first key current")
    provider = LocalKeyProvider(target, ring[1:])
    rid = new_request_id()
    from_ids = [k.hex() for k in provider.key_ids()[1:]]
    with rt.write() as db:
        n_keys, n_prev, n_totp = _rewrap_all(db, provider)
        record(
            db,
            AuditRecord(
                CustodyAction.MASTER_KEY_ROTATED,
                "installation",
                "master_key",
                None,
                rid,
                details={
                    "from_key_ids": from_ids,
                    "to_key_id": provider.key_id.hex(),
                    "project_keys": n_keys,
                    "previous_keys": n_prev,
                    "totp_secrets": n_totp,
                    "key_file": key_file is not None,
                    "resumed": resumed,
                },
            ),
        )
    passes = 1
    while True:
        with rt.read() as db:
            left = stale_wraps(db, provider.key_id)
        if left == 0:
            break
        if passes >= _MAX_PASSES:
            raise ConfigurationError(
                f"{left} wrapped key(s) still name an old master key after {passes} passes;"
                " the key file keeps both keys: run the rotation again",
                field="master_key",
            )
        with rt.write() as db:
            more = _rewrap_all(db, provider)
        n_keys, n_prev, n_totp = n_keys + more[0], n_prev + more[1], n_totp + more[2]
        passes += 1
    if key_file is not None:
        write_master_keys(key_file, [target])
        rt.custody.provider.reload(force=True)
    return MasterRotation(
        from_key_ids=from_ids,
        to_key_id=provider.key_id.hex(),
        project_keys=n_keys,
        previous_keys=n_prev,
        totp_secrets=n_totp,
        passes=passes,
        key_file=str(key_file) if key_file else None,
        resumed=resumed,
    )
