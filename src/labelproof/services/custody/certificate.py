"""Certificates of destruction, in the style of NIST SP 800-88 Rev. 1 (Appendix G).

A certificate is a JSON document signed with the installation's Ed25519 audit key. The
signature covers the canonical bytes (sorted keys, compact) of every field but
``signature``; ``signature`` holds the algorithm, the key id and the value (base64)::

    {"format": "labelproof-destruction-certificate", "version": 1,
     "certificate_id": ..., "subject": {...}, "sanitization": {...}, "destroyed": {...},
     "performed_by": {...}, "approved_by": {...}, "requested": {...}, "completed_at": ...,
     "verification": {...}, "audit": {"event_id": ..., "checkpoint": {...}},
     "signature": {"algorithm": "Ed25519", "key_id": ..., "value": ...}}

No database, no web: this module builds, signs and checks documents only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from labelproof.custody.checkpoint import Checkpoint
from labelproof.custody.keys import key_id
from labelproof.errors import InvalidFile

__all__ = [
    "CERTIFICATE_FORMAT",
    "CertificateCheck",
    "sign_certificate",
    "signed_bytes",
    "verify_certificate",
]

CERTIFICATE_FORMAT = "labelproof-destruction-certificate"
_REQUIRED = (
    "certificate_id",
    "subject",
    "sanitization",
    "destroyed",
    "performed_by",
    "approved_by",
    "completed_at",
    "verification",
    "audit",
)


def signed_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: every field but ``signature``, canonical JSON."""
    body = {k: v for k, v in document.items() if k != "signature"}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign_certificate(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` with its ``signature`` (Ed25519 over :func:`signed_bytes`)."""
    body = {k: v for k, v in document.items() if k != "signature"}
    body["format"] = CERTIFICATE_FORMAT
    body["version"] = 1
    signature = private_key.sign(signed_bytes(body))
    body["signature"] = {
        "algorithm": "Ed25519",
        "key_id": key_id(private_key.public_key()),
        "value": base64.b64encode(signature).decode(),
    }
    return body


@dataclass(frozen=True)
class CertificateCheck:
    ok: bool
    reason: str
    certificate_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "certificate_id": self.certificate_id}


def verify_certificate(document: Any, public_key: Ed25519PublicKey) -> CertificateCheck:
    """Check a certificate's form, its signature and its embedded audit checkpoint.

    Raises ``InvalidFile`` for a document that is not a certificate; returns ``ok=False``
    with the reason for one whose signature or checkpoint does not hold.
    """
    if not isinstance(document, Mapping) or document.get("format") != CERTIFICATE_FORMAT:
        raise InvalidFile(f"not a {CERTIFICATE_FORMAT} document", field="format")
    if document.get("version") != 1:
        raise InvalidFile(f"unsupported version {document.get('version')!r}", field="version")
    missing = [k for k in _REQUIRED if k not in document]
    if missing:
        raise InvalidFile(f"certificate lacks {', '.join(missing)}", field=missing[0])
    cert_id = str(document["certificate_id"])
    sig = document.get("signature")
    if not isinstance(sig, Mapping) or sig.get("algorithm") != "Ed25519":
        raise InvalidFile("signature must be an Ed25519 signature object", field="signature")
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFile("signature value is not base64", field="signature.value") from None
    if sig.get("key_id") != key_id(public_key):
        return CertificateCheck(
            False, f"signed by key {sig.get('key_id')}, not by the given key", cert_id
        )
    try:
        public_key.verify(value, signed_bytes(document))
    except InvalidSignature:
        return CertificateCheck(False, "the signature does not match the content", cert_id)
    audit = document["audit"]
    checkpoint = Checkpoint.from_dict(
        audit.get("checkpoint") if isinstance(audit, Mapping) else None
    )
    if not checkpoint.verify_signature(public_key):
        return CertificateCheck(
            False, "the embedded audit checkpoint is not validly signed", cert_id
        )
    return CertificateCheck(True, f"certificate {cert_id} is signed and intact", cert_id)
