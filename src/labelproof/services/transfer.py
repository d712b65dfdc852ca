"""Import a dataset in any registered format into a project, and export a project.

An import either completes or leaves the project unchanged: the dataset is read, every
image is checked as a hostile file and every annotation is validated against the
project's schema and its image's size before anything is written; then one write
transaction stores the images, makes the tasks and appends one revision per task.
Imported annotations can be marked as pre-labels (``source: model``) for review.

An export writes the current revision of every task in a format, a manifest naming the
schema version it was made under, and is an audit event.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof import annotypes
from labelproof.errors import InvalidDataset, InvalidInput, NotFound
from labelproof.formats import Category, Dataset, codec_names, detect_format, get_codec
from labelproof.formats import Image as DsImage
from labelproof.formats._dicomseg_files import has_dicm_magic, split_frame
from labelproof.formats._io import atomic_output, opened_input
from labelproof.services import revisions, schemas
from labelproof.services.assets import (
    CheckedUpload,
    check_upload,
    create_tasks,
    ingest_policy,
    store_upload,
)
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.permissions import Action, authorize
from labelproof.store.models import Asset, Task
from labelproof.store.qa_models import QaBatch, QaBatchTask, QaSopVersion, QaTaskResult

MANIFEST = "labelproof-export.json"
MAX_IMPORT_ANNOTATIONS = 2_000_000


@dataclass(frozen=True)
class ImportResult:
    format: str
    confidence: float
    images: int
    tasks_created: int
    annotations: int
    by_type: dict[str, int]
    prelabels: bool
    loss: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "confidence": self.confidence,
            "images": self.images,
            "tasks_created": self.tasks_created,
            "annotations": self.annotations,
            "by_type": self.by_type,
            "prelabels": self.prelabels,
            "loss": self.loss,
        }


@dataclass(frozen=True)
class ExportResult:
    format: str
    images: int
    annotations: int
    schema_version: int
    loss: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "images": self.images,
            "annotations": self.annotations,
            "schema_version": self.schema_version,
            "loss": self.loss,
        }


def _item(ann: Any, label: str, prelabels: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": ann.type,
        "label": label,
        "geometry": ann.geometry,
        "attributes": dict(ann.attributes),
        "z_order": int(ann.z_order),
        "source": "model" if prelabels or ann.score is not None else "human",
    }
    if ann.score is not None:
        item["confidence"] = min(1.0, max(0.0, float(ann.score)))
    return item


def _plan_items(
    ds: Dataset, schema: dict[str, Any], prelabels: bool
) -> dict[int, list[dict[str, Any]]]:
    names = {c.id: c.name for c in ds.categories}
    known = {c["name"] for c in schema["classes"]}
    per_image: dict[int, list[dict[str, Any]]] = {}
    for n, ann in enumerate(ds.iter_annotations()):
        if n >= MAX_IMPORT_ANNOTATIONS:
            raise InvalidDataset(f"more than {MAX_IMPORT_ANNOTATIONS} annotations in one import")
        label = names.get(ann.label)
        if label is None or label not in known:
            raise InvalidDataset(
                f"annotation {ann.id if ann.id is not None else n} on image {ann.image_id}: "
                f"class {label if label is not None else ann.label!r} is not in the project's "
                f"schema ({sorted(known)})",
                field="label",
            )
        per_image.setdefault(ann.image_id, []).append(_item(ann, label, prelabels))
    return per_image


def import_dataset(
    rt: Runtime,
    actor: Actor,
    *,
    project_id: int,
    path: Path,
    fmt: str = "auto",
    prelabels: bool = False,
) -> ImportResult:
    """Import ``path`` (folder, file or zip) into a project; all or nothing."""
    with rt.read() as db:
        authorize(db, actor, project_id, Action.DATASET_IMPORT)
        policy = ingest_policy(db, project_id, rt=rt)
        schema = schemas.latest_version(db, project_id)
        existing = {
            a.filename: a for a in db.scalars(select(Asset).where(Asset.project_id == project_id))
        }
    uploads: list[CheckedUpload] = []
    try:
        with opened_input(path) as src:
            confidence = 1.0
            if fmt == "auto":
                found = detect_format(src)
                if not found:
                    raise InvalidInput(
                        f"{path.name}: no format recognised it; name one of "
                        f"{', '.join(codec_names())}",
                        field="format",
                    )
                fmt, confidence = found[0]
            ds, loss = get_codec(fmt).read(src)
            per_image = _plan_items(ds, schema.definition, prelabels)
            plan: list[tuple[DsImage, CheckedUpload | Asset, list[dict[str, Any]]]] = []
            # frames of one multi-frame DICOM (``file#k``, formats/dicomseg) share one asset
            sources: dict[Path, tuple[DsImage, CheckedUpload | Asset, list[dict[str, Any]]]] = {}
            for image in ds.images:
                items = per_image.get(image.id, [])
                base, frame = split_frame(image.file_name)
                if frame is None or image.path is None or not has_dicm_magic(image.path):
                    base, frame = image.file_name, None
                if frame is not None and image.path in sources:
                    _first, shared, kept = sources[image.path]
                    kept.extend(_on_frame(items, frame, shared, image, schema.definition))
                    continue
                target: CheckedUpload | Asset
                if image.path is not None:
                    with open(image.path, "rb") as fh:
                        target = check_upload(
                            rt, filename=Path(base).name, stream=fh, policy=policy
                        )
                    uploads.append(target)
                    width, height = target.info.width, target.info.height
                elif Path(image.file_name).name in existing:
                    target = existing[Path(image.file_name).name]
                    width, height = target.width, target.height
                else:
                    raise InvalidDataset(
                        f"image {image.file_name!r}: not in the dataset and no asset of the "
                        "project has that name",
                        field="images",
                    )
                if (width, height) != (image.width, image.height) and image.width > 0:
                    raise InvalidDataset(
                        f"image {image.file_name!r}: the dataset says {image.width}x"
                        f"{image.height}, the file is {width}x{height}",
                        field="images",
                    )
                if frame is not None and image.path is not None and target.frames > 1:
                    items = _on_frame(items, frame, target, image, schema.definition)
                    sources[image.path] = (image, target, items)
                    plan.append((image, target, items))
                    continue
                try:
                    revisions.validate_items(
                        items,
                        schema=schema.definition,
                        image=annotypes.ImageSize(width=width, height=height),
                    )
                except InvalidInput as exc:
                    raise type(exc)(
                        f"image {image.file_name!r}: {exc.message}", field=exc.field
                    ) from exc
                plan.append((image, target, items))
        result = _store_import(rt, actor, project_id, plan, prelabels)
        by_type: dict[str, int] = {}
        for _img, _t, items in plan:
            for item in items:
                by_type[item["type"]] = by_type.get(item["type"], 0) + 1
        return ImportResult(
            format=fmt,
            confidence=confidence,
            images=len(plan),
            tasks_created=result,
            annotations=sum(by_type.values()),
            by_type=by_type,
            prelabels=prelabels,
            loss=loss.to_dict(),
        )
    finally:
        for upload in uploads:
            rt.blobs.discard(upload.staged)


def _on_frame(
    items: list[dict[str, Any]],
    frame: int,
    target: CheckedUpload | Asset,
    image: DsImage,
    schema: dict[str, Any],
) -> list[dict[str, Any]]:
    """``items`` of image ``<file>#<frame>`` (1-based) as annotations on that frame of the
    multi-frame asset ``target`` (``frame`` key 0-based), validated against it."""
    width, height = (
        (target.info.width, target.info.height)
        if isinstance(target, CheckedUpload)
        else (target.width, target.height)
    )
    if (width, height) != (image.width, image.height) or frame > target.frames:
        raise InvalidDataset(
            f"image {image.file_name!r}: the dataset says {image.width}x{image.height}, frame "
            f"{frame}; the file is {width}x{height} with {target.frames} frames",
            field="images",
        )
    framed = [{**item, "frame": frame - 1} for item in items]
    try:
        revisions.validate_items(
            framed,
            schema=schema,
            image=annotypes.ImageSize(width=width, height=height),
            frames=target.frames,
        )
    except InvalidInput as exc:
        raise type(exc)(f"image {image.file_name!r}: {exc.message}", field=exc.field) from exc
    return framed


def _task_for(db: Session, project_id: int, asset_id: int) -> Task | None:
    return db.scalar(
        select(Task)
        .where(Task.project_id == project_id, Task.asset_id == asset_id)
        .order_by(Task.id)
        .limit(1)
    )


def _store_import(
    rt: Runtime,
    actor: Actor,
    project_id: int,
    plan: list[tuple[DsImage, CheckedUpload | Asset, list[dict[str, Any]]]],
    prelabels: bool,
) -> int:
    created_blobs: list[str] = []
    tasks_created = 0
    key = f"import-{actor.request_id}"
    try:
        with rt.write() as db:
            for n, (_image, target, items) in enumerate(plan):
                if isinstance(target, CheckedUpload):
                    if not rt.blobs.has(project_id, target.staged.sha256):
                        created_blobs.append(target.staged.sha256)
                    asset = store_upload(
                        db,
                        rt,
                        actor,
                        project_id=project_id,
                        upload=target,
                        action=Action.DATASET_IMPORT,
                    )
                    task = None
                else:
                    asset = target
                    task = _task_for(db, project_id, asset.id)
                if task is None:
                    task = create_tasks(
                        db,
                        actor,
                        project_id=project_id,
                        asset_ids=[asset.id],
                        action=Action.DATASET_IMPORT,
                    )[0]
                    tasks_created += 1
                current = revisions.current_revision(db, task.id)
                kept = list(current.annotations) if current else []
                revisions.save(
                    db,
                    actor,
                    task_id=task.id,
                    base_revision=current.number if current else 0,
                    annotations=kept + items,
                    idempotency_key=f"{key}-{n}",
                    action=Action.DATASET_IMPORT,
                )
            record(
                db,
                AuditRecord(
                    AuditAction.DATASET_IMPORTED,
                    "project",
                    str(project_id),
                    actor.user_id,
                    actor.request_id,
                    project_id,
                    {
                        "images": len(plan),
                        "annotations": sum(len(i) for _a, _b, i in plan),
                        "prelabels": prelabels,
                    },
                ),
            )
    except BaseException:
        for digest in created_blobs:
            with contextlib.suppress(OSError):
                rt.blobs.delete_sealed(project_id, digest)
        raise
    return tasks_created


EXPORT_SCOPES = ("all", "accepted")


def _scoped_annotations(
    db: Session, project_id: int, task_ids: list[int], scope: str
) -> dict[int, list[dict[str, Any]]]:
    """Per task: its current working revision ("all") or its accepted QA result."""
    out: dict[int, list[dict[str, Any]]] = {}
    if scope == "all":
        for task_id in task_ids:
            rev = revisions.current_revision(db, task_id)
            if rev is not None:
                out[task_id] = list(rev.annotations)
        return out
    rows = db.scalars(
        select(QaTaskResult)
        .where(QaTaskResult.project_id == project_id, QaTaskResult.task_id.in_(task_ids))
        .order_by(QaTaskResult.id)
    )
    for result in rows:  # the newest result of a task wins
        out[result.task_id] = list(result.annotations)
    return out


def export_project(
    rt: Runtime,
    actor: Actor,
    *,
    project_id: int,
    fmt: str,
    out: Path,
    scope: str = "all",
    batch_id: int | None = None,
) -> ExportResult:
    """Write a project's annotations and images as ``fmt`` into ``out``.

    ``scope="all"``: every task's current working revision; ``scope="accepted"``: only the
    tasks whose work the QA workflow accepted, with the accepted annotations (a reviewed
    assignment, a consensus merge or an adjudication). ``batch_id`` limits it to a batch.
    ``out`` must be absent or empty; nothing is left there on error. The folder gets the
    codec's files, the images, the loss report and ``labelproof-export.json`` (project,
    schema and SOP version, scope, time, who, counts).
    """
    codec = get_codec(fmt)
    if scope not in EXPORT_SCOPES:
        raise InvalidInput(
            f"scope must be one of {list(EXPORT_SCOPES)}, got {scope!r}", field="scope"
        )
    with rt.read() as db:
        project = authorize(db, actor, project_id, Action.DATASET_EXPORT)
        schema = schemas.latest_version(db, project_id)
        query = (
            select(Task, Asset)
            .join(Asset, Asset.id == Task.asset_id)
            .where(Task.project_id == project_id)
            .order_by(Task.id)
        )
        if batch_id is not None:
            batch = db.get(QaBatch, batch_id)
            if batch is None or batch.project_id != project_id:
                raise NotFound(
                    f"batch {batch_id} not found in project {project_id}", field="batch_id"
                )
            query = query.join(QaBatchTask, QaBatchTask.task_id == Task.id).where(
                QaBatchTask.batch_id == batch_id
            )
        rows = [(task, asset) for task, asset in db.execute(query)]
        latest = _scoped_annotations(db, project_id, [t.id for t, _a in rows], scope)
        if scope == "accepted":
            rows = [(t, a) for t, a in rows if t.id in latest]
        sop = db.scalar(
            select(func.max(QaSopVersion.version)).where(QaSopVersion.project_id == project_id)
        )
    spec = {"scope": scope, "batch_id": batch_id, "sop_version": sop}
    # Images are decrypted into a private folder for the codec, removed when it is done.
    with tempfile.TemporaryDirectory(dir=rt.blobs.root / "tmp", prefix="export-") as plain:
        ds = _dataset(rt, schema.definition, rows, latest, Path(plain), frames=fmt == "dicomseg")
        framed = [] if fmt == "dicomseg" else _framed(rows, latest)
        return _write_export(rt, actor, project, schema, codec, fmt, out, ds, spec, framed)


FRAMES_FLATTENED = "frame of a multi-frame DICOM not carried (the format has no frames)"


def _framed(rows: list[tuple[Task, Asset]], latest: dict[int, list[dict[str, Any]]]) -> list[str]:
    """Examples (one per annotation) of annotations whose ``frame`` a frameless format drops."""
    out = []
    for task, asset in rows:
        if asset.frames > 1:
            for item in latest.get(task.id, []):
                out.append(f"task {task.id} ({asset.filename}), frame {item.get('frame', 0)}")
    return out


def _write_export(
    rt: Runtime,
    actor: Actor,
    project: Any,
    schema: Any,
    codec: Any,
    fmt: str,
    out: Path,
    ds: Dataset,
    spec: dict[str, Any],
    framed: list[str] | None = None,
) -> ExportResult:
    project_id = project.id
    counts = {"images": len(ds.images), "annotations": len(ds.annotations)}
    with atomic_output(out) as tmp:
        loss = codec.write(ds, tmp)
        for example in framed or []:
            loss.approx(FRAMES_FLATTENED, example)
        manifest = {
            "project": {"id": project.id, "name": project.name},
            "schema_version": schema.version,
            **spec,
            "format": fmt,
            "exported_at": datetime.now(UTC).isoformat(),
            "exported_by": actor.email,
            **counts,
        }
        (tmp / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        (tmp / "labelproof-loss-report.json").write_bytes(
            orjson.dumps(loss.to_dict(), option=orjson.OPT_INDENT_2)
        )
        with rt.write() as db:
            record(
                db,
                AuditRecord(
                    AuditAction.DATASET_EXPORTED,
                    "project",
                    str(project_id),
                    actor.user_id,
                    actor.request_id,
                    project_id,
                    {"format": fmt, "schema_version": schema.version, **spec, **counts},
                ),
            )
    return ExportResult(
        format=fmt,
        images=len(ds.images),
        annotations=len(ds.annotations),
        schema_version=schema.version,
        loss=loss.to_dict(),
    )


def _dataset(
    rt: Runtime,
    schema: dict[str, Any],
    rows: list[tuple[Task, Asset]],
    latest: dict[int, list[dict[str, Any]]],
    plain_dir: Path,
    *,
    frames: bool = False,
) -> Dataset:
    """The export's dataset: one image per task (its asset decrypted into ``plain_dir``).

    With ``frames`` (DICOM SEG), a multi-frame DICOM asset becomes one image per frame,
    named ``<file>#<1-based frame>`` as formats/dicomseg expects, each annotation on the
    image of its ``frame`` key (0-based, absent = 0); image ids are then numbered anew.
    """
    from labelproof.formats import Annotation as DsAnnotation
    from labelproof.services.custody.blobs import copy_blob

    categories = []
    cat_id: dict[str, int] = {}
    for i, cls in enumerate(schema["classes"], start=1):
        skeleton = annotypes.Skeleton.from_json(cls["skeleton"]) if "skeleton" in cls else None
        categories.append(Category(id=i, name=cls["name"], skeleton=skeleton))
        cat_id[cls["name"]] = i
    images: list[DsImage] = []
    anns: list[Any] = []
    seen_names: set[str] = set()
    for task, asset in rows:
        name = asset.filename
        if name in seen_names:  # two assets with one name: keep both, distinctly
            stem, dot, ext = name.rpartition(".")
            name = f"{stem or ext}-{asset.id}{dot}{ext if stem else ''}"
        seen_names.add(name)
        plain = plain_dir / asset.sha256
        if not plain.exists():
            with open(plain, "wb") as fh:
                copy_blob(rt, project_id=asset.project_id, sha256=asset.sha256, dst=fh)
        image_of: dict[int, int] = {0: task.id}
        if frames and asset.media_type == "application/dicom" and asset.frames > 1:
            for k in range(asset.frames):
                image_of[k] = -(len(images) + 1)  # renumbered below
                images.append(
                    DsImage(image_of[k], f"{name}#{k + 1}", asset.width, asset.height, path=plain)
                )
        else:
            images.append(DsImage(task.id, name, asset.width, asset.height, path=plain))
        for item in latest.get(task.id, []):
            anns.append(
                DsAnnotation(
                    image_id=image_of.get(int(item.get("frame", 0)), task.id),
                    type=item["type"],
                    label=cat_id[item["label"]],
                    geometry=item["geometry"],
                    attributes=dict(item.get("attributes") or {}),
                    id=len(anns) + 1,
                    z_order=int(item.get("z_order", 0)),
                    score=item.get("confidence"),
                    source="model" if item.get("source") == "model" else "manual",
                )
            )
    if frames and any(im.id < 0 for im in images):  # frames of multi-frame assets: renumber
        new_id = {im.id: n for n, im in enumerate(images, start=1)}
        images = [replace(im, id=new_id[im.id]) for im in images]
        anns = [replace(a, image_id=new_id[a.image_id]) for a in anns]
    return Dataset(images=images, categories=categories, annotations=anns, name="labelproof")
