"""Ed25519 signing keys for audit checkpoints: one PEM file (mode 0600), created on first use.

The private key never leaves its folder; the public key is exported as PEM
(SubjectPublicKeyInfo) for auditors, and identified by :func:`key_id`, the first 16 hex digits
of SHA-256 over its 32 raw bytes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from labelproof.errors import ConfigurationError, InvalidInput

__all__ = [
    "SIGNING_KEY_FILE",
    "key_id",
    "load_or_create_signing_key",
    "load_public_key",
    "public_key_pem",
]

SIGNING_KEY_FILE = "audit-signing-key.pem"


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read_private(path: Path) -> Ed25519PrivateKey:
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"signing key {path} is not a regular file", field="key_file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise ConfigurationError(
            f"signing key {path} is readable by others (mode {stat.S_IMODE(info.st_mode):04o});"
            " run chmod 600 on it",
            field="key_file",
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            f"signing key {path} is not an unencrypted PEM private key: {exc}", field="key_file"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            f"signing key {path} is a {type(key).__name__}, not Ed25519", field="key_file"
        )
    return key


def load_or_create_signing_key(folder: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``folder/audit-signing-key.pem``, generated (0600) if absent.

    Raises ``ConfigurationError`` when the file exists but is unreadable, not Ed25519, or
    readable by group or others.
    """
    folder = Path(folder)
    path = folder / SIGNING_KEY_FILE
    if path.exists():
        return _read_private(path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_private(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public half as PEM (SubjectPublicKeyInfo)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(data: bytes | str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes/text or from a path to a PEM file."""
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read public key file: {exc}", field="public_key") from None
    raw = data.encode() if isinstance(data, str) else data
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(f"not a PEM public key: {exc}", field="public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"public key is {type(key).__name__}, not Ed25519", field="public_key")
    return key
