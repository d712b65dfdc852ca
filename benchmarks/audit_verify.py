"""Audit log verification at scale: 1,000,000 chained events with 10 signed checkpoints.

Builds the log with :class:`labelproof.custody.chain.AuditLog` (not timed), then times
``verify_log`` over the stored entries, median of ``--repeat`` runs. Two reference figures
from the same process put the number in context:

- *floor*: the unavoidable per-entry work done bare (canonical JSON + one SHA-256 per entry,
  no checks, no tree), so ``verify / floor`` is the price of the checks and the Merkle tree;
- *merkle*: an RFC 6962 root over the 1M entry hashes alone (the brief: well under 1 s).

    .venv/bin/python benchmarks/audit_verify.py [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from labelproof.custody.chain import EVENT_FIELDS, AuditLog, verify_log
from labelproof.custody.checkpoint import Checkpoint
from labelproof.custody.merkle import MerkleTree


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(n: int, key: Ed25519PrivateKey) -> tuple[AuditLog, list[Checkpoint]]:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    log = AuditLog()
    checkpoints = []
    every = max(1, n // 10)
    actions = ("asset.read", "annotation.saved", "task.created", "membership.set")
    for i in range(1, n + 1):
        log.append(
            {
                "id": i,
                "at": (t0 + timedelta(milliseconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "actor_id": 1 + i % 50,
                "action": actions[i % 4],
                "target_type": "asset",
                "target_id": str(100_000 + i),
                "project_id": 1 + i % 3,
                "request_id": f"{i:032x}",
                "details": {"bytes": i * 31 % 99_991, "stage": "review"},
            }
        )
        if i % every == 0:
            checkpoints.append(log.checkpoint(key))
    return log, checkpoints


def floor(entries: list[dict[str, Any]]) -> None:
    prev = bytes(32)
    sha, dumps, opt = hashlib.sha256, orjson.dumps, orjson.OPT_SORT_KEYS
    for e in entries:
        doc = {k: e[k] for k in EVENT_FIELDS}
        doc["prev_hash"] = prev.hex()
        prev = sha(prev + dumps(doc, option=opt)).digest()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    start = time.perf_counter()
    log, checkpoints = build(args.events, key)
    print(
        f"built {log.size:,} events, {len(checkpoints)} checkpoints in "
        f"{time.perf_counter() - start:.1f} s"
    )

    report = verify_log(log.entries, checkpoints, key.public_key())
    assert report.ok and report.entries == args.events, report
    verify_s = _median_s(
        lambda: verify_log(log.entries, checkpoints, key.public_key()), args.repeat
    )
    floor_s = _median_s(lambda: floor(log.entries), args.repeat)
    packed = b"".join(bytes.fromhex(e["entry_hash"]) for e in log.entries)
    merkle_s = _median_s(lambda: MerkleTree.from_packed_leaves(packed).root(), args.repeat)

    n = args.events
    print(f"verify_log        {verify_s:7.2f} s  ({verify_s / n * 1e6:.2f} us/event)")
    print(f"floor (json+hash) {floor_s:7.2f} s  -> verify/floor = {verify_s / floor_s:.2f}x")
    print(f"merkle root only  {merkle_s:7.2f} s  ({n:,} leaves)")


if __name__ == "__main__":
    main()
