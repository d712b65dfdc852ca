"""Custody: the audit hash chain with signed checkpoints, Merkle proofs, envelope encryption.

Infrastructure layer: no web, no database. The store writes audit rows; this package says
how a row is hashed, how the log is checkpointed and signed, and how a copy is verified.

- :mod:`~labelproof.custody.merkle`: RFC 6962 tree, inclusion and consistency proofs.
- :mod:`~labelproof.custody.chain`: entry hashing, :class:`AuditLog`, :func:`verify_log`.
- :mod:`~labelproof.custody.checkpoint`: the signed :class:`Checkpoint`.
- :mod:`~labelproof.custody.keys`: the Ed25519 signing key file.
- :mod:`~labelproof.custody.proofs`: inclusion proofs and export files.
- :mod:`~labelproof.custody.crypto` / :mod:`~labelproof.custody.keyring`: AES-256-GCM
  envelope encryption, data keys wrapped by a master key.
"""

from labelproof.custody.chain import (
    EVENT_FIELDS,
    AuditLog,
    Failure,
    FailureKind,
    VerifyReport,
    canonical_bytes,
    compute_entry_hash,
    verify_log,
)
from labelproof.custody.checkpoint import Checkpoint, sign_checkpoint
from labelproof.custody.crypto import (
    DataKey,
    decrypt,
    decrypt_stream,
    encrypt,
    encrypt_stream,
    new_data_key,
)
from labelproof.custody.errors import InvalidProof, TamperedCiphertext, UnknownKey
from labelproof.custody.keyring import KeyProvider, LocalKeyProvider, rewrap
from labelproof.custody.keys import load_or_create_signing_key, load_public_key, public_key_pem
from labelproof.custody.proofs import dump_export, inclusion_proof_for, load_export, verify_proof

__all__ = [
    "EVENT_FIELDS",
    "AuditLog",
    "Checkpoint",
    "DataKey",
    "Failure",
    "FailureKind",
    "InvalidProof",
    "KeyProvider",
    "LocalKeyProvider",
    "TamperedCiphertext",
    "UnknownKey",
    "VerifyReport",
    "canonical_bytes",
    "compute_entry_hash",
    "decrypt",
    "decrypt_stream",
    "dump_export",
    "encrypt",
    "encrypt_stream",
    "inclusion_proof_for",
    "load_export",
    "load_or_create_signing_key",
    "load_public_key",
    "new_data_key",
    "public_key_pem",
    "rewrap",
    "sign_checkpoint",
    "verify_log",
    "verify_proof",
]
