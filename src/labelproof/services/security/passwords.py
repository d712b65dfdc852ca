"""Password rules: at least 12 characters, not the email, not a well-known common password.

NIST SP 800-63B §5.1.1.2 asks for a minimum length (8; we use 12), a check against a list
of commonly used or breached values and context words (the user name), and no composition
rules (no "one digit, one symbol"); that is what is checked here, nothing more. The list
is ``common_passwords.txt`` beside this module (lower case, compared case-insensitively).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from labelproof.errors import InvalidInput

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "check_password", "common_passwords"]

MIN_LENGTH = 12
MAX_LENGTH = 1000
_LIST = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list, lower case (comments and blank lines skipped)."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.startswith("#"))


def check_password(password: str, *, email: str | None = None) -> None:
    """Raise ``InvalidInput`` (field ``password``) naming the first rule ``password`` breaks."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_LENGTH} characters (got {len(password)})",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_LENGTH} characters", field="password")
    folded = password.strip().lower()
    if email:
        address = email.strip().lower()
        if folded in {address, address.split("@", 1)[0]}:
            raise InvalidInput("password must not be your email address", field="password")
    if folded in common_passwords() or len(set(folded)) == 1:
        raise InvalidInput(
            "password is one of the most common passwords; choose another", field="password"
        )
