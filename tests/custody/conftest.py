"""Shared builders for custody tests: a signed audit log with checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from labelproof.custody.chain import AuditLog
from labelproof.custody.checkpoint import Checkpoint

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_event(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "at": T0 + timedelta(seconds=i),
        "actor_id": i % 7 or None,
        "action": "asset.read" if i % 3 else "annotation.saved",
        "target_type": "asset",
        "target_id": str(1000 + i),
        "project_id": 1 + i % 2,
        "request_id": f"req-{i:06d}",
        "details": {"n": i, "nested": {"z": [1, 2], "a": "é"}},
    }


def build_log(
    n: int, key: Ed25519PrivateKey, checkpoint_sizes: tuple[int, ...]
) -> tuple[AuditLog, list[Checkpoint]]:
    log = AuditLog()
    checkpoints: list[Checkpoint] = []
    for i in range(1, n + 1):
        log.append(make_event(i))
        if log.size in checkpoint_sizes:
            checkpoints.append(log.checkpoint(key, at=T0 + timedelta(hours=log.size)))
    return log, checkpoints


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
