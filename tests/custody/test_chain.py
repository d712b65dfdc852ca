"""Audit chain: canonical encoding, signed checkpoints, and each kind of tampering."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelproof.custody.chain import (
    EVENT_FIELDS,
    GENESIS_HASH,
    AuditLog,
    FailureKind,
    canonical_bytes,
    compute_entry_hash,
    verify_log,
)
from labelproof.custody.checkpoint import Checkpoint
from labelproof.custody.merkle import EMPTY_ROOT, MerkleTree
from labelproof.errors import InvalidInput

from .conftest import build_log, make_event

SIZES = (10, 25, 50)
Signed = tuple[AuditLog, list[Checkpoint]]


@pytest.fixture(scope="module")
def signed(signing_key: Ed25519PrivateKey) -> tuple[AuditLog, list[Checkpoint]]:
    return build_log(50, signing_key, SIZES)


def fresh(signed: tuple[AuditLog, list[Checkpoint]]) -> list[dict[str, Any]]:
    return copy.deepcopy(signed[0].entries)


def test_canonical_encoding_is_sorted_compact_json_with_prev_hash() -> None:
    event = make_event(3)
    raw = canonical_bytes(event, GENESIS_HASH)
    doc = orjson.loads(raw)
    assert list(doc) == sorted(doc)
    assert set(doc) == {*EVENT_FIELDS, "prev_hash"}
    assert doc["at"] == "2025-03-01T12:00:03.000000Z"
    assert doc["prev_hash"] == "00" * 32
    assert b" " not in raw.replace(b'"n"', b"")  # compact
    assert list(doc["details"]["nested"]) == ["a", "z"]
    assert compute_entry_hash(event, GENESIS_HASH) == hashlib.sha256(GENESIS_HASH + raw).digest()


def test_time_forms_hash_alike() -> None:
    a = make_event(1)
    b = dict(a, at="2025-03-01T13:00:01+01:00")
    c = dict(a, at="2025-03-01T12:00:01.000000Z")
    assert compute_entry_hash(a, GENESIS_HASH) == compute_entry_hash(b, GENESIS_HASH)
    assert compute_entry_hash(a, GENESIS_HASH) == compute_entry_hash(c, GENESIS_HASH)


def test_malformed_event_names_the_column() -> None:
    event = make_event(1)
    del event["request_id"]
    with pytest.raises(InvalidInput) as exc:
        canonical_bytes(event, GENESIS_HASH)
    assert exc.value.field == "request_id"
    with pytest.raises(InvalidInput) as exc:
        canonical_bytes(dict(make_event(1), at=datetime(2025, 1, 1)), GENESIS_HASH)
    assert exc.value.field == "at"


def test_chain_links_and_root(signed: tuple[AuditLog, list[Checkpoint]]) -> None:
    log, checkpoints = signed
    prev = GENESIS_HASH
    for entry in log.entries:
        assert entry["prev_hash"] == prev.hex()
        prev = compute_entry_hash(entry, prev)
        assert entry["entry_hash"] == prev.hex()
    leaves = [bytes.fromhex(e["entry_hash"]) for e in log.entries]
    assert [c.tree_size for c in checkpoints] == list(SIZES)
    assert checkpoints[-1].root == MerkleTree(leaves).root()
    assert checkpoints[0].root == MerkleTree(leaves[:10]).root()
    assert checkpoints[-1].last_entry_hash == leaves[-1]


def test_intact_log_verifies(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    report = verify_log(fresh(signed), signed[1], signing_key.public_key())
    assert report.ok and report.failure is None
    assert (report.entries, report.checkpoints) == (50, 3)
    assert report.root == signed[1][-1].root.hex()


def test_empty_log(signing_key: Ed25519PrivateKey) -> None:
    log = AuditLog()
    cp = log.checkpoint(signing_key)
    assert cp.root == EMPTY_ROOT and cp.tree_size == 0
    report = verify_log([], [cp], signing_key.public_key())
    assert report.ok and report.entries == 0 and report.root == EMPTY_ROOT.hex()


def test_edited_field_names_the_entry(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)
    entries[16]["actor_id"] = 99
    report = verify_log(entries, signed[1], signing_key.public_key())
    assert not report.ok and report.failure is not None
    assert report.failure.kind is FailureKind.EDITED
    assert (report.failure.entry_id, report.failure.index) == (17, 16)
    assert report.entries == 16


def test_edited_nested_detail(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)
    entries[40]["details"]["nested"]["z"] = [2, 1]
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None and (failure.kind, failure.entry_id) == (FailureKind.EDITED, 41)


def test_rechained_edit_is_a_fork_at_the_first_covering_checkpoint(
    signed: Signed, signing_key: Ed25519PrivateKey
) -> None:
    # The attacker edits id 17 and recomputes every later hash: only the signed roots catch it.
    events = fresh(signed)
    events[16]["target_id"] = "forged"
    rebuilt = AuditLog()
    for e in events:
        rebuilt.append(e)
    report = verify_log(rebuilt.entries, signed[1], signing_key.public_key())
    assert report.failure is not None
    assert report.failure.kind is FailureKind.FORK
    assert report.failure.checkpoint_size == 25
    assert (report.failure.entry_id, report.failure.index) == (11, 10)
    assert report.checkpoints == 1


def test_deleted_entry(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)
    del entries[16]
    for gaps in (False, True):
        failure = verify_log(
            entries, signed[1], signing_key.public_key(), allow_id_gaps=gaps
        ).failure
        assert failure is not None
        assert (failure.kind, failure.entry_id, failure.index) == (FailureKind.DELETED, 18, 16)
        assert "17" in failure.message


def test_deleted_and_renumbered_is_a_chain_break(
    signed: Signed, signing_key: Ed25519PrivateKey
) -> None:
    entries = fresh(signed)
    del entries[16]
    for i, e in enumerate(entries):
        e["id"] = i + 1
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None
    assert (failure.kind, failure.entry_id) == (FailureKind.CHAIN_BREAK, 17)


def test_deleted_without_stored_hashes(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = [{k: e[k] for k in EVENT_FIELDS} for e in fresh(signed)]
    del entries[30]
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None and (failure.kind, failure.entry_id) == (FailureKind.DELETED, 32)
    # With gaps allowed, the signed checkpoint at 50 still catches it: the log is short...
    failure = verify_log(entries, signed[1], signing_key.public_key(), allow_id_gaps=True).failure
    assert failure is not None and failure.kind is FailureKind.TRUNCATED
    assert (failure.checkpoint_size, failure.index) == (50, 49)
    # ... and padded back to length, the root differs from the signed one.
    entries.append(dict(make_event(51)))
    failure = verify_log(entries, signed[1], signing_key.public_key(), allow_id_gaps=True).failure
    assert failure is not None and failure.kind is FailureKind.FORK
    assert (failure.checkpoint_size, failure.entry_id) == (50, 26)


def test_reordered_entries(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)
    entries[16], entries[17] = entries[17], entries[16]
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None
    assert (failure.kind, failure.entry_id, failure.index) == (FailureKind.REORDERED, 18, 16)
    entries = fresh(signed)
    entries.insert(5, entries.pop(30))
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None
    assert (failure.kind, failure.entry_id, failure.index) == (FailureKind.REORDERED, 31, 5)


def test_truncated_log(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)[:45]
    report = verify_log(entries, signed[1], signing_key.public_key())
    assert report.failure is not None
    assert report.failure.kind is FailureKind.TRUNCATED
    assert (report.failure.entry_id, report.failure.index) == (46, 45)
    assert report.failure.checkpoint_size == 50
    assert report.checkpoints == 2


def test_fork_checkpoint_over_another_history(
    signed: Signed, signing_key: Ed25519PrivateKey
) -> None:
    alt = AuditLog()
    for i in range(1, 26):
        alt.append(dict(make_event(i), action="x") if i == 20 else make_event(i))
    forked = alt.checkpoint(signing_key)
    cps = [signed[1][0], forked, signed[1][2]]
    failure = verify_log(fresh(signed), cps, signing_key.public_key()).failure
    assert failure is not None
    assert (failure.kind, failure.checkpoint_size, failure.entry_id) == (FailureKind.FORK, 25, 11)
    # Two signed checkpoints of one size that disagree: equivocation, whatever the log says.
    failure = verify_log(fresh(signed), [*signed[1], forked], signing_key.public_key()).failure
    assert failure is not None and failure.kind is FailureKind.FORK
    assert "equivocation" in failure.message


def test_bad_signatures(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    failure = verify_log(fresh(signed), signed[1], other.public_key()).failure
    assert failure is not None and failure.kind is FailureKind.BAD_SIGNATURE
    lying = replace(signed[1][1], tree_size=24)
    failure = verify_log(fresh(signed), [lying], signing_key.public_key()).failure
    assert failure is not None and failure.kind is FailureKind.BAD_SIGNATURE


def test_checkpoint_json_round_trip(signed: Signed) -> None:
    cp = signed[1][1]
    again = Checkpoint.from_json(cp.to_json())
    assert again == cp
    assert again.at.tzinfo is not None and again.at == cp.at
    assert cp.signed_bytes().startswith(b"labelproof audit checkpoint v1\n25\n")


def test_malformed_entry_is_reported(signed: Signed, signing_key: Ed25519PrivateKey) -> None:
    entries = fresh(signed)
    entries[3]["entry_hash"] = "zz"
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None and (failure.kind, failure.entry_id) == (FailureKind.MALFORMED, 4)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(0, 49),
    st.sampled_from(
        [
            "at",
            "actor_id",
            "action",
            "target_type",
            "target_id",
            "project_id",
            "request_id",
            "details",
        ]
    ),
)
def test_any_single_edit_is_found(
    signed: Signed, signing_key: Ed25519PrivateKey, position: int, field: str
) -> None:
    entries = fresh(signed)
    value = entries[position][field]
    entries[position][field] = (
        "2030-01-01T00:00:00.000000Z"
        if field == "at"
        else {"x": 1}
        if field == "details"
        else (value or 0) + 1
        if isinstance(value, int) or value is None
        else value + "!"
    )
    failure = verify_log(entries, signed[1], signing_key.public_key()).failure
    assert failure is not None
    assert (failure.kind, failure.entry_id) == (FailureKind.EDITED, position + 1)
