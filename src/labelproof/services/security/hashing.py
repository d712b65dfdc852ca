"""Password hashing: argon2id at OWASP's minimum profile (19 MiB, t=2, p=1)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_new", "needs_rehash", "spend_time", "verify_password"]

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def hash_new(password: str) -> str:
    """The argon2id hash of ``password`` (rules are checked by the caller)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash)."""
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return bool(_hasher.check_needs_rehash(password_hash))


def spend_time(password: str) -> None:
    """Verify against a dummy hash, so an unknown email costs as long as a wrong password."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)
