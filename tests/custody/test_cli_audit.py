"""``labelproof audit verify-export`` and ``audit proof-verify`` on exported files."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from labelproof.cli import app
from labelproof.custody.keys import public_key_pem
from labelproof.custody.proofs import dump_export, inclusion_proof_for

from .conftest import build_log

runner = CliRunner()


def _files(tmp_path: Path, key: Ed25519PrivateKey) -> tuple[Path, Path, Path]:
    log, cps = build_log(30, key, (10, 30))
    export = tmp_path / "audit.json"
    export.write_bytes(dump_export(log.entries, cps))
    pub = tmp_path / "pub.pem"
    pub.write_bytes(public_key_pem(key))
    proof = tmp_path / "proof.json"
    proof.write_bytes(orjson.dumps(inclusion_proof_for(log, 7, cps[1])))
    return export, pub, proof


def test_verify_export_ok_and_tampered(tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    export, pub, _ = _files(tmp_path, signing_key)
    result = runner.invoke(app, ["audit", "verify-export", str(export), "--public-key", str(pub)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and doc["entries"] == 30 and doc["checkpoints"] == 2
    data = json.loads(export.read_text())
    data["entries"][12]["target_id"] = "other"
    export.write_text(json.dumps(data))
    result = runner.invoke(app, ["audit", "verify-export", str(export), "--public-key", str(pub)])
    assert result.exit_code == 1
    failure = json.loads(result.stdout)["failure"]
    assert failure["kind"] == "edited" and failure["entry_id"] == 13


def test_proof_verify(tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    _, pub, proof = _files(tmp_path, signing_key)
    result = runner.invoke(app, ["audit", "proof-verify", str(proof), "--public-key", str(pub)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event_id"] == 7
    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(Ed25519PrivateKey.generate()))
    result = runner.invoke(app, ["audit", "proof-verify", str(proof), "--public-key", str(other)])
    assert result.exit_code == 1 and not json.loads(result.stdout)["ok"]


def test_bad_inputs_exit_2_without_traceback(
    tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    export, pub, _ = _files(tmp_path, signing_key)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for args in (
        ["audit", "verify-export", str(bad), "--public-key", str(pub)],
        ["audit", "verify-export", str(export), "--public-key", str(bad)],
        ["audit", "proof-verify", str(bad), "--public-key", str(pub)],
        ["audit", "proof-verify", str(tmp_path / "nope.json"), "--public-key", str(pub)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output and "Traceback" not in result.output
