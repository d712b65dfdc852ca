"""Signed checkpoints of the audit log: (tree size, Merkle root, last entry hash, UTC time).

The signed message is a fixed text form, so any Ed25519 tool can check it::

    labelproof audit checkpoint v1
    <tree_size>
    <root, 64 hex>
    <last_entry_hash, 64 hex>
    <at, YYYY-MM-DDTHH:MM:SS.ffffffZ>
    <key_id, 16 hex>
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from labelproof.custody.errors import InvalidProof
from labelproof.custody.keys import key_id

__all__ = ["Checkpoint", "format_utc", "parse_utc", "sign_checkpoint"]

_HEADER = b"labelproof audit checkpoint v1\n"


def format_utc(at: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; a naive datetime is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidProof(f"time {at.isoformat()} has no time zone", field="at")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str, field: str = "at") -> datetime:
    """The inverse of :func:`format_utc` (any ISO 8601 with an offset is accepted)."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidProof(f"{field} is not an ISO 8601 time: {text!r}", field=field) from None
    if at.tzinfo is None:
        raise InvalidProof(f"{field} has no time zone: {text!r}", field=field)
    return at.astimezone(UTC)


def _hex32(value: Any, field: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise InvalidProof(f"{field} is not hex: {value!r}", field=field) from None
    if len(raw) != 32:
        raise InvalidProof(f"{field} must be 32 bytes, got {len(raw)}", field=field)
    return raw


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the log had ``tree_size`` entries with this root and last hash.

    ``root`` and ``last_entry_hash`` are 32-byte SHA-256 values; ``signature`` is the
    64-byte Ed25519 signature over :meth:`signed_bytes` (empty while unsigned).
    """

    tree_size: int
    root: bytes
    last_entry_hash: bytes
    at: datetime
    key_id: str
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        """The exact bytes the signature covers."""
        body = (
            f"{self.tree_size}\n{self.root.hex()}\n{self.last_entry_hash.hex()}\n"
            f"{format_utc(self.at)}\n{self.key_id}\n"
        )
        return _HEADER + body.encode()

    def verify_signature(self, public_key: Ed25519PublicKey) -> bool:
        """Whether ``public_key`` is the signer named by ``key_id`` and the signature holds."""
        if key_id(public_key) != self.key_id:
            return False
        try:
            public_key.verify(self.signature, self.signed_bytes())
        except InvalidSignature:
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "last_entry_hash": self.last_entry_hash.hex(),
            "at": format_utc(self.at),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        if not isinstance(data, Mapping):
            raise InvalidProof("a checkpoint must be a JSON object", field="checkpoint")
        missing = [
            k
            for k in ("tree_size", "root", "last_entry_hash", "at", "key_id", "signature")
            if k not in data
        ]
        if missing:
            raise InvalidProof(f"checkpoint lacks {', '.join(missing)}", field=missing[0])
        size = data["tree_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidProof(
                f"tree_size must be an integer >= 0, got {size!r}", field="tree_size"
            )
        if not isinstance(data["at"], str):
            raise InvalidProof("at must be a string", field="at")
        if not isinstance(data["key_id"], str):
            raise InvalidProof("key_id must be a string", field="key_id")
        try:
            signature = base64.b64decode(data["signature"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise InvalidProof("signature is not base64", field="signature") from None
        return cls(
            tree_size=size,
            root=_hex32(data["root"], "root"),
            last_entry_hash=_hex32(data["last_entry_hash"], "last_entry_hash"),
            at=parse_utc(data["at"]),
            key_id=data["key_id"],
            signature=signature,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidProof(f"checkpoint is not JSON: {exc}", field="checkpoint") from None
        return cls.from_dict(data)


def sign_checkpoint(
    *,
    tree_size: int,
    root: bytes,
    last_entry_hash: bytes,
    private_key: Ed25519PrivateKey,
    at: datetime | None = None,
) -> Checkpoint:
    """A checkpoint over the given state, signed with ``private_key`` (time: now, UTC)."""
    if at is not None:
        format_utc(at)  # refuses a naive time
    unsigned = Checkpoint(
        tree_size=tree_size,
        root=root,
        last_entry_hash=last_entry_hash,
        at=(at or datetime.now(UTC)).astimezone(UTC),
        key_id=key_id(private_key.public_key()),
    )
    return replace(unsigned, signature=private_key.sign(unsigned.signed_bytes()))
