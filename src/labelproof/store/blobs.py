"""Blob storage behind one interface, content-addressed by SHA-256.

``LocalBlobStore`` is the embedded default. Uploads are staged (plaintext, in ``tmp/``,
while they are inspected) and then committed **encrypted under their project's data key**
to ``<root>/projects/<project_id>/<aa>/<bb>/<sha256>`` (the SHA-256 of the plaintext; so
identical files are stored once per project, never shared across projects). Each blob is an
AES-256-GCM stream (``labelproof.custody.crypto``) whose associated data names the project
and the digest, so a file moved to another address or project does not decrypt. Writes go to
a temporary file in the same folder, fsynced, renamed into place, and the folder fsynced, so
a blob either exists whole or not at all. Derived files (tiles, thumbnails) are sealed the
same way by :func:`seal_file`.

The plaintext ``<root>/<aa>/<bb>/<sha256>`` methods (``put_stream``, ``read``...) remain for
tools and tests that store unencrypted content; the server never uses them for assets.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from labelproof.custody.crypto import DataKey, decrypt, decrypt_stream, encrypt, encrypt_stream
from labelproof.errors import FileTooLarge, NotFound

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StagedBlob:
    """A fully written, fsynced temporary file that is not yet part of the store."""

    path: Path
    sha256: str
    size: int


class BlobStore(Protocol):
    def stage(self, stream: BinaryIO, *, max_bytes: int) -> StagedBlob: ...

    def commit(self, staged: StagedBlob) -> None: ...

    def discard(self, staged: StagedBlob) -> None: ...

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> tuple[str, int]:
        """Store ``stream``; return ``(sha256_hex, size)``; FileTooLarge past ``max_bytes``."""
        ...

    def read(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(f"no blob {sha256!r}")
    return sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        digest = _check_digest(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def stage(self, stream: BinaryIO, *, max_bytes: int) -> StagedBlob:
        """Copy ``stream`` to a private temporary file, hashing it; not yet visible."""
        hasher = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="up-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge(
                            f"file is larger than the limit of {max_bytes} bytes",
                            field="file",
                            limit_bytes=max_bytes,
                        )
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StagedBlob(path=tmp, sha256=hasher.hexdigest(), size=size)

    def commit(self, staged: StagedBlob) -> None:
        """Move a staged file to its content address (atomic rename, then fsync the folder)."""
        final = self.path_of(staged.sha256)
        if final.exists():
            staged.path.unlink(missing_ok=True)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, final)
        _fsync_dir(final.parent)

    def discard(self, staged: StagedBlob) -> None:
        staged.path.unlink(missing_ok=True)

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> tuple[str, int]:
        staged = self.stage(stream, max_bytes=max_bytes)
        try:
            self.commit(staged)
        except BaseException:
            self.discard(staged)
            raise
        return staged.sha256, staged.size

    def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> tuple[str, int]:
        import io

        return self.put_stream(io.BytesIO(data), max_bytes=max_bytes or len(data))

    def read(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no blob {sha256}") from exc

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    def delete(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)

    def all_digests(self) -> list[str]:
        """Digests of every stored blob, plaintext and per-project (one per copy)."""
        plain = [p for p in self.root.glob("??/??/*") if p.is_file() and len(p.name) == 64]
        sealed = [p for p in self.root.glob("projects/*/??/??/*") if p.is_file()]
        return sorted(p.name for p in plain + sealed if len(p.name) == 64)

    # --- per-project, encrypted -----------------------------------------------------------

    def project_root(self, project_id: int) -> Path:
        return self.root / "projects" / str(int(project_id))

    def sealed_path(self, project_id: int, sha256: str) -> Path:
        digest = _check_digest(sha256)
        return self.project_root(project_id) / digest[:2] / digest[2:4] / digest

    def has(self, project_id: int, sha256: str) -> bool:
        return self.sealed_path(project_id, sha256).exists()

    def commit_sealed(self, staged: StagedBlob, *, project_id: int, key: DataKey) -> bool:
        """Encrypt a staged upload to its address in the project; False if already there.

        The staged plaintext file is left for the caller to discard.
        """
        final = self.sealed_path(project_id, staged.sha256)
        if final.exists():
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".seal-")
        try:
            with os.fdopen(fd, "wb") as out, open(staged.path, "rb") as src:
                encrypt_stream(key, src, out, aad=blob_aad(project_id, staged.sha256))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)
        return True

    def open_sealed(
        self, project_id: int, sha256: str, keys: DataKey | Sequence[DataKey], dst: BinaryIO
    ) -> int:
        """Decrypt a project's blob into ``dst``; returns the plaintext size.

        Raises ``NotFound`` when absent and ``TamperedCiphertext`` when altered (in that case
        ``dst`` holds a partial plaintext the caller must discard).
        """
        path = self.sealed_path(project_id, sha256)
        try:
            src = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise NotFound(f"no blob {sha256} in project {project_id}") from exc
        with src:
            return decrypt_stream(keys, src, dst, aad=blob_aad(project_id, sha256))

    def delete_sealed(self, project_id: int, sha256: str) -> None:
        self.sealed_path(project_id, sha256).unlink(missing_ok=True)

    def sealed_digests(self, project_id: int) -> list[tuple[str, int]]:
        """``(sha256, stored size)`` of every blob of a project."""
        root = self.project_root(project_id)
        return sorted(
            (p.name, p.stat().st_size)
            for p in root.glob("??/??/*")
            if p.is_file() and len(p.name) == 64
        )


def blob_aad(project_id: int, sha256: str) -> bytes:
    """Associated data binding a sealed blob to its project and content address."""
    return f"labelproof blob|project {int(project_id)}|sha256 {sha256}".encode()


def seal_file(path: Path, data: bytes, *, key: DataKey, aad: bytes) -> None:
    """Write ``data`` encrypted (AES-256-GCM) to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".seal-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(encrypt(key, data, aad))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_file(path: Path, *, key: DataKey | Sequence[DataKey], aad: bytes) -> bytes:
    """The plaintext of a file written by :func:`seal_file` (``FileNotFoundError`` if absent)."""
    return decrypt(key, path.read_bytes(), aad)
