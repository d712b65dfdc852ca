"""Blob storage behind one interface, content-addressed by SHA-256.

``LocalBlobStore`` is the embedded default: ``<root>/<aa>/<bb>/<sha256>``, written to a
temporary file in the same folder, fsynced, renamed into place, and the folder fsynced, so a
blob either exists whole or not at all. An S3-compatible store implements the same
``BlobStore`` protocol.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

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
        return sorted(
            p.name for p in self.root.glob("??/??/*") if p.is_file() and len(p.name) == 64
        )
