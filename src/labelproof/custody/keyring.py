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
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import struct
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
    "rewrap",
    "write_master_key_file",
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


class LocalKeyProvider:
    """Wraps data keys under an in-memory AES-256 master key (plus retired ones to unwrap)."""

    def __init__(self, master_key: bytes, retired: Sequence[bytes] = ()) -> None:
        for k in (master_key, *retired):
            if len(k) != 32:
                raise ConfigurationError(
                    f"a master key must be 32 bytes, got {len(k)}", field="master_key"
                )
        self._current = master_key
        self.key_id = master_key_id(master_key)
        self._keys = {master_key_id(k): k for k in (*retired, master_key)}

    @classmethod
    def from_file(cls, path: Path, retired: Sequence[bytes] = ()) -> LocalKeyProvider:
        """Load the base64 master key from ``path`` (must not be readable by others)."""
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
        return cls(_decode_master(text, str(path)), retired)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        var: str = MASTER_KEY_ENV,
        retired: Sequence[bytes] = (),
    ) -> LocalKeyProvider:
        """Load the base64 master key from the environment variable ``var``."""
        env = os.environ if environ is None else environ
        text = env.get(var)
        if not text:
            raise ConfigurationError(
                f"no master key: set {var} (base64 of 32 bytes) or give a key file",
                field="master_key",
            )
        return cls(_decode_master(text, f"${var}"), retired)

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
        nonce = os.urandom(12)
        header = _WRAP_HEADER.pack(WRAP_MAGIC, 1, self.key_id, nonce)
        sealed = AESGCM(self._current).encrypt(nonce, dek, _project_aad(header, project_id))
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
        return wrapped[5:13] == self.key_id


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
