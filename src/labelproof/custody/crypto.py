"""Envelope encryption: AES-256-GCM blobs under per-project data keys wrapped by a master key.

Formats (all integers big-endian; the header is authenticated as associated data):

- blob: ``b"LPEC" | version 1 | data key id (8) | nonce (12) | ciphertext | tag (16)``,
  GCM associated data ``header || aad``; 40 bytes of overhead.
- stream: ``b"LPES" | version 1 | data key id (8) | nonce prefix (7) | chunk size u32``,
  then chunks of ``chunk size`` plaintext bytes (the last may be shorter, even empty), each
  sealed with nonce ``prefix || counter u32 || last flag u8`` and associated data
  ``header || aad`` (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, 2015).
  Reordered, dropped or appended chunks, and truncation at any point, fail authentication.
- wrapped data key: produced by a :class:`KeyProvider`; see :mod:`labelproof.custody.keyring`.

Data keys carry an 8-byte random id that every ciphertext names, so rotating a project's
data key leaves old blobs readable with the old key; rotating the master key re-wraps data
keys (:func:`~labelproof.custody.keyring.rewrap`) without touching blobs.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.custody.keyring import KeyProvider, LocalKeyProvider, rewrap
from labelproof.errors import InvalidInput

__all__ = [
    "BLOB_MAGIC",
    "DEFAULT_CHUNK_SIZE",
    "STREAM_MAGIC",
    "DataKey",
    "KeyProvider",
    "LocalKeyProvider",
    "TamperedCiphertext",
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "new_data_key",
    "rewrap",
]

BLOB_MAGIC = b"LPEC"
STREAM_MAGIC = b"LPES"
VERSION = 1
KEY_ID_SIZE = 8
NONCE_SIZE = 12
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 64 * 1024
_BLOB_HEADER = struct.Struct(">4sB8s12s")  # 25 bytes
_STREAM_HEADER = struct.Struct(">4sB8s7sI")  # 24 bytes
_MAX_CHUNKS = 2**32


@dataclass(frozen=True)
class DataKey:
    """A project's data key: 8-byte id (stored in every ciphertext) and 32 secret bytes."""

    key_id: bytes
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_SIZE:
            raise InvalidInput(
                f"data key id must be 8 bytes, got {len(self.key_id)}", field="key_id"
            )
        if len(self.key) != 32:
            raise InvalidInput(f"data key must be 32 bytes, got {len(self.key)}", field="key")


def new_data_key() -> DataKey:
    """A fresh random AES-256 data key with a random id."""
    return DataKey(os.urandom(KEY_ID_SIZE), AESGCM.generate_key(bit_length=256))


def _keyring(keys: DataKey | Iterable[DataKey]) -> dict[bytes, DataKey]:
    if isinstance(keys, DataKey):
        return {keys.key_id: keys}
    return {k.key_id: k for k in keys}


def _pick(keys: DataKey | Iterable[DataKey], key_id: bytes) -> DataKey:
    ring = _keyring(keys)
    if key_id not in ring:
        raise UnknownKey(
            f"the ciphertext names data key {key_id.hex()}, which is not among the"
            f" {len(ring)} key(s) given",
            field="key_id",
            key_id=key_id.hex(),
        )
    return ring[key_id]


def encrypt(dek: DataKey, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Seal ``plaintext`` under ``dek``; ``aad`` (e.g. the asset id) must match on decrypt."""
    nonce = os.urandom(NONCE_SIZE)
    header = _BLOB_HEADER.pack(BLOB_MAGIC, VERSION, dek.key_id, nonce)
    return header + AESGCM(dek.key).encrypt(nonce, plaintext, header + aad)


def decrypt(keys: DataKey | Iterable[DataKey], blob: bytes, aad: bytes = b"") -> bytes:
    """Open a blob made by :func:`encrypt`, choosing the data key by the id in its header.

    Raises :class:`TamperedCiphertext` if the blob is short, not of this format, altered, or
    sealed with other associated data; :class:`UnknownKey` if its key id is not in ``keys``.
    """
    size = _BLOB_HEADER.size
    if len(blob) < size + TAG_SIZE:
        raise TamperedCiphertext(
            f"ciphertext is {len(blob)} bytes, shorter than the {size + TAG_SIZE}-byte minimum",
            field="ciphertext",
        )
    magic, version, key_id, nonce = _BLOB_HEADER.unpack_from(blob)
    if magic != BLOB_MAGIC:
        raise TamperedCiphertext(
            f"not a labelproof ciphertext (magic {magic!r})", field="ciphertext"
        )
    if version != VERSION:
        raise TamperedCiphertext(f"unknown ciphertext version {version}", field="ciphertext")
    dek = _pick(keys, key_id)
    try:
        return AESGCM(dek.key).decrypt(nonce, blob[size:], blob[:size] + aad)
    except InvalidTag:
        raise TamperedCiphertext(
            "ciphertext failed authentication: it was altered, or the key or context differs",
            field="ciphertext",
        ) from None


def _chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _MAX_CHUNKS:
        raise InvalidInput("stream too long for one data key nonce space", field="stream")
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _read_full(src: BinaryIO, n: int) -> bytes:
    parts: list[bytes] = []
    need = n
    while need:
        part = src.read(need)
        if not part:
            break
        parts.append(part)
        need -= len(part)
    return b"".join(parts)


def encrypt_stream(
    dek: DataKey,
    src: BinaryIO,
    dst: BinaryIO,
    aad: bytes = b"",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Encrypt ``src`` to ``dst`` chunk by chunk; returns the ciphertext bytes written.

    Memory stays at two chunks whatever the size of the stream.
    """
    if not 1 <= chunk_size <= 2**30:
        raise InvalidInput(f"chunk size {chunk_size} outside 1..2**30", field="chunk_size")
    prefix = os.urandom(7)
    header = _STREAM_HEADER.pack(STREAM_MAGIC, VERSION, dek.key_id, prefix, chunk_size)
    aead, assoc = AESGCM(dek.key), header + aad
    dst.write(header)
    written = len(header)
    counter = 0
    current = _read_full(src, chunk_size)
    while True:
        following = _read_full(src, chunk_size) if len(current) == chunk_size else b""
        last = not following
        sealed = aead.encrypt(_chunk_nonce(prefix, counter, last), current, assoc)
        dst.write(sealed)
        written += len(sealed)
        if last:
            return written
        current = following
        counter += 1


def decrypt_stream(
    keys: DataKey | Iterable[DataKey], src: BinaryIO, dst: BinaryIO, aad: bytes = b""
) -> int:
    """Decrypt a stream made by :func:`encrypt_stream`; returns the plaintext bytes written.

    Each chunk is authenticated before it is written, and a stream cut short (at a chunk
    boundary or not) raises :class:`TamperedCiphertext` at its end: a caller must discard
    what it wrote to ``dst`` when this raises.
    """
    header = _read_full(src, _STREAM_HEADER.size)
    if len(header) < _STREAM_HEADER.size:
        raise TamperedCiphertext("stream is shorter than its header", field="ciphertext")
    magic, version, key_id, prefix, chunk_size = _STREAM_HEADER.unpack(header)
    if magic != STREAM_MAGIC:
        raise TamperedCiphertext(f"not a labelproof stream (magic {magic!r})", field="ciphertext")
    if version != VERSION:
        raise TamperedCiphertext(f"unknown stream version {version}", field="ciphertext")
    if not 1 <= chunk_size <= 2**30:
        raise TamperedCiphertext(f"stream header names chunk size {chunk_size}", field="ciphertext")
    dek = _pick(keys, key_id)
    aead, assoc = AESGCM(dek.key), header + aad
    sealed_size = chunk_size + TAG_SIZE
    written = 0
    counter = 0
    current = _read_full(src, sealed_size)
    while True:
        following = _read_full(src, sealed_size) if len(current) == sealed_size else b""
        last = not following
        try:
            plain = aead.decrypt(_chunk_nonce(prefix, counter, last), current, assoc)
        except InvalidTag:
            where = "final chunk (the stream may be truncated)" if last else f"chunk {counter}"
            raise TamperedCiphertext(
                f"stream failed authentication at {where}", field="ciphertext", chunk=counter
            ) from None
        dst.write(plain)
        written += len(plain)
        if last:
            return written
        current = following
        counter += 1
