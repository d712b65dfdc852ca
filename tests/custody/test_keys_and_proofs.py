"""Signing keys on disk, inclusion proofs, and log export files."""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from labelproof.custody.errors import InvalidProof
from labelproof.custody.keys import (
    SIGNING_KEY_FILE,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
)
from labelproof.custody.proofs import (
    dump_export,
    inclusion_proof_for,
    load_export,
    verify_proof,
)
from labelproof.errors import ConfigurationError, InvalidFile, InvalidInput

from .conftest import build_log


def test_signing_key_created_once_with_0600(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key = load_or_create_signing_key(folder)
    path = folder / SIGNING_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_signing_key(folder)
    assert key_id(again.public_key()) == key_id(key.public_key())
    pem = public_key_pem(key)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key_id(load_public_key(pem)) == key_id(key.public_key())
    (tmp_path / "pub.pem").write_bytes(pem)
    assert key_id(load_public_key(tmp_path / "pub.pem")) == key_id(key.public_key())


def test_signing_key_refuses_loose_modes_and_bad_files(tmp_path: Path) -> None:
    load_or_create_signing_key(tmp_path)
    path = tmp_path / SIGNING_KEY_FILE
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_signing_key(tmp_path)
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigurationError, match="not an unencrypted PEM"):
        load_or_create_signing_key(tmp_path)
    ec = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(ec)
    with pytest.raises(ConfigurationError, match="not Ed25519"):
        load_or_create_signing_key(tmp_path)


def test_load_public_key_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        load_public_key(b"garbage")
    assert exc.value.field == "public_key"
    with pytest.raises(InvalidInput):
        load_public_key(tmp_path / "absent.pem")


def test_inclusion_proofs_verify_and_catch_lies(signing_key: Ed25519PrivateKey) -> None:
    log, cps = build_log(21, signing_key, (13, 21))
    public = signing_key.public_key()
    for event_id in (1, 7, 13, 21):
        proof = inclusion_proof_for(log, event_id, cps[-1])
        text = orjson.dumps(proof)
        result = verify_proof(text, public)
        assert result.ok, result.reason
        assert result.event_id == event_id
    proof = inclusion_proof_for(log, 4, cps[0])
    assert verify_proof(proof, public).ok
    assert proof["tree_size"] == 13 and len(proof["path"]) == 4

    edited = copy.deepcopy(proof)
    edited["event"]["action"] = "nothing.happened"
    assert not verify_proof(edited, public).ok
    moved = copy.deepcopy(proof)
    moved["leaf_index"] = 5
    assert not verify_proof(moved, public).ok
    bad_path = copy.deepcopy(proof)
    bad_path["path"][0] = "00" * 32
    assert "audit path" in verify_proof(bad_path, public).reason
    assert not verify_proof(proof, Ed25519PrivateKey.generate().public_key()).ok


def test_inclusion_proof_arguments(signing_key: Ed25519PrivateKey) -> None:
    log, cps = build_log(10, signing_key, (5, 10))
    with pytest.raises(InvalidInput) as exc:
        inclusion_proof_for(log, 8, cps[0])
    assert exc.value.field == "event_id"
    with pytest.raises(InvalidInput):
        inclusion_proof_for(log, 99, cps[1])


def test_malformed_proof_documents(signing_key: Ed25519PrivateKey) -> None:
    public = signing_key.public_key()
    with pytest.raises(InvalidProof):
        verify_proof(b"{not json", public)
    with pytest.raises(InvalidProof) as exc:
        verify_proof({"format": "something-else"}, public)
    assert exc.value.field == "format"
    log, cps = build_log(3, signing_key, (3,))
    proof = inclusion_proof_for(log, 2, cps[0])
    del proof["checkpoint"]["root"]
    with pytest.raises(InvalidProof) as exc:
        verify_proof(proof, public)
    assert exc.value.field == "root"


def test_export_round_trip_and_errors(tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    log, cps = build_log(12, signing_key, (6, 12))
    path = tmp_path / "audit.json"
    path.write_bytes(dump_export(log.entries, cps))
    entries, checkpoints = load_export(path)
    assert entries == log.entries and checkpoints == cps
    path.write_bytes(b"[]")
    with pytest.raises(InvalidFile):
        load_export(path)
    with pytest.raises(InvalidFile):
        load_export(tmp_path / "missing.json")
