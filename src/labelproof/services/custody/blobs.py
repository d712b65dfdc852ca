"""The one way services read and write asset bytes: through the project's data key.

Every reader (asset content, tiles and thumbnails, export) calls :func:`read_blob` or
:func:`copy_blob`; derived files are cached sealed under the same key (:func:`cached`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from sqlalchemy.orm import Session

from labelproof.custody.crypto import DataKey
from labelproof.custody.errors import UnknownKey
from labelproof.services.context import Runtime
from labelproof.store.blobs import StagedBlob, open_file, seal_file

__all__ = ["cached", "copy_blob", "project_key", "project_keys", "read_blob", "store_blob"]

T = TypeVar("T")

_build_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def project_key(rt: Runtime, project_id: int, db: Session | None = None) -> DataKey:
    """The project's data key (from memory, else unwrapped from ``project_keys``)."""
    if db is not None:
        return rt.custody.data_key(db, project_id)
    with rt.read() as session:
        return rt.custody.data_key(session, project_id)


def store_blob(db: Session, rt: Runtime, *, project_id: int, staged: StagedBlob) -> bool:
    """Encrypt a staged upload into the project (its key made in ``db`` if needed).

    Returns whether a new blob was written (False: the project already held these bytes).
    """
    key = rt.custody.data_key(db, project_id, create=True)
    return rt.blobs.commit_sealed(staged, project_id=project_id, key=key)


def project_keys(rt: Runtime, project_id: int) -> list[DataKey]:
    """The project's current and previous data keys (a ciphertext names the one it needs)."""
    with rt.read() as session:
        return rt.custody.data_keys(session, project_id)


def _with_ring(rt: Runtime, project_id: int, use: Callable[[list[DataKey]], T]) -> T:
    """``use(keys)``; if the ciphertext names a key this process does not hold yet (another
    process rotated the project's key a moment ago), read the keys again and retry once."""
    try:
        return use(project_keys(rt, project_id))
    except UnknownKey:
        rt.custody.forget(project_id)
        return use(project_keys(rt, project_id))


def copy_blob(rt: Runtime, *, project_id: int, sha256: str, dst: BinaryIO) -> int:
    """Decrypt a project's blob into ``dst``; returns its size in bytes (an unknown key is
    found from the header, before anything is written, so the retry is safe)."""
    return _with_ring(
        rt, project_id, lambda ring: rt.blobs.open_sealed(project_id, sha256, ring, dst)
    )


def read_blob(rt: Runtime, *, project_id: int, sha256: str) -> bytes:
    """A project's blob, decrypted, in memory."""
    buf = io.BytesIO()
    copy_blob(rt, project_id=project_id, sha256=sha256, dst=buf)
    return buf.getvalue()


def _lock(key: str) -> threading.Lock:
    with _guard:
        return _build_locks.setdefault(key, threading.Lock())


def cached(rt: Runtime, *, project_id: int, path: Path, build: Callable[[], bytes]) -> bytes:
    """A derived file of a project, kept sealed at ``path`` (built once, under a lock).

    The associated data is the path relative to the data directory, so a sealed tile
    cannot be swapped for another.
    """
    aad = derived_aad(rt, path)
    try:
        return _with_ring(rt, project_id, lambda ring: open_file(path, key=ring, aad=aad))
    except FileNotFoundError:
        pass
    with _lock(str(path)):
        try:
            return _with_ring(rt, project_id, lambda ring: open_file(path, key=ring, aad=aad))
        except FileNotFoundError:
            data = build()
            seal_file(path, data, key=project_key(rt, project_id), aad=aad)
            return data


def derived_aad(rt: Runtime, path: Path) -> bytes:
    """Associated data of a derived file: its final path relative to the data directory."""
    return f"labelproof derived|{path.relative_to(rt.settings.data_dir).as_posix()}".encode()


def seal_derived(
    rt: Runtime, *, project_id: int, path: Path, data: bytes, write_to: Path | None = None
) -> None:
    """Seal one derived file whose final place is ``path`` (written at ``write_to`` when
    it is staged elsewhere first, e.g. a pyramid renamed into place as a whole)."""
    key = project_key(rt, project_id)
    seal_file(write_to or path, data, key=key, aad=derived_aad(rt, path))


def open_derived(rt: Runtime, *, project_id: int, path: Path) -> bytes:
    """The plaintext of a sealed derived file (``FileNotFoundError`` if absent)."""
    aad = derived_aad(rt, path)
    return _with_ring(rt, project_id, lambda ring: open_file(path, key=ring, aad=aad))
