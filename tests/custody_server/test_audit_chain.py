"""The audit chain in the database: built by real API actions, then tampered with directly
in SQL; ``labelproof audit verify --data-dir`` must name the first bad entry, on SQLite and
PostgreSQL. Plus concurrency (no fork under parallel writers) and inclusion proofs."""

from __future__ import annotations

import threading
import uuid
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from labelproof.custody.chain import compute_entry_hash
from labelproof.custody.keys import load_or_create_signing_key
from labelproof.services import accounts
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.custody import chain
from labelproof.services.custody.evidence import checkpoint_now, verify_stored_log
from labelproof.store.models import AuditEvent, User
from tests.custody_server.helpers import cli, json_of, marker_bmp, upload
from tests.world import World


def _activity(world: World) -> None:
    """A few real actions over HTTP: upload, save, read, export."""
    aid = upload(world, marker_bmp())
    c = world.client("annotator")
    got = c.get(f"/api/tasks/{world.task_id}/annotations")
    current = got.json() if got.status_code == 200 else None
    r = c.put(
        f"/api/tasks/{world.task_id}/annotations",
        json={
            "base_revision": (current or {}).get("number", 0),
            "annotations": [
                {"type": "box", "label": "car", "geometry": {"x": 1, "y": 2, "w": 5, "h": 5}}
            ],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    assert c.get(f"/api/projects/{world.project_id}/assets/{aid}/content").status_code == 200
    assert world.client("auditor").get(f"/api/projects/{world.project_id}/audit").status_code == 200


def _count(world: World) -> int:
    with world.rt.read() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _ids(world: World) -> list[int]:
    with world.rt.read() as db:
        return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _sql(world: World, statement: str, **params: object) -> None:
    with world.rt.engine.begin() as conn:
        conn.execute(text(statement), params)


def _verify(world: World) -> tuple[int, dict[str, object]]:
    result = cli(world.rt, "audit", "verify", "--data-dir", str(world.rt.settings.data_dir))
    return result.exit_code, json_of(result)


def test_intact_log_verifies_and_every_row_is_chained(world: World) -> None:
    _activity(world)
    cli(world.rt, "audit", "checkpoint", "--data-dir", str(world.rt.settings.data_dir))
    _activity(world)
    code, report = _verify(world)
    assert code == 0, report
    assert report["ok"] is True and report["entries"] == _count(world)
    assert report["checkpoints"] == 1
    ids = _ids(world)
    assert ids == list(range(1, len(ids) + 1))  # no gaps on either database
    with world.rt.read() as db:
        rows = chain.read_entries(db)
    assert rows[0]["prev_hash"] == "00" * 32
    for a, b in pairwise(rows):
        assert b["prev_hash"] == a["entry_hash"]
    for row in rows:
        assert compute_entry_hash(row, bytes.fromhex(row["prev_hash"])).hex() == row["entry_hash"]


def test_edited_field_is_named(world: World) -> None:
    _activity(world)
    target = _ids(world)[5]
    _sql(world, "UPDATE audit_events SET target_id = 'forged' WHERE id = :i", i=target)
    code, report = _verify(world)
    assert code == 1
    assert report["failure"]["kind"] == "edited" and report["failure"]["entry_id"] == target


def test_edited_details_are_named(world: World) -> None:
    _activity(world)
    with world.rt.read() as db:
        target = db.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "asset.uploaded").limit(1)
        )
    _sql(
        world,
        """UPDATE audit_events SET details = '{"sha256": "00", "size": 1}' WHERE id = :i""",
        i=target,
    )
    code, report = _verify(world)
    assert code == 1 and report["failure"]["entry_id"] == target
    assert report["failure"]["kind"] == "edited"


def test_deleted_entry_is_named(world: World) -> None:
    _activity(world)
    ids = _ids(world)
    _sql(world, "DELETE FROM audit_events WHERE id = :i", i=ids[7])
    code, report = _verify(world)
    assert code == 1
    assert report["failure"]["kind"] == "deleted" and report["failure"]["entry_id"] == ids[8]


def test_swapped_ids_are_found(world: World) -> None:
    _activity(world)
    a, b = _ids(world)[3:5]
    _sql(world, "UPDATE audit_events SET id = -1 WHERE id = :a", a=a)
    _sql(world, "UPDATE audit_events SET id = :a WHERE id = :b", a=a, b=b)
    _sql(world, "UPDATE audit_events SET id = :b WHERE id = -1", b=b)
    code, report = _verify(world)
    assert code == 1
    assert report["failure"]["entry_id"] == a
    assert report["failure"]["kind"] in ("chain_break", "edited", "reordered")


def test_truncation_after_a_checkpoint_is_found(world: World) -> None:
    _activity(world)
    with world.rt.write() as db:
        chain.make_checkpoint(db, world.rt.custody)
    ids = _ids(world)
    _sql(world, "DELETE FROM audit_events WHERE id >= :i", i=ids[-3])
    code, report = _verify(world)
    assert code == 1
    assert report["failure"]["kind"] == "truncated"
    assert report["failure"]["entry_id"] == ids[-3]


def test_rechained_history_is_a_fork(world: World) -> None:
    """An attacker who edits an entry and recomputes every hash after it still fails the
    signed checkpoint: the report names the first entry after the last good checkpoint."""
    _activity(world)
    first_size = checkpoint_now(world.rt).tree_size  # the checkpoint event itself follows
    _activity(world)
    checkpoint_now(world.rt)
    ids = _ids(world)
    victim = ids[first_size + 2]
    _sql(world, "UPDATE audit_events SET target_id = 'rewritten' WHERE id = :i", i=victim)
    with world.rt.read() as db:
        rows = chain.read_entries(db)
    prev = bytes.fromhex(rows[0]["prev_hash"])
    with world.rt.engine.begin() as conn:
        for row in rows:
            digest = compute_entry_hash(row, prev)
            conn.execute(
                text("UPDATE audit_events SET prev_hash = :p, entry_hash = :e WHERE id = :i"),
                {"p": prev.hex(), "e": digest.hex(), "i": row["id"]},
            )
            prev = digest
    code, report = _verify(world)
    assert code == 1
    assert report["failure"]["kind"] == "fork"
    assert report["failure"]["entry_id"] == ids[first_size]


def test_forged_checkpoints_are_refused(world: World, tmp_path: Path) -> None:
    _activity(world)
    checkpoint_now(world.rt)
    _sql(world, "UPDATE audit_checkpoints SET root = :r", r="ab" * 32)
    code, report = _verify(world)
    assert code == 1 and report["failure"]["kind"] == "bad_signature"
    # a checkpoint signed by someone else's key is refused just the same
    _sql(world, "DELETE FROM audit_checkpoints")
    other = load_or_create_signing_key(tmp_path / "other")
    with world.rt.write() as db:
        size = int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)
        from labelproof.custody.checkpoint import sign_checkpoint
        from labelproof.store.custody_models import AuditCheckpoint

        cp = sign_checkpoint(
            tree_size=size, root=b"\x01" * 32, last_entry_hash=b"\x02" * 32, private_key=other
        )
        import base64

        db.add(
            AuditCheckpoint(
                tree_size=cp.tree_size,
                root=cp.root.hex(),
                last_entry_hash=cp.last_entry_hash.hex(),
                at=cp.at,
                key_id=cp.key_id,
                signature=base64.b64encode(cp.signature).decode(),
            )
        )
    code, report = _verify(world)
    assert code == 1 and report["failure"]["kind"] == "bad_signature"


def test_periodic_checkpoints_are_signed(world: World) -> None:
    world.rt.custody.checkpoint_every = 10
    try:
        _activity(world)
        _activity(world)
    finally:
        world.rt.custody.checkpoint_every = 256
    with world.rt.read() as db:
        cps = chain.read_checkpoints(db)
        report = verify_stored_log(db, world.rt.custody.signing_key().public_key())
    assert cps and report.ok and report.checkpoints == len(cps)
    key_file = world.rt.settings.key_dir / "audit-signing-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_concurrent_writers_never_fork_the_chain(world: World) -> None:
    """Eight threads append 25 events each in their own transactions at once."""
    with world.rt.read() as db:
        root = db.get(User, world.users["orgadmin"])
        assert root is not None
        actor = accounts.actor_for(root)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                with world.rt.write() as db:
                    for j in range(2):
                        record(
                            db,
                            AuditRecord(
                                AuditAction.ASSET_READ,
                                "asset",
                                f"{n}-{i}-{j}",
                                actor.user_id,
                                uuid.uuid4().hex,
                                world.project_id,
                            ),
                        )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    before = _count(world)
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(world) == before + 8 * 25 * 2
    code, report = _verify(world)
    assert code == 0, report


@pytest.mark.parametrize("tamper", [False, True])
def test_inclusion_proof_over_the_api_verifies_offline(
    world: World, tmp_path: Path, tamper: bool
) -> None:
    _activity(world)
    with world.rt.read() as db:
        event_id = db.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.project_id == world.project_id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    r = world.client("auditor").get(f"/api/projects/{world.project_id}/audit/{event_id}/proof")
    assert r.status_code == 200, r.text
    proof = r.json()
    assert proof["event"]["id"] == event_id and proof["tree_size"] >= proof["leaf_index"] + 1
    if tamper:
        proof["event"]["target_id"] = "something else"
    proof_file = tmp_path / "proof.json"
    import orjson

    proof_file.write_bytes(orjson.dumps(proof))
    key = world.client("auditor").get("/api/audit/public-key")
    assert key.status_code == 200
    key_file = tmp_path / "audit.pem"
    key_file.write_text(key.json()["public_key_pem"])
    result = cli(world.rt, "audit", "proof-verify", str(proof_file), "--public-key", str(key_file))
    assert result.exit_code == (1 if tamper else 0), result.stdout
    assert json_of(result)["ok"] is (not tamper)
    # not visible to a member of another project, nor for an event of another project
    assert (
        world.client("outsider")
        .get(f"/api/projects/{world.project_id}/audit/{event_id}/proof")
        .status_code
        == 404
    )
    assert (
        world.client("annotator")
        .get(f"/api/projects/{world.project_id}/audit/{event_id}/proof")
        .status_code
        == 403
    )
