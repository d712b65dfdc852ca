"""Sensitive database fields are sealed under the project's data key: no plaintext marker in
the database (SQLite file and WAL; every text/json/bytea column of PostgreSQL), a flipped
or moved ciphertext is refused (and audited), digests are keyed, old rows are converted."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from labelproof.custody.errors import TamperedCiphertext
from labelproof.services.context import Runtime
from labelproof.services.custody.fields import digest, sealed_tables
from labelproof.services.qa import escalations, policy, review, work
from labelproof.services.qa.events import Stage
from labelproof.store.db import transaction
from labelproof.store.models import AnnotationRevision, Asset, AuditEvent
from tests.custody_server.helpers import marker_bmp, scan
from tests.qa.matrix import _actor, _policy, _root, _saved, _task
from tests.world import World

ANN = "LPMARKANN-Q7x1"
FILE = "LPMARKFILE-k2"
COMMENT = "LPMARKCOMMENT-9z"
QUESTION = "LPMARKQUESTION-3v"
ANSWER = "LPMARKANSWER-8w"
SOP = "LPMARKSOP-5t"
MARKERS = [ANN, FILE, COMMENT, QUESTION, ANSWER, SOP]


def _box(ann_id: str) -> dict[str, Any]:
    return {
        "id": ann_id,
        "type": "box",
        "label": "car",
        "geometry": {"x": 1, "y": 1, "w": 9, "h": 9},
    }


def _save(world: World, task_id: int, base: int, ann_id: str) -> Any:
    return world.client("annotator").put(
        f"/api/tasks/{task_id}/annotations",
        json={"base_revision": base, "annotations": [_box(ann_id)]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def _fill(world: World) -> None:
    """Write every kind of sealed field with a marker in it."""
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": (f"{FILE}.bmp", marker_bmp(), "image/bmp")},
    )
    assert r.status_code == 201, r.text
    assert _save(world, world.task_id, 0, ANN).status_code in (200, 201)

    def qa(db: Session) -> None:
        root = _root(db, world)
        _policy(db, world, peer_review=True, lead_audit=False)
        policy.publish_sop(db, root, project_id=world.project_id, guidelines=f"{SOP} text")
        annotator = world.users["annotator"]
        a_id = _saved(db, world, annotator, [_box(f"{ANN}-qa")])
        work.submit(db, _actor(db, annotator), assignment_id=a_id, revision=1, checklist=[])
        review.decide(
            db,
            _actor(db, world.users["reviewer"]),
            assignment_id=a_id,
            stage=Stage.PEER_REVIEW,
            verdict="reject",
            errors=[{"type": "missed_object", "comment": f"{COMMENT} a"}],
            comment=f"{COMMENT} b",
        )
        esc = escalations.raise_escalation(
            db,
            root,
            project_id=world.project_id,
            question=f"{QUESTION}?",
            task_id=world.task_id,
            region={"x": 1, "y": 2, "w": 3, "h": 4},
        )
        escalations.answer(
            db, root, escalation_id=esc.id, text=f"{ANSWER}.", publish={"guidelines": SOP}
        )
        gold = _task(db, world, "gold")
        from labelproof.services.qa import batches

        batches.set_answer(db, root, task_id=gold, annotations=[_box(f"{ANN}-gold")])
        # accepted work writes a task result
        _policy(db, world, peer_review=False, lead_audit=False)
        b_id = _saved(db, world, annotator, [_box(f"{ANN}-result")])
        work.submit(db, _actor(db, annotator), assignment_id=b_id, revision=1, checklist=[])

    with transaction(world.rt.sessions) as db:
        qa(db)


def _pg_hits(rt: Runtime, markers: list[str]) -> dict[str, list[str]]:
    """Columns of every PostgreSQL table whose values hold a marker (text, json, bytea)."""
    hits: dict[str, list[str]] = {m: [] for m in markers}
    insp = inspect(rt.engine)
    with rt.engine.connect() as conn:
        for table in insp.get_table_names():
            for col in insp.get_columns(table):
                kind = str(col["type"]).lower()
                name = col["name"]
                if "byte" in kind:
                    values = [
                        bytes(v)
                        for (v,) in conn.execute(text(f'SELECT "{name}" FROM "{table}"'))
                        if v is not None
                    ]
                elif any(k in kind for k in ("char", "text", "json")):
                    values = [
                        str(v).encode()
                        for (v,) in conn.execute(
                            text(f'SELECT CAST("{name}" AS TEXT) FROM "{table}"')
                        )
                        if v is not None
                    ]
                else:
                    continue
                for m in markers:
                    if any(m.encode() in v for v in values):
                        hits[m].append(f"{table}.{name}")
    return hits


def _hits(world: World, markers: list[str]) -> dict[str, list[str]]:
    if world.rt.settings.is_sqlite:
        return scan(world.rt.settings.data_dir, [m.encode() for m in markers])
    return _pg_hits(world.rt, markers)


def test_no_sensitive_plaintext_in_the_database(world: World) -> None:
    _fill(world)
    assert _hits(world, MARKERS) == {m: [] for m in MARKERS}
    # and everything still reads back in clear through the services and the API
    c = world.client("program_manager")
    got = c.get(f"/api/tasks/{world.task_id}/annotations").json()
    assert got["annotations"][0]["id"] == ANN
    page = c.get(f"/api/projects/{world.project_id}/assets").json()
    names = [a["filename"] for a in page["items"]]
    assert f"{FILE}.bmp" in names
    # the scan itself sees plaintext where there is some (a marker in a plain column)
    with transaction(world.rt.sessions) as db:
        db.execute(
            text("UPDATE projects SET description = :d WHERE id = :p"),
            {"d": f"{COMMENT}", "p": world.project_id},
        )
    if not world.rt.settings.is_sqlite:
        assert _pg_hits(world.rt, [COMMENT])[COMMENT] == ["projects.description"]


def test_every_sealed_column_is_binary_in_the_schema(world: World) -> None:
    insp = inspect(world.rt.engine)
    tables = sealed_tables()
    assert set(tables) == {
        "assets",
        "annotation_revisions",
        "qa_sop_versions",
        "qa_answers",
        "qa_revisions",
        "qa_events",
        "qa_escalations",
        "qa_escalation_answers",
        "qa_task_results",
    }
    for table, columns in tables.items():
        kinds = {c["name"]: str(c["type"]).lower() for c in insp.get_columns(table)}
        for column in columns:
            assert kinds[column] in ("blob", "bytea"), (table, column, kinds[column])


def _raw(world: World, table: str, column: str, row_id: int) -> bytes:
    with world.rt.engine.connect() as conn:
        value = conn.execute(
            text(f"SELECT {column} FROM {table} WHERE id = :i"), {"i": row_id}
        ).scalar_one()
    return bytes(value)


def _put_raw(world: World, table: str, column: str, row_id: int, value: bytes) -> None:
    with world.rt.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET {column} = :v WHERE id = :i"), {"v": value, "i": row_id}
        )


def _refusals(world: World) -> list[AuditEvent]:
    with world.rt.read() as db:
        return list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "custody.ciphertext_refused"))
        )


def _revision_ids(world: World) -> list[int]:
    with world.rt.read() as db:
        return list(
            db.scalars(
                select(AnnotationRevision.id)
                .where(AnnotationRevision.task_id == world.task_id)
                .order_by(AnnotationRevision.number)
            )
        )


def test_a_flipped_byte_is_refused_and_audited(world: World) -> None:
    assert _save(world, world.task_id, 0, ANN).status_code in (200, 201)
    (rev_id,) = _revision_ids(world)
    blob = bytearray(_raw(world, "annotation_revisions", "annotations", rev_id))
    blob[len(blob) // 2] ^= 0x01
    _put_raw(world, "annotation_revisions", "annotations", rev_id, bytes(blob))
    r = world.client("annotator").get(f"/api/tasks/{world.task_id}/annotations")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "tampered_ciphertext"
    assert body["field"] == "annotation_revisions.annotations"
    assert f"row {rev_id}" in body["message"] and ANN not in r.text
    (event,) = _refusals(world)
    assert (event.target_type, event.target_id) == ("annotation_revisions", str(rev_id))
    assert event.project_id == world.project_id
    assert event.details["column"] == "annotations"


def test_a_ciphertext_moved_to_another_row_or_project_does_not_open(world: World) -> None:
    assert _save(world, world.task_id, 0, ANN).status_code in (200, 201)
    assert _save(world, world.task_id, 1, "second").status_code in (200, 201)
    first, second = _revision_ids(world)
    # same task, same key: only the row id in the associated data differs
    _put_raw(
        world,
        "annotation_revisions",
        "annotations",
        second,
        _raw(world, "annotation_revisions", "annotations", first),
    )
    with pytest.raises(TamperedCiphertext, match=f"row {second}"), world.rt.read() as db:
        db.get(AnnotationRevision, second)
    # another project's file name over this project's asset: other key, other project
    with world.rt.read() as db:
        mine = db.scalars(select(Asset.id).where(Asset.project_id == world.project_id)).first()
        theirs = db.scalars(
            select(Asset.id).where(Asset.project_id == world.other_project_id)
        ).first()
    assert mine is not None and theirs is not None
    _put_raw(world, "assets", "filename", mine, _raw(world, "assets", "filename", theirs))
    r = world.client("program_manager").get(f"/api/projects/{world.project_id}/assets")
    assert r.status_code == 400 and r.json()["code"] == "tampered_ciphertext"
    assert len(_refusals(world)) == 2


def test_idempotency_digest_is_keyed_not_a_plain_hash(world: World) -> None:
    key = uuid.uuid4().hex
    body = {"base_revision": 0, "annotations": [_box(ANN)]}
    c = world.client("annotator")
    url = f"/api/tasks/{world.task_id}/annotations"
    first = c.put(url, json=body, headers={"Idempotency-Key": key})
    again = c.put(url, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["number"] == first.json()["number"] == 1
    other = {"base_revision": 0, "annotations": [_box("other")]}
    assert c.put(url, json=other, headers={"Idempotency-Key": key}).status_code == 409
    with world.rt.read() as db:
        rev = db.scalars(select(AnnotationRevision)).one()
        items = rev.annotations
        stored = rev.payload_sha256
        dek = world.rt.custody.data_key(db, world.project_id)
    canonical = orjson.dumps({"base": 0, "items": items}, option=orjson.OPT_SORT_KEYS)
    assert stored != hashlib.sha256(canonical).hexdigest()
    assert stored == digest(dek, {"base": 0, "items": items}, purpose="payload")
    # the upload's audit event names the file by a keyed digest, never in clear
    with world.rt.read() as db:
        uploaded = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "asset.uploaded")
        ).first()
    assert uploaded is not None
    assert "filename" not in uploaded.details
    assert uploaded.details["filename_hmac"] == digest(dek, "a.png", purpose="filename")


def test_migration_seals_existing_rows(tmp_path: Path) -> None:
    from labelproof.config import load_settings
    from labelproof.services.context import open_runtime
    from labelproof.store import migrate
    from labelproof.store.db import make_engine

    settings = load_settings(tmp_path / "old")
    engine = make_engine(settings)
    migrate.upgrade(engine, "0003")
    now = "2024-01-02 03:04:05.000000"
    annotations = [_box(ANN)]
    with engine.begin() as conn:
        for statement, values in [
            ("INSERT INTO organizations (id, name, slug, created_at) VALUES (1, 'o', 'o', :t)", {}),
            (
                "INSERT INTO users (id, org_id, email, display_name, password_hash, is_org_admin,"
                " is_superuser, failed_logins, created_at, clearance) VALUES"
                " (1, 1, 'a@o.test', 'a', 'x', 1, 0, 0, :t, '{}')",
                {},
            ),
            (
                "INSERT INTO projects (id, org_id, name, description, vertical, classification,"
                " created_at) VALUES (7, 1, 'p', '', 'general', 'internal', :t)",
                {},
            ),
            (
                "INSERT INTO schema_versions (id, project_id, version, definition, note,"
                " created_by, created_at) VALUES (1, 7, 1, '{\"classes\": []}', '', 1, :t)",
                {},
            ),
            (
                "INSERT INTO assets (id, project_id, sha256, filename, media_type, size_bytes,"
                " width, height, created_by, created_at) VALUES"
                " (3, 7, :sha, :name, 'image/png', 1, 64, 48, 1, :t)",
                {"sha": "0" * 64, "name": f"{FILE}.png"},
            ),
            (
                "INSERT INTO tasks (id, project_id, asset_id, mode, created_by, created_at)"
                " VALUES (5, 7, 3, 'single', 1, :t)",
                {},
            ),
            (
                "INSERT INTO annotation_revisions (id, task_id, number, base_number,"
                " schema_version_id, author_id, idempotency_key, payload_sha256, annotations,"
                " created_at) VALUES (9, 5, 1, 0, 1, 1, 'k', :d, :a, :t)",
                {"d": "f" * 64, "a": orjson.dumps(annotations).decode()},
            ),
            (
                "INSERT INTO qa_events (id, project_id, kind, at, details) VALUES"
                " (4, 7, 'reviewed', :t, :d)",
                {"d": orjson.dumps({"comment": COMMENT}).decode()},
            ),
        ]:
            conn.execute(text(statement), {"t": now, **values})
    engine.dispose()
    engine = make_engine(settings)
    migrate.upgrade(engine, "0004", key_dir=settings.key_dir)  # as open_runtime does
    # 0004 sealed the rows; the later migrations only add columns the models now read
    migrate.upgrade(engine, "head", key_dir=settings.key_dir)
    engine.dispose()
    rt = open_runtime(settings, migrate=False)
    try:
        with rt.read() as db:
            rev = db.get(AnnotationRevision, 9)
            asset = db.get(Asset, 3)
            assert rev is not None and asset is not None
            assert rev.annotations == annotations
            assert asset.filename == f"{FILE}.png"
            dek = rt.custody.data_key(db, 7)
            assert rev.payload_sha256 == digest(
                dek, {"base": 0, "items": annotations}, purpose="payload"
            )
            from labelproof.store.qa_models import QaEvent

            event = db.get(QaEvent, 4)
            assert event is not None and event.details == {"comment": COMMENT}
        with rt.engine.connect() as conn:
            for table, column in [("annotation_revisions", "annotations"), ("assets", "filename")]:
                raw = conn.execute(sa.text(f"SELECT {column} FROM {table}")).scalar_one()
                assert bytes(raw[:4]) == b"LPEC"
        rt.engine.dispose()
        assert scan(settings.data_dir, [m.encode() for m in (ANN, FILE, COMMENT)]) == {
            ANN: [],
            FILE: [],
            COMMENT: [],
        }
    finally:
        rt.engine.dispose()


def test_sealed_fields_need_the_runtime_keys(world: World) -> None:
    """A session without the installation's keys cannot read a sealed field in clear."""
    assert _save(world, world.task_id, 0, ANN).status_code in (200, 201)
    with Session(world.rt.engine) as db:
        rev = db.scalars(select(AnnotationRevision)).one()
        with pytest.raises(Exception, match="sealed"):
            _ = rev.annotations
        assert rev.sealed_annotations[:4] == b"LPEC"
        # nor write one: the placeholder is never stored as if it were sealed
        rev.annotations = []
        with pytest.raises(Exception, match="sealed"):
            db.flush()


def test_a_null_sealed_column_added_later_reads_as_its_default(world: World) -> None:
    """assets.media_meta arrived in migration 0007: rows written before hold NULL, which
    reads as ``None`` (frames as 1), while a new value is sealed like any other field."""
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": ("plain.bmp", marker_bmp(), "image/bmp")},
    )
    assert r.status_code == 201, r.text
    asset_id = r.json()["id"]
    with world.rt.engine.begin() as conn:
        stored = conn.execute(
            text("SELECT media_meta FROM assets WHERE id = :i"), {"i": asset_id}
        ).scalar_one()
        assert stored is not None and b"null" not in bytes(stored)  # sealed, not plain
        conn.execute(text("UPDATE assets SET media_meta = NULL WHERE id = :i"), {"i": asset_id})
    with world.rt.read() as db:
        asset = db.get(Asset, asset_id)
        assert asset is not None
        assert asset.media_meta is None
        assert asset.frames == 1
    with world.rt.write() as db:
        asset = db.get(Asset, asset_id)
        assert asset is not None
        asset.media_meta = {"modality": "CT", "window": [40, 400]}
    with world.rt.read() as db:
        asset = db.get(Asset, asset_id)
        assert asset is not None and asset.media_meta == {"modality": "CT", "window": [40, 400]}
    with world.rt.engine.connect() as conn:
        raw = conn.execute(
            text("SELECT media_meta FROM assets WHERE id = :i"), {"i": asset_id}
        ).scalar_one()
    assert b"modality" not in bytes(raw)
