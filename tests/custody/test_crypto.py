"""Envelope encryption: round trips, tampering, wrong keys, rotation, streaming."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.custody.crypto import (
    DataKey,
    LocalKeyProvider,
    decrypt,
    decrypt_stream,
    encrypt,
    encrypt_stream,
    new_data_key,
    rewrap,
)
from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.custody.keyring import (
    MASTER_KEY_ENV,
    KeyProvider,
    master_key_id,
    write_master_key_file,
)
from labelproof.errors import ConfigurationError, InvalidInput, LabelproofError


def test_tampered_ciphertext_is_a_labelproof_error() -> None:
    assert issubclass(TamperedCiphertext, LabelproofError)
    assert issubclass(UnknownKey, ConfigurationError)


def test_blob_round_trip_and_header() -> None:
    dek = new_data_key()
    blob = encrypt(dek, b"pixels", aad=b"asset:7")
    assert blob[:4] == b"LPEC" and blob[4] == 1 and blob[5:13] == dek.key_id
    assert len(blob) == 25 + 6 + 16
    assert decrypt(dek, blob, aad=b"asset:7") == b"pixels"
    assert encrypt(dek, b"pixels", b"asset:7") != blob  # fresh nonce every time
    assert decrypt(dek, encrypt(dek, b""), b"") == b""


def test_data_key_repr_hides_the_secret() -> None:
    dek = new_data_key()
    assert dek.key.hex() not in repr(dek) and "key_id" in repr(dek)
    with pytest.raises(InvalidInput) as exc:
        DataKey(b"short", bytes(32))
    assert exc.value.field == "key_id"


@pytest.mark.parametrize("position", [0, 4, 5, 12, 13, 24, 25, 30, -1])
def test_any_flipped_byte_is_refused(position: int) -> None:
    dek = new_data_key()
    blob = bytearray(encrypt(dek, b"secret scan", b"a"))
    blob[position] ^= 0x01
    with pytest.raises((TamperedCiphertext, UnknownKey)):
        decrypt(dek, bytes(blob), b"a")


def test_wrong_context_wrong_key_short_input() -> None:
    dek = new_data_key()
    blob = encrypt(dek, b"x", b"asset:1")
    with pytest.raises(TamperedCiphertext, match="authentication"):
        decrypt(dek, blob, b"asset:2")
    impostor = DataKey(dek.key_id, os.urandom(32))
    with pytest.raises(TamperedCiphertext):
        decrypt(impostor, blob, b"asset:1")
    with pytest.raises(UnknownKey) as exc:
        decrypt(new_data_key(), blob, b"asset:1")
    assert exc.value.details["key_id"] == dek.key_id.hex()
    with pytest.raises(TamperedCiphertext, match="shorter"):
        decrypt(dek, blob[:30], b"asset:1")
    with pytest.raises(TamperedCiphertext, match="magic"):
        decrypt(dek, b"PK\x03\x04" + blob[4:], b"asset:1")


def test_data_key_rotation_keeps_old_blobs_readable() -> None:
    old, new = new_data_key(), new_data_key()
    old_blob, new_blob = encrypt(old, b"2019 scan"), encrypt(new, b"2025 scan")
    ring = [new, old]
    assert decrypt(ring, old_blob) == b"2019 scan"
    assert decrypt(ring, new_blob) == b"2025 scan"
    with pytest.raises(UnknownKey):
        decrypt([new], old_blob)


@pytest.fixture
def master() -> bytes:
    return os.urandom(32)


def test_wrap_binds_the_project(master: bytes) -> None:
    provider = LocalKeyProvider(master)
    assert isinstance(provider, KeyProvider)
    dek = new_data_key()
    wrapped = provider.wrap(12, dek.key)
    assert len(wrapped) == 73 and wrapped[5:13] == master_key_id(master)
    assert provider.unwrap("12", wrapped) == dek.key
    with pytest.raises(TamperedCiphertext, match="project 13"):
        provider.unwrap(13, wrapped)
    with pytest.raises(UnknownKey):
        LocalKeyProvider(os.urandom(32)).unwrap(12, wrapped)
    flipped = bytearray(wrapped)
    flipped[-1] ^= 1
    with pytest.raises(TamperedCiphertext):
        provider.unwrap(12, bytes(flipped))
    with pytest.raises(TamperedCiphertext):
        provider.unwrap(12, wrapped[:-1])


def test_master_key_rotation_rewraps_without_touching_blobs(master: bytes) -> None:
    old = LocalKeyProvider(master)
    dek = new_data_key()
    wrapped = old.wrap("p", dek.key)
    blob = encrypt(dek, b"image bytes", b"asset:9")
    new_master = os.urandom(32)
    rotated = LocalKeyProvider(new_master, retired=[master])
    assert not rotated.is_current(wrapped)
    assert rotated.unwrap("p", wrapped) == dek.key  # retired key still opens old wraps
    rewrapped = rewrap("p", wrapped, source=rotated, target=rotated)
    assert rotated.is_current(rewrapped)
    only_new = LocalKeyProvider(new_master)
    recovered = DataKey(dek.key_id, only_new.unwrap("p", rewrapped))
    assert decrypt(recovered, blob, b"asset:9") == b"image bytes"
    with pytest.raises(UnknownKey):
        only_new.unwrap("p", wrapped)


def test_master_key_loading(tmp_path: Path, master: bytes) -> None:
    text = base64.b64encode(master).decode()
    assert LocalKeyProvider.from_env({MASTER_KEY_ENV: text}).key_id == master_key_id(master)
    with pytest.raises(ConfigurationError, match="no master key"):
        LocalKeyProvider.from_env({})
    with pytest.raises(ConfigurationError, match="not base64"):
        LocalKeyProvider.from_env({MASTER_KEY_ENV: "not base64!"})
    with pytest.raises(ConfigurationError, match="16 bytes"):
        LocalKeyProvider.from_env({MASTER_KEY_ENV: base64.b64encode(bytes(16)).decode()})
    path = tmp_path / "master.key"
    write_master_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    provider = LocalKeyProvider.load(path, environ={})
    assert provider.unwrap(1, provider.wrap(1, bytes(32))) == bytes(32)
    path.chmod(0o640)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        LocalKeyProvider.from_file(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        LocalKeyProvider.from_file(tmp_path / "absent.key")
    with pytest.raises(FileExistsError):
        write_master_key_file(path)


def _stream_encrypt(dek: DataKey, data: bytes, chunk: int, aad: bytes = b"") -> bytes:
    out = io.BytesIO()
    n = encrypt_stream(dek, io.BytesIO(data), out, aad, chunk_size=chunk)
    assert n == len(out.getvalue())
    return out.getvalue()


def _stream_decrypt(keys: DataKey, sealed: bytes, aad: bytes = b"") -> bytes:
    out = io.BytesIO()
    n = decrypt_stream(keys, io.BytesIO(sealed), out, aad)
    assert n == len(out.getvalue())
    return out.getvalue()


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_stream_round_trip(data: bytes, chunk: int) -> None:
    dek = new_data_key()
    sealed = _stream_encrypt(dek, data, chunk, b"asset:3")
    chunks = max(1, -(-len(data) // chunk))  # a final empty chunk only for empty input
    assert len(sealed) == 24 + len(data) + 16 * chunks
    assert _stream_decrypt(dek, sealed, b"asset:3") == data


def test_stream_truncation_and_tampering() -> None:
    dek = new_data_key()
    data = os.urandom(100)
    sealed = _stream_encrypt(dek, data, 10)  # 10 chunks of 10 + 16 bytes
    per = 26
    for cut in (24 + per * 9, 24 + per * 5, 24 + per * 5 + 7, len(sealed) - 1):
        with pytest.raises(TamperedCiphertext):
            _stream_decrypt(dek, sealed[:cut])
    with pytest.raises(TamperedCiphertext, match="header"):
        _stream_decrypt(dek, sealed[:10])
    swapped = (
        sealed[:24]
        + sealed[24 + per : 24 + 2 * per]
        + sealed[24 : 24 + per]
        + sealed[24 + 2 * per :]
    )
    with pytest.raises(TamperedCiphertext, match="chunk 0"):
        _stream_decrypt(dek, swapped)
    extended = sealed + sealed[24 : 24 + per]
    with pytest.raises(TamperedCiphertext):
        _stream_decrypt(dek, extended)
    with pytest.raises(TamperedCiphertext):
        _stream_decrypt(dek, sealed, b"other asset")
    with pytest.raises(InvalidInput):
        _stream_encrypt(dek, data, 0)
