"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), with the standard library.

The profile every authenticator app understands: HMAC-SHA-1, 6 digits, 30-second steps
counted from the Unix epoch, a secret of 20 random bytes (160 bits, RFC 4226 §4 R6)
shown as unpadded base32. A code is accepted in its own step or one step either side
(clock drift of up to 30 s); the caller keeps the last accepted step so a code is never
accepted twice (RFC 6238 §5.2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

from labelproof.errors import InvalidInput

__all__ = [
    "DIGITS",
    "SECRET_BYTES",
    "STEP_SECONDS",
    "WINDOW",
    "from_base32",
    "hotp",
    "new_secret",
    "otpauth_uri",
    "step_at",
    "to_base32",
    "totp",
    "verify",
]

DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1
SECRET_BYTES = 20
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter`` (0 <= counter < 2**64) as ``digits`` decimal digits.

    Dynamic truncation (§5.3): the low 4 bits of the last MAC byte give an offset; the
    31-bit big-endian integer there, modulo 10**digits, zero-padded.
    """
    if not 0 <= counter < 2**64:
        raise InvalidInput(f"HOTP counter {counter} is outside 0..2**64-1", field="counter")
    if not 6 <= digits <= 10:
        raise InvalidInput(f"digits must be 6-10, got {digits}", field="digits")
    digest = _ALGORITHMS[algorithm]
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(unix_seconds: float, *, step: int = STEP_SECONDS) -> int:
    """The RFC 6238 time step T = floor(unix_seconds / step) (T0 = 0)."""
    return int(unix_seconds // step)


def totp(
    key: bytes,
    unix_seconds: float,
    *,
    digits: int = DIGITS,
    step: int = STEP_SECONDS,
    algorithm: str = "sha1",
) -> str:
    """RFC 6238 TOTP value at ``unix_seconds`` (seconds since 1970-01-01T00:00:00Z)."""
    return hotp(key, step_at(unix_seconds, step=step), digits=digits, algorithm=algorithm)


def verify(
    key: bytes,
    code: str,
    unix_seconds: float,
    *,
    last_step: int | None = None,
    window: int = WINDOW,
) -> int | None:
    """The step whose code equals ``code``, searching ``window`` steps either side of now;
    None when no step matches or the match is not later than ``last_step`` (a replay).

    ``code`` may contain spaces (``"123 456"``); anything but 6 digits never matches.
    Every candidate is compared in constant time.
    """
    code = code.replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(unix_seconds)
    found: int | None = None
    for candidate in range(now - window, now + window + 1):
        if candidate < 0:
            continue
        if hmac.compare_digest(hotp(key, candidate), code) and found is None:
            found = candidate
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def new_secret() -> bytes:
    """20 random bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def to_base32(secret: bytes) -> str:
    """Unpadded upper-case base32 (RFC 4648), the form authenticator apps take."""
    return base64.b32encode(secret).decode().rstrip("=")


def from_base32(text: str) -> bytes:
    """Inverse of :func:`to_base32`; spaces and case are ignored, padding optional."""
    clean = text.replace(" ", "").upper()
    clean += "=" * (-len(clean) % 8)
    try:
        return base64.b32decode(clean)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{text!r} is not base32", field="secret") from None


def otpauth_uri(secret: bytes, *, account: str, issuer: str = "labelproof") -> str:
    """The ``otpauth://totp/`` URI (Google Authenticator key-URI format) for a QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": to_base32(secret),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"
