"""One-time recovery codes for a lost authenticator.

When a TOTP second factor is turned on the user gets :data:`COUNT` codes, shown once. Each
is 16 characters from a 32-letter alphabet without look-alikes (80 random bits), written
``xxxx-xxxx-xxxx-xxxx``; case, spaces and dashes do not matter when typed. Only SHA-256
over a label, the user id and the normalised code is stored (``recovery_codes``): with 80
bits of entropy a fast hash leaves no offline guessing, and the user id makes equal codes of
two users (vanishingly unlikely anyway) hash differently.

A code is spent by one conditional UPDATE (``used_at IS NULL`` in the WHERE clause), so two
sign-ins racing with the same code cannot both succeed, on either database. Generating a
new set deletes the old one.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from labelproof.services.security.sessions import now
from labelproof.store.models import RecoveryCode

__all__ = ["ALPHABET", "COUNT", "consume", "issue", "looks_like_code", "remaining", "revoke_all"]

COUNT = 10
LENGTH = 16
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 letters: no l, o, 0, 1
assert len(set(ALPHABET)) == 32


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def looks_like_code(code: str) -> bool:
    """Whether ``code`` has the form of a recovery code (never a 6-digit TOTP code)."""
    plain = _normalise(code)
    return len(plain) == LENGTH and all(c in ALPHABET for c in plain)


def _digest(user_id: int, code: str) -> str:
    return hashlib.sha256(
        f"labelproof recovery code v1|{user_id}|{_normalise(code)}".encode()
    ).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def issue(db: Session, user_id: int) -> list[str]:
    """A new set of codes for ``user_id`` (the old set is deleted); shown once."""
    revoke_all(db, user_id)
    codes = [_new_code() for _ in range(COUNT)]
    db.add_all(RecoveryCode(user_id=user_id, code_sha256=_digest(user_id, c)) for c in codes)
    db.flush()
    return codes


def revoke_all(db: Session, user_id: int) -> int:
    """Delete every code of ``user_id``; returns how many were still unused."""
    left = remaining(db, user_id)
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    return left


def consume(db: Session, user_id: int, code: str) -> bool:
    """Spend ``code`` if it is one of the user's unused codes (at most once, ever)."""
    if not looks_like_code(code):
        return False
    result = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_sha256 == _digest(user_id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def remaining(db: Session, user_id: int) -> int:
    """How many unused codes ``user_id`` has."""
    return int(
        db.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )
