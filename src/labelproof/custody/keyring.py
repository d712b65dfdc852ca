"""Master keys and the wrapping of per-project data keys.

A :class:`KeyProvider` wraps and unwraps 32-byte data keys for a project. The local provider
keeps AES-256 master keys in memory, loaded from a key file or an environment variable
(base64 of 32 bytes). A missing or malformed master key is a :class:`ConfigurationError`
when the provider is built: there is no plaintext fallback.

Wrapped key format: ``b"LPWK" | version 1 | master key id (8) | nonce (12) | AES-256-GCM
ciphertext of the data key (32) | tag (16)`` = 73 bytes, with associated data
``header || b"labelproof data key for project " || project_id``, so a wrapped key moved to
another project, or under another master key id, does not open. (GCM rather than AES-KW
because RFC 3394 key wrap has no associated data to bind the project.)

The master key id is the first 8 bytes of SHA-256 over a label and the key: it names the key
without revealing it, so after a rotation :class:`LocalKeyProvider` still unwraps keys made
under a retired master key and :func:`rewrap` moves them to the current one.

A key file (or ``$LABELPROOF_MASTER_KEY``) holds one or more base64 keys, one a line (or
comma-separated in the variable): the first is current (it wraps), the others are still
accepted for unwrapping while a rotation is under way. A provider loaded from a file
**follows the file**: before each wrap it compares the file's identity (inode, size,
modification time) and reloads on a change, and an unwrap that names an unknown master key
reloads once and retries, so a server learns a rotated key without restarting.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import stat
import struct
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.errors import ConfigurationError, InvalidInput

__all__ = [
    "MASTER_KEY_ENV",
    "KeyProvider",
    "LocalKeyProvider",
    "generate_master_key",
    "master_key_id",
    "read_master_key_file",
    "rewrap",
    "wrapped_under",
    "write_master_key_file",
    "write_master_keys",
]

MASTER_KEY_ENV = "LABELPROOF_MASTER_KEY"
WRAP_MAGIC = b"LPWK"
_WRAP_HEADER = struct.Struct(">4sB8s12s")  # 25 bytes
_WRAPPED_SIZE = _WRAP_HEADER.size + 32 + 16


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps a project's 32-byte data key (a KMS or HSM can stand behind it)."""

    def wrap(self, project_id: str | int, dek: bytes) -> bytes: ...

    def unwrap(self, project_id: str | int, wrapped: bytes) -> bytes: ...


def master_key_id(key: bytes) -> bytes:
    """8-byte id of a master key (a keyed label hash; reveals nothing of the key)."""
    return hashlib.sha256(b"labelproof master key id\x00" + key).digest()[:8]


def _project_aad(header: bytes, project_id: str | int) -> bytes:
    return header + b"labelproof data key for project " + str(project_id).encode()


def _decode_master(text: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            f"master key from {source} is not base64", field="master_key"
        ) from None
    if len(raw) != 32:
        raise ConfigurationError(
            f"master key from {source} decodes to {len(raw)} bytes; AES-256 needs 32",
            field="master_key",
        )
    return raw


def _decode_many(text: str, source: str) -> list[bytes]:
    """Every key of a key file or variable (lines or commas; ``#`` starts a comment)."""
    items: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        items.extend(part.strip() for part in line.split(",") if part.strip())
    if not items:
        raise ConfigurationError(f"master key from {source} is empty", field="master_key")
    keys = [_decode_master(item, source) for item in items]
    if len({master_key_id(k) for k in keys}) != len(keys):
        raise ConfigurationError(
            f"master key from {source} lists the same key twice", field="master_key"
        )
    return keys


def _stamp(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def read_master_key_file(path: Path) -> list[bytes]:
    """The keys of a master key file, current first (``ConfigurationError`` if unreadable,
    malformed, or readable by group or others)."""
    path = Path(path)
    try:
        info = path.stat()
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read master key file {path}: {exc}", field="master_key_file"
        ) from None
    if os.name == "posix" and info.st_mode & 0o077:
        raise ConfigurationError(
            f"master key file {path} is readable by others"
            f" (mode {stat.S_IMODE(info.st_mode):04o}); run chmod 600 on it",
            field="master_key_file",
        )
    return _decode_many(text, str(path))


class LocalKeyProvider:
    """Wraps data keys under an in-memory AES-256 master key (plus retired ones to unwrap).

    Built by :meth:`from_file`, it follows the file: a changed file is read again before the
    next wrap, and an unwrap naming an unknown master key reads it once more and retries.
    """

    def __init__(
        self,
        master_key: bytes,
        retired: Sequence[bytes] = (),
        *,
        source: Path | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._source = source
        self._stamp: tuple[int, int, int, int] | None = None
        self._set(master_key, retired)
        if source is not None:
            try:
                self._stamp = _stamp(source)
            except OSError:
                self._stamp = None

    def _set(self, master_key: bytes, retired: Sequence[bytes]) -> None:
        for k in (master_key, *retired):
            if len(k) != 32:
                raise ConfigurationError(
                    f"a master key must be 32 bytes, got {len(k)}", field="master_key"
                )
        keys = {master_key_id(k): k for k in (*retired, master_key)}
        self._current, self.key_id, self._keys = master_key, master_key_id(master_key), keys

    @property
    def source(self) -> Path | None:
        """The key file this provider follows (None: loaded from memory or the environment)."""
        return self._source

    def key_ids(self) -> list[bytes]:
        """Ids of every loaded master key, the current one first."""
        return [self.key_id, *(k for k in self._keys if k != self.key_id)]

    def master_keys(self) -> list[bytes]:
        """Every loaded master key, the current one first (for a rotation to carry them)."""
        return [self._keys[kid] for kid in self.key_ids()]

    def reload(self, *, force: bool = False) -> bool:
        """Read the key file again if it changed (or always with ``force``); True if the
        keys were replaced. A provider without a file never reloads."""
        if self._source is None:
            return False
        with self._lock:
            try:
                stamp = _stamp(self._source)
            except OSError:
                return False  # mid-rename or removed: keep the keys in memory
            if not force and stamp == self._stamp:
                return False
            keys = read_master_key_file(self._source)
            self._set(keys[0], keys[1:])
            self._stamp = stamp
            return True

    @classmethod
    def from_file(cls, path: Path, retired: Sequence[bytes] = ()) -> LocalKeyProvider:
        """Load the base64 master key(s) from ``path`` (must not be readable by others);
        the provider follows the file afterwards."""
        keys = read_master_key_file(Path(path))
        return cls(keys[0], [*keys[1:], *retired], source=Path(path))

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        var: str = MASTER_KEY_ENV,
        retired: Sequence[bytes] = (),
    ) -> LocalKeyProvider:
        """Load the base64 master key(s) from the environment variable ``var`` (several,
        comma-separated, while a rotation is under way: the first is current)."""
        env = os.environ if environ is None else environ
        text = env.get(var)
        if not text:
            raise ConfigurationError(
                f"no master key: set {var} (base64 of 32 bytes) or give a key file",
                field="master_key",
            )
        keys = _decode_many(text, f"${var}")
        return cls(keys[0], [*keys[1:], *retired])

    @classmethod
    def load(
        cls,
        key_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        retired: Sequence[bytes] = (),
    ) -> LocalKeyProvider:
        """The key file when given, else ``$LABELPROOF_MASTER_KEY``; neither is an error."""
        if key_file is not None:
            return cls.from_file(key_file, retired)
        return cls.from_env(environ, retired=retired)

    def wrap(self, project_id: str | int, dek: bytes) -> bytes:
        if len(dek) != 32:
            raise InvalidInput(f"data key must be 32 bytes, got {len(dek)}", field="dek")
        self.reload()  # a rotated file: wrap under its current key, never a stale one
        current, kid = self._current, self.key_id
        nonce = os.urandom(12)
        header = _WRAP_HEADER.pack(WRAP_MAGIC, 1, kid, nonce)
        sealed = AESGCM(current).encrypt(nonce, dek, _project_aad(header, project_id))
        return header + sealed

    def unwrap(self, project_id: str | int, wrapped: bytes) -> bytes:
        if len(wrapped) != _WRAPPED_SIZE:
            raise TamperedCiphertext(
                f"wrapped key is {len(wrapped)} bytes, expected {_WRAPPED_SIZE}",
                field="wrapped_key",
            )
        magic, version, kid, nonce = _WRAP_HEADER.unpack_from(wrapped)
        if magic != WRAP_MAGIC or version != 1:
            raise TamperedCiphertext(
                f"not a labelproof wrapped key (magic {magic!r}, version {version})",
                field="wrapped_key",
            )
        master = self._keys.get(kid)
        if master is None and self.reload():
            master = self._keys.get(kid)
        if master is None:
            raise UnknownKey(
                f"data key was wrapped under master key {kid.hex()}, which is not loaded",
                field="master_key",
                key_id=kid.hex(),
            )
        header = wrapped[: _WRAP_HEADER.size]
        try:
            return AESGCM(master).decrypt(
                nonce, wrapped[_WRAP_HEADER.size :], _project_aad(header, project_id)
            )
        except InvalidTag:
            raise TamperedCiphertext(
                f"wrapped data key failed authentication for project {project_id}"
                " (altered, or wrapped for another project)",
                field="wrapped_key",
            ) from None

    def is_current(self, wrapped: bytes) -> bool:
        """Whether ``wrapped`` is under the current master key (else it needs :func:`rewrap`)."""
        return wrapped_under(wrapped) == self.key_id


def wrapped_under(wrapped: bytes) -> bytes:
    """The id of the master key a wrapped data key names (its header's bytes 5..13)."""
    return bytes(wrapped[5:13])


def rewrap(
    project_id: str | int, wrapped: bytes, *, source: KeyProvider, target: KeyProvider
) -> bytes:
    """Unwrap with ``source`` and wrap with ``target``: master key rotation, blobs untouched."""
    dek = source.unwrap(project_id, wrapped)
    return target.wrap(project_id, dek)


def generate_master_key() -> str:
    """A new random master key, base64 (for a key file or the environment variable)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def write_master_key_file(path: Path) -> None:
    """Create ``path`` (mode 0600, must not exist) holding a new base64 master key."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(generate_master_key() + "\n")


def write_master_keys(path: Path, keys: Sequence[bytes], *, note: str = "") -> None:
    """Replace ``path`` atomically with ``keys`` (current first), mode 0600.

    The keys go to a new file beside it (``O_EXCL``, 0600, fsynced) that is renamed over
    ``path``, and the folder is fsynced: a reader sees the old file or the new one, never
    a part. ``note`` becomes a comment line.
    """
    path = Path(path)
    if not keys:
        raise InvalidInput("a master key file needs at least one key", field="keys")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    lines = [f"# {note}"] if note else []
    lines += [base64.b64encode(k).decode() for k in keys]
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if os.name == "posix":
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
