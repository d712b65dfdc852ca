"""TOTP secrets sealed at rest under the installation's master key (envelope encryption).

Each secret gets its own random AES-256 key, wrapped by the master key's provider
(``custody.keyring``) with ``"user:<id>:totp"`` as the wrapped key's binding, and the secret
is sealed with it (``custody.crypto.encrypt``, the user id as associated data). The stored
value is base64 of ``b"LPT1" | key id (8) | wrapped key (73) | ciphertext (61)`` (146 bytes,
196 characters), so a database dump alone reveals no secret, a sealed value copied to another
user does not open, and a master key rotation (``rewrap``) carries these keys like the
projects' keys.
"""

from __future__ import annotations

import base64
import binascii

from labelproof.custody.crypto import DataKey, decrypt, encrypt, new_data_key
from labelproof.custody.errors import TamperedCiphertext
from labelproof.custody.keyring import KeyProvider

__all__ = ["open_totp_secret", "rewrap_totp_secret", "seal_totp_secret", "totp_wrapped_under"]

_MAGIC = b"LPT1"
_WRAPPED = 73


def _binding(user_id: int) -> str:
    return f"user:{user_id}:totp"


def _aad(user_id: int) -> bytes:
    return f"labelproof totp secret of user {user_id}".encode()


def seal_totp_secret(provider: KeyProvider, user_id: int, secret: bytes) -> str:
    """Seal ``secret`` for ``user_id``; returns the base64 text stored in ``users``."""
    key = new_data_key()
    wrapped = provider.wrap(_binding(user_id), key.key)
    sealed = encrypt(key, secret, _aad(user_id))
    return base64.b64encode(_MAGIC + key.key_id + wrapped + sealed).decode()


def open_totp_secret(provider: KeyProvider, user_id: int, stored: str) -> bytes:
    """Open a value made by :func:`seal_totp_secret`; ``TamperedCiphertext`` otherwise."""
    try:
        raw = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        raise TamperedCiphertext("sealed TOTP secret is not base64", field="totp_secret") from None
    if not raw.startswith(_MAGIC) or len(raw) < 4 + 8 + _WRAPPED:
        raise TamperedCiphertext("not a sealed TOTP secret", field="totp_secret")
    key_id, rest = raw[4:12], raw[12:]
    key = DataKey(key_id, provider.unwrap(_binding(user_id), rest[:_WRAPPED]))
    return decrypt(key, rest[_WRAPPED:], _aad(user_id))


def rewrap_totp_secret(source: KeyProvider, target: KeyProvider, user_id: int, stored: str) -> str:
    """The same sealed secret with its key wrapped by ``target`` (master key rotation); the
    secret itself is not opened."""
    try:
        raw = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        raise TamperedCiphertext("sealed TOTP secret is not base64", field="totp_secret") from None
    if not raw.startswith(_MAGIC) or len(raw) < 4 + 8 + _WRAPPED:
        raise TamperedCiphertext("not a sealed TOTP secret", field="totp_secret")
    head, wrapped, rest = raw[:12], raw[12 : 12 + _WRAPPED], raw[12 + _WRAPPED :]
    key = source.unwrap(_binding(user_id), wrapped)
    return base64.b64encode(head + target.wrap(_binding(user_id), key) + rest).decode()


def totp_wrapped_under(stored: str) -> bytes:
    """The master key id the sealed secret's key is wrapped under (b"" if unreadable)."""
    try:
        raw = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        return b""
    return bytes(raw[12 + 5 : 12 + 13])
