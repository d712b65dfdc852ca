"""Annotation revisions: every save of a task's annotations is appended, never overwritten.

A save names the base revision it was made from (0 for a task with none). If the task's
current revision is not that base, the save is refused with ``StaleRevision`` carrying the
current revision, so nobody's work is silently replaced. A save carries a client-chosen
idempotency key: repeating the same request returns the revision it already made.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from labelproof import annotypes
from labelproof.errors import Conflict, InvalidGeometry, InvalidInput, NotFound, StaleRevision
from labelproof.services import schemas
from labelproof.services.assets import get_task
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.custody.fields import project_digest
from labelproof.services.permissions import Action, remember_role
from labelproof.store.db import next_id
from labelproof.store.models import (
    AnnotationRevision,
    Asset,
    Membership,
    Project,
    SchemaVersion,
    Task,
    User,
)

MAX_ANNOTATIONS = 20_000
SOURCES = ("human", "model")
_ITEM_KEYS = {
    "id",
    "type",
    "label",
    "geometry",
    "attributes",
    "source",
    "confidence",
    "z_order",
    "frame",
}
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class SaveResult:
    revision: AnnotationRevision
    created: bool


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def validate_items(
    items: Any, *, schema: dict[str, Any], image: annotypes.ImageSize, frames: int = 1
) -> list[dict[str, Any]]:
    """Canonical annotations, or InvalidInput naming ``annotations[i].<field>``.

    ``frame`` (optional) is the 0-based frame of a multi-frame asset the annotation is on,
    ``0 <= frame < frames``; absent means frame 0, and an item without it stays without it.
    """
    if not isinstance(items, list):
        raise _fail("annotations", "must be a list")
    if len(items) > MAX_ANNOTATIONS:
        raise _fail("annotations", f"at most {MAX_ANNOTATIONS} annotations per task")
    classes = {c["name"]: c for c in schema["classes"]}
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        field = f"annotations[{i}]"
        if not isinstance(item, dict):
            raise _fail(field, "must be an object")
        unknown = sorted(set(item) - _ITEM_KEYS)
        if unknown:
            raise _fail(field, f"unknown keys {unknown}")
        ann_id = item.get("id") or uuid.uuid4().hex
        if not isinstance(ann_id, str) or not _KEY.match(ann_id):
            raise _fail(f"{field}.id", "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
        if ann_id in seen:
            raise _fail(f"{field}.id", f"duplicate annotation id {ann_id!r}")
        seen.add(ann_id)
        label = item.get("label")
        cls = classes.get(label) if isinstance(label, str) else None
        if cls is None:
            raise _fail(f"{field}.label", f"unknown class {label!r}; schema has {list(classes)}")
        type_name = item.get("type")
        if not isinstance(type_name, str) or type_name not in cls["types"]:
            raise _fail(
                f"{field}.type", f"class {label!r} allows {cls['types']}, not {type_name!r}"
            )
        skeleton = annotypes.Skeleton.from_json(cls["skeleton"]) if "skeleton" in cls else None
        try:
            geometry = annotypes.validate(
                type_name, item.get("geometry"), image=image, skeleton=skeleton
            )
        except InvalidGeometry as exc:
            inner = exc.field or "geometry"
            raise InvalidGeometry(
                f"{field}.{inner}: {exc.message}", field=f"{field}.{inner}"
            ) from exc
        attributes = schemas.check_attributes(cls, item.get("attributes"), f"{field}.attributes")
        source = item.get("source", "human")
        if source not in SOURCES:
            raise _fail(f"{field}.source", f"must be one of {list(SOURCES)}, got {source!r}")
        confidence = item.get("confidence")
        if confidence is not None and (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not math.isfinite(confidence)
            or not 0 <= confidence <= 1
        ):
            raise _fail(f"{field}.confidence", f"must be a number in [0, 1], got {confidence!r}")
        z_order = item.get("z_order", 0)
        if isinstance(z_order, bool) or not isinstance(z_order, int) or abs(z_order) > 10**6:
            raise _fail(f"{field}.z_order", f"must be an integer, got {z_order!r}")
        canonical = {
            "id": ann_id,
            "type": type_name,
            "label": label,
            "geometry": geometry,
            "attributes": attributes,
            "source": source,
            "confidence": None if confidence is None else float(confidence),
            "z_order": z_order,
        }
        if "frame" in item:
            frame = item["frame"]
            if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < frames:
                raise _fail(
                    f"{field}.frame",
                    f"must be an integer frame in [0, {frames - 1}] (the asset has {frames} "
                    f"frame{'s' if frames != 1 else ''}), got {frame!r}",
                )
            canonical["frame"] = frame
        out.append(canonical)
    return out


def current_revision(db: Session, task_id: int) -> AnnotationRevision | None:
    return db.scalar(
        select(AnnotationRevision)
        .where(AnnotationRevision.task_id == task_id)
        .order_by(AnnotationRevision.number.desc())
        .limit(1)
    )


def _by_key(db: Session, task_id: int, key: str) -> AnnotationRevision | None:
    return db.scalar(
        select(AnnotationRevision).where(
            AnnotationRevision.task_id == task_id, AnnotationRevision.idempotency_key == key
        )
    )


def _replay(existing: AnnotationRevision, digest: str, key: str) -> SaveResult:
    if existing.payload_sha256 != digest:
        raise Conflict(
            f"idempotency key {key!r} was already used for a different save",
            field="idempotency_key",
            revision=existing.number,
        )
    return SaveResult(existing, created=False)


def _stale(current: AnnotationRevision | None, base: int) -> StaleRevision:
    number = current.number if current else 0
    return StaleRevision(
        f"revision {number} is current, not {base}: someone saved first; reload and merge",
        field="base_revision",
        current_revision=number,
        current=revision_to_dict(current) if current else None,
    )


def payload_digest(db: Session, project_id: int, base: int, items: list[dict[str, Any]]) -> str:
    """The idempotency digest of a save: HMAC-SHA256 of ``{"base", "items"}`` (canonical
    JSON) under the project's digest key, so the stored value confirms no guessed payload."""
    return project_digest(db, project_id, {"base": base, "items": items}, purpose="payload")


@functools.cache
def _access_query(read: bool) -> Select[Any]:
    """Built once (statement construction costs more CPU than SQLite running it)."""
    entities: list[Any] = [Task, Project, Membership.role, User]
    if read:
        entities += [Asset, SchemaVersion]
    query = (
        select(*entities)
        .join(Project, Project.id == Task.project_id)
        .outerjoin(
            Membership,
            and_(
                Membership.project_id == Task.project_id,
                Membership.user_id == bindparam("user_id"),
            ),
        )
        .outerjoin(User, User.id == bindparam("user_id"))
        .where(Task.id == bindparam("task_id"))
    )
    if read:
        latest = aliased(SchemaVersion)
        newest = (
            select(latest.id)
            .where(latest.project_id == Task.project_id)
            .order_by(latest.version.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = query.outerjoin(Asset, Asset.id == Task.asset_id).outerjoin(
            SchemaVersion, SchemaVersion.id == newest
        )
    return query


def _load_access(db: Session, actor: Actor, task_id: int, *, read: bool) -> tuple[Any, ...] | None:
    """Everything authorizing a save reads, in one statement: the task, its project, the
    actor's role in it and the actor's user row (clearance); with ``read`` also the asset
    and the project's latest schema version.

    The rows land in the session's identity map and the role in ``remember_role``, so
    ``get_task`` / ``authorize`` that follow run their usual checks without a statement of
    their own. The caller keeps the returned row (the identity map holds objects weakly).
    """
    row = db.execute(_access_query(read), {"task_id": task_id, "user_id": actor.user_id}).first()
    if row is None:
        return None
    remember_role(db, row[1].id, actor.user_id, row[2])
    return tuple(row)


@dataclass(frozen=True)
class PreparedSave:
    """A save that passed authorization and validation, ready to be committed."""

    task_id: int
    project_id: int
    schema_version_id: int
    schema_version: int
    base_revision: int
    idempotency_key: str
    items: list[dict[str, Any]]


def prepare_save(
    db: Session,
    actor: Actor,
    *,
    task_id: int,
    base_revision: int,
    annotations: Any,
    idempotency_key: str,
    action: Action = Action.ANNOTATION_WRITE,
) -> PreparedSave:
    """Authorize and validate a save (reads only: runs outside the write transaction)."""
    access = _load_access(db, actor, task_id, read=True)
    task = get_task(db, actor, task_id=task_id, action=action)
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        raise _fail("idempotency_key", "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    if isinstance(base_revision, bool) or not isinstance(base_revision, int) or base_revision < 0:
        raise _fail("base_revision", f"must be a non-negative integer, got {base_revision!r}")
    schema = access[5] if access is not None and access[5] is not None else None
    schema = schema or schemas.latest_version(db, task.project_id)
    asset = db.get(Asset, task.asset_id)
    assert asset is not None
    items = validate_items(
        annotations,
        schema=schema.definition,
        image=annotypes.ImageSize(width=asset.width, height=asset.height),
        frames=asset.frames,
    )
    return PreparedSave(
        task_id=task_id,
        project_id=task.project_id,
        schema_version_id=schema.id,
        schema_version=schema.version,
        base_revision=base_revision,
        idempotency_key=idempotency_key,
        items=items,
    )


@functools.cache
def _state_query(dialect: str) -> Select[Any]:
    rev = AnnotationRevision
    task_id: Any = bindparam("task_id")
    by_key = (
        select(rev.id)
        .where(rev.task_id == task_id, rev.idempotency_key == bindparam("key"))
        .scalar_subquery()
    )
    schema = (
        select(SchemaVersion.id)
        .where(SchemaVersion.project_id == bindparam("project_id"))
        .order_by(SchemaVersion.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    current = select(func.coalesce(func.max(rev.number), 0)).where(rev.task_id == task_id)
    new_id = next_id(dialect, rev.__table__)  # type: ignore[arg-type]
    return select(by_key, schema, current.scalar_subquery(), new_id)


def _write_state(db: Session, p: PreparedSave) -> tuple[int | None, int | None, int, int]:
    """In one statement: the revision already made with this idempotency key (id or None),
    the latest schema version's id, the task's current revision number (0: none) and the
    id the new revision will get (``store.db.next_id``)."""
    query = _state_query(db.get_bind().dialect.name)
    params = {"task_id": p.task_id, "key": p.idempotency_key, "project_id": p.project_id}
    row = db.execute(query, params).one()
    return row[0], row[1], int(row[2]), int(row[3])


def commit_save(
    db: Session,
    actor: Actor,
    prepared: PreparedSave,
    *,
    action: Action = Action.ANNOTATION_WRITE,
    savepoint: bool = True,
) -> SaveResult:
    """Append a prepared save as the next revision, or replay / refuse it.

    Authorization is checked again, and the schema version must still be the latest: a
    save validated against an older schema is refused as stale, to be validated again.

    The new row's id is taken before its INSERT (``_write_state``), so its sealed
    annotations are sealed at flush and inserted with it, never updated afterwards. With
    ``savepoint`` false a lost race (a unique constraint, PostgreSQL only: SQLite writers
    hold the database's lock) raises ``IntegrityError`` out of the transaction, which must
    roll back; ``save_via`` answers it in a new one (two statements fewer per save).
    """
    p = prepared
    access = _load_access(db, actor, p.task_id, read=False)
    get_task(db, actor, task_id=p.task_id, action=action)
    digest = payload_digest(db, p.project_id, p.base_revision, p.items)
    existing_id, schema_id, current, new_id = _write_state(db, p)
    if existing_id is not None:
        existing = db.get(AnnotationRevision, existing_id)
        assert existing is not None
        return _replay(existing, digest, p.idempotency_key)
    if schema_id != p.schema_version_id:
        raise Conflict(
            "the label schema changed while this save was checked; send it again",
            field="schema",
        )
    if current != p.base_revision:
        raise _stale(current_revision(db, p.task_id), p.base_revision)
    revision = AnnotationRevision(
        id=new_id,
        task_id=p.task_id,
        number=p.base_revision + 1,
        base_number=p.base_revision,
        schema_version_id=p.schema_version_id,
        author_id=actor.user_id,
        idempotency_key=p.idempotency_key,
        payload_sha256=digest,
        annotations=p.items,
    )
    if savepoint:
        try:
            with db.begin_nested():
                db.add(revision)
                db.flush()
        except IntegrityError:
            # A concurrent save won the race (same number) or replayed the same key.
            return _after_race(db, p, digest)
    else:
        db.add(revision)
        db.flush()
    del access  # held until the flush: sealing finds the task in the identity map
    record(
        db,
        AuditRecord(
            AuditAction.ANNOTATIONS_SAVED,
            "task",
            str(p.task_id),
            actor.user_id,
            actor.request_id,
            p.project_id,
            {
                "revision": revision.number,
                "count": len(p.items),
                "schema_version": p.schema_version,
            },
        ),
    )
    return SaveResult(revision, created=True)


def _after_race(db: Session, p: PreparedSave, digest: str) -> SaveResult:
    """The answer to a save whose INSERT lost a race: the replay of the revision this key
    made, else the stale revision (the winner's)."""
    existing = _by_key(db, p.task_id, p.idempotency_key)
    if existing is not None:
        return _replay(existing, digest, p.idempotency_key)
    raise _stale(current_revision(db, p.task_id), p.base_revision) from None


def save(
    db: Session,
    actor: Actor,
    *,
    task_id: int,
    base_revision: int,
    annotations: Any,
    idempotency_key: str,
    action: Action = Action.ANNOTATION_WRITE,
) -> SaveResult:
    """Prepare and commit a save in the caller's transaction (CLI, seeding)."""
    prepared = prepare_save(
        db,
        actor,
        task_id=task_id,
        base_revision=base_revision,
        annotations=annotations,
        idempotency_key=idempotency_key,
        action=action,
    )
    return commit_save(db, actor, prepared, action=action)


def save_via(
    rt: Runtime,
    actor: Actor,
    *,
    task_id: int,
    base_revision: int,
    annotations: Any,
    idempotency_key: str,
) -> SaveResult:
    """Validate in a read transaction, then append in a short write transaction, so the
    database's write lock is held only for the checks and inserts, not for validation.

    The write has no savepoint: if its INSERT loses a race (PostgreSQL), the transaction
    rolls back whole and a read transaction finds the replay or the stale revision."""
    with rt.read() as db:
        prepared = prepare_save(
            db,
            actor,
            task_id=task_id,
            base_revision=base_revision,
            annotations=annotations,
            idempotency_key=idempotency_key,
        )
    try:
        with rt.write() as db:
            return commit_save(db, actor, prepared, savepoint=False)
    except IntegrityError:
        with rt.read() as db:
            digest = payload_digest(db, prepared.project_id, prepared.base_revision, prepared.items)
            return _after_race(db, prepared, digest)


def get_current(db: Session, actor: Actor, *, task_id: int) -> AnnotationRevision | None:
    get_task(db, actor, task_id=task_id, action=Action.ANNOTATION_READ)
    return current_revision(db, task_id)


def get_revision(db: Session, actor: Actor, *, task_id: int, number: int) -> AnnotationRevision:
    get_task(db, actor, task_id=task_id, action=Action.ANNOTATION_READ)
    rev = db.scalar(
        select(AnnotationRevision).where(
            AnnotationRevision.task_id == task_id, AnnotationRevision.number == number
        )
    )
    if rev is None:
        raise NotFound(f"revision {number} of task {task_id} not found")
    return rev


def list_revisions(db: Session, actor: Actor, *, task_id: int) -> list[AnnotationRevision]:
    get_task(db, actor, task_id=task_id, action=Action.ANNOTATION_READ)
    return list(
        db.scalars(
            select(AnnotationRevision)
            .where(AnnotationRevision.task_id == task_id)
            .order_by(AnnotationRevision.number)
        )
    )


def count_revisions(db: Session, task_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AnnotationRevision)
            .where(AnnotationRevision.task_id == task_id)
        )
        or 0
    )


def revision_to_dict(rev: AnnotationRevision) -> dict[str, Any]:
    return {
        "task_id": rev.task_id,
        "number": rev.number,
        "base_number": rev.base_number,
        "schema_version_id": rev.schema_version_id,
        "author_id": rev.author_id,
        "created_at": rev.created_at.isoformat(),
        "annotations": rev.annotations,
    }


def schema_of(db: Session, rev: AnnotationRevision) -> SchemaVersion:
    schema = db.get(SchemaVersion, rev.schema_version_id)
    assert schema is not None
    return schema
