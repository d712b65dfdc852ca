"""Custody errors, all inside the one tree of :mod:`labelproof.errors`.

LabelproofError
├── TamperedCiphertext        a ciphertext, header or wrapped key fails authentication
├── InvalidInput
│   └── InvalidProof          a proof document that is malformed (not merely false)
└── ConfigurationError
    └── UnknownKey            no key with the id a ciphertext or wrapped key names
"""

from __future__ import annotations

from labelproof.errors import ConfigurationError, InvalidInput, LabelproofError

__all__ = ["InvalidProof", "TamperedCiphertext", "UnknownKey"]


class TamperedCiphertext(LabelproofError):
    """Authentication failed: the bytes were altered, truncated, or belong to another key,
    project or context. Nothing of the plaintext is returned."""

    code = "tampered_ciphertext"


class UnknownKey(ConfigurationError):
    """A ciphertext or wrapped key names a key id this installation does not hold."""

    code = "unknown_key"


class InvalidProof(InvalidInput):
    """A proof or checkpoint document that cannot be read (wrong format, field or type)."""

    code = "invalid_proof"
