"""Assets (uploaded images) and tasks made from them."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof.errors import InvalidFile, InvalidInput, LabelproofError, NotFound
from labelproof.formats._io import extract_zip
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.images import ImageInfo, inspect_image
from labelproof.services.permissions import Action, authorize
from labelproof.store.blobs import StagedBlob
from labelproof.store.models import Asset, Task

TASK_MODES = ("single", "consensus", "gold")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every hostile-file check and sits staged, not yet stored."""

    staged: StagedBlob
    info: ImageInfo
    #: The de-identification report when the project's policy cleaned the image.
    deid: dict[str, Any] | None = None
    #: Frames in the upload (a multi-frame DICOM has N; every other image 1).
    frames: int = 1


class IngestPolicy(dict[str, Any]):
    """A project's de-identification policy as uploads use it: the policy's keys, plus
    (as attributes, never keys, so a report's copy of the policy never holds them) the
    project and its DICOM de-identification secret when its data key exists already."""

    project_id: int | None = None
    dicom_secret: bytes | None = None


def ingest_policy(
    db: Session, project_id: int, *, rt: Runtime | None = None, create_key: bool = False
) -> IngestPolicy:
    """The de-identification policy uploads to ``project_id`` go through.

    With ``rt`` and a DICOM policy that is on, the project's DICOM secret is derived now
    (``create_key``: make the project's data key in ``db``'s transaction if it has none;
    else a later DICOM upload makes it in a write of its own).
    """
    from labelproof.services.deid import policy_of
    from labelproof.store.models import Project

    project = db.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    policy = IngestPolicy(policy_of(project))
    policy.project_id = project_id
    if rt is not None and policy.get("dicom", "off") != "off":
        from labelproof.services.dicom import project_secret

        policy.dicom_secret = project_secret(db, rt, project_id, create=create_key)
    return policy


def check_upload(
    rt: Runtime,
    *,
    filename: str | None,
    stream: BinaryIO,
    policy: dict[str, Any] | None = None,
) -> CheckedUpload:
    """Stage and inspect an upload outside any transaction; the caller stores or discards.

    With a de-identification ``policy`` that is on, the staged file is replaced by the
    cleaned image (services/deid.py) before anything hashes or stores it.
    """
    from labelproof.privacy.dicom import is_dicom
    from labelproof.services.deid import deidentify_upload

    staged = rt.blobs.stage(stream, max_bytes=rt.settings.max_upload_bytes)
    with open(staged.path, "rb") as fh:
        head = fh.read(132)
    if is_dicom(head):  # DICOM: its own checks, and de-identification by the "dicom" policy
        from labelproof.services.dicom import check_dicom

        try:
            return check_dicom(rt, staged, filename, policy)
        except BaseException:
            rt.blobs.discard(staged)
            raise
    try:
        info = inspect_image(
            staged.path,
            filename=filename or "",
            max_pixels=rt.settings.max_pixels,
            max_slide_pixels=rt.settings.max_slide_pixels,
        )
    except BaseException:
        rt.blobs.discard(staged)
        raise
    upload = CheckedUpload(staged=staged, info=info)
    if policy is None:
        return upload
    try:
        return deidentify_upload(rt, upload, policy)
    except BaseException:
        rt.blobs.discard(staged)
        raise


def store_upload(
    db: Session,
    rt: Runtime,
    actor: Actor,
    *,
    project_id: int,
    upload: CheckedUpload,
    action: Action = Action.ASSET_UPLOAD,
) -> Asset:
    """Move a checked upload into the blob store and record its row, all or nothing.

    If the row cannot be written, a blob that no row used before is removed again.
    """
    from labelproof.services.custody.blobs import store_blob
    from labelproof.services.custody.fields import project_digest

    authorize(db, actor, project_id, action)
    staged, info = upload.staged, upload.info
    try:
        existed = not store_blob(db, rt, project_id=project_id, staged=staged)
    finally:
        rt.blobs.discard(staged)  # the plaintext staging copy goes as soon as it is sealed
    try:
        asset = Asset(
            project_id=project_id,
            sha256=staged.sha256,
            filename=info.filename,
            media_type=info.media_type,
            size_bytes=staged.size,
            width=info.width,
            height=info.height,
            created_by=actor.user_id,
            deid=upload.deid,
            frames=upload.frames,
            media_meta=info.media_meta,
        )
        db.add(asset)
        db.flush()
        record(
            db,
            AuditRecord(
                AuditAction.ASSET_UPLOADED,
                "asset",
                str(asset.id),
                actor.user_id,
                actor.request_id,
                project_id,
                {
                    "sha256": staged.sha256,
                    "size": staged.size,
                    "deidentified": upload.deid is not None,
                    # DICOM whose pixels may carry text (the report's flags): review them
                    "burned_in_review": bool((upload.deid or {}).get("burned_in")),
                    # never the name itself: audit events outlive a destruction
                    "filename_hmac": project_digest(
                        db, project_id, info.filename, purpose="filename"
                    ),
                },
            ),
        )
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                rt.blobs.delete_sealed(project_id, staged.sha256)
        raise
    return asset


def upload_asset(
    rt: Runtime,
    actor: Actor,
    *,
    project_id: int,
    filename: str | None,
    stream: BinaryIO,
    make_task: bool = False,
) -> tuple[Asset, Task | None]:
    """Authorize, check (outside the write lock), then store an upload and maybe a task."""
    with rt.read() as db:
        authorize(db, actor, project_id, Action.ASSET_UPLOAD)
        if make_task:
            authorize(db, actor, project_id, Action.TASK_CREATE)
        policy = ingest_policy(db, project_id, rt=rt)
    upload = check_upload(rt, filename=filename, stream=stream, policy=policy)
    cut = None
    try:
        cut = _precut_if_slide(rt, upload)  # a slide whose tiles do not decode: nothing stored
        with rt.write() as db:
            asset = store_upload(db, rt, actor, project_id=project_id, upload=upload)
            task = None
            if make_task:
                task = create_tasks(db, actor, project_id=project_id, asset_ids=[asset.id])[0]
    except BaseException:
        if cut is not None:
            shutil.rmtree(cut, ignore_errors=True)
        raise
    finally:
        rt.blobs.discard(upload.staged)
    if cut is not None:
        from labelproof.services import tiles

        tiles.seal_precut(rt, asset, cut)
    else:
        _pyramid_if_large(rt, asset)
    return asset, task


def _precut_if_slide(rt: Runtime, upload: CheckedUpload) -> Path | None:
    """A whole-slide upload's pyramid, cut from the staged file before it is stored."""
    from labelproof.services import slides, tiles

    if upload.info.format != slides.FORMAT:
        return None
    return tiles.precut_slide(rt, upload.staged.path, name=upload.info.filename)


def _pyramid_if_large(rt: Runtime, asset: Asset) -> None:
    """Build the tile pyramid of a large image at upload, not on its first view."""
    from labelproof.services import tiles

    if asset.media_type != "application/dicom" and max(asset.width, asset.height) >= (
        tiles.EAGER_SIDE
    ):
        tiles.build_pyramid(rt, asset)


def list_assets(
    db: Session, actor: Actor, *, project_id: int, offset: int = 0, limit: int = 100
) -> tuple[list[Asset], int]:
    authorize(db, actor, project_id, Action.ASSET_READ)
    total = (
        db.scalar(select(func.count()).select_from(Asset).where(Asset.project_id == project_id))
        or 0
    )
    rows = db.scalars(
        select(Asset)
        .where(Asset.project_id == project_id)
        .order_by(Asset.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def get_asset(db: Session, actor: Actor, *, project_id: int, asset_id: int) -> Asset:
    authorize(db, actor, project_id, Action.ASSET_READ)
    asset = db.get(Asset, asset_id)
    if asset is None or asset.project_id != project_id:
        raise NotFound(f"asset {asset_id} not found")
    return asset


def read_asset(rt: Runtime, actor: Actor, *, project_id: int, asset_id: int) -> tuple[Asset, bytes]:
    """An asset's bytes; every read is an audit event (recorded after the bytes were read)."""
    with rt.read() as db:
        asset = get_asset(db, actor, project_id=project_id, asset_id=asset_id)
    from labelproof.services.custody.blobs import read_blob

    data = read_blob(rt, project_id=project_id, sha256=asset.sha256)
    with rt.write() as db:
        record(
            db,
            AuditRecord(
                AuditAction.ASSET_READ,
                "asset",
                str(asset.id),
                actor.user_id,
                actor.request_id,
                project_id,
            ),
        )
    return asset, data


def create_tasks(
    db: Session,
    actor: Actor,
    *,
    project_id: int,
    asset_ids: list[int],
    mode: str = "single",
    action: Action = Action.TASK_CREATE,
) -> list[Task]:
    authorize(db, actor, project_id, action)
    if mode not in TASK_MODES:
        raise InvalidInput(f"mode must be one of {list(TASK_MODES)}, got {mode!r}", field="mode")
    if not asset_ids:
        raise InvalidInput("asset_ids must not be empty", field="asset_ids")
    if len(asset_ids) > 10_000:
        raise InvalidInput("at most 10000 tasks per request", field="asset_ids")
    found = set(
        db.scalars(select(Asset.id).where(Asset.project_id == project_id, Asset.id.in_(asset_ids)))
    )
    for i, asset_id in enumerate(asset_ids):
        if asset_id not in found:
            raise NotFound(
                f"asset {asset_id} not found in project {project_id}", field=f"asset_ids[{i}]"
            )
    tasks = [
        Task(project_id=project_id, asset_id=a, mode=mode, created_by=actor.user_id)
        for a in asset_ids
    ]
    db.add_all(tasks)
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.TASKS_CREATED,
            "project",
            str(project_id),
            actor.user_id,
            actor.request_id,
            project_id,
            {"task_ids": [t.id for t in tasks], "mode": mode},
        ),
    )
    return tasks


def list_tasks(
    db: Session, actor: Actor, *, project_id: int, offset: int = 0, limit: int = 100
) -> tuple[list[Task], int]:
    authorize(db, actor, project_id, Action.TASK_READ)
    total = (
        db.scalar(select(func.count()).select_from(Task).where(Task.project_id == project_id)) or 0
    )
    rows = db.scalars(
        select(Task)
        .where(Task.project_id == project_id)
        .order_by(Task.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def get_task(db: Session, actor: Actor, *, task_id: int, action: Action = Action.TASK_READ) -> Task:
    """A task by id, authorized through its project (NotFound when not visible)."""
    task = db.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    try:
        authorize(db, actor, task.project_id, action)
    except NotFound:
        raise NotFound(f"task {task_id} not found") from None
    return task


def add_asset(
    db: Session, rt: Runtime, actor: Actor, *, project_id: int, filename: str, stream: BinaryIO
) -> Asset:
    """Check and store an upload inside the caller's transaction (seeding, imports)."""
    authorize(db, actor, project_id, Action.ASSET_UPLOAD)
    upload = check_upload(
        rt,
        filename=filename,
        stream=stream,
        policy=ingest_policy(db, project_id, rt=rt, create_key=True),
    )
    try:
        return store_upload(db, rt, actor, project_id=project_id, upload=upload)
    finally:
        rt.blobs.discard(upload.staged)


MAX_ARCHIVE_IMAGES = 10_000


def upload_archive(
    rt: Runtime,
    actor: Actor,
    *,
    project_id: int,
    filename: str | None,
    stream: BinaryIO,
    make_tasks: bool = True,
) -> list[tuple[Asset, Task | None]]:
    """Upload a zip of images: every member is checked first; all are stored or none.

    The archive is refused whole when any member is hostile (a ``..`` or absolute path, a
    link, a zip bomb) or is not a valid image; the error names the member. Single-frame
    DICOM instances of one CT/MR/PET series become one multi-frame asset
    (:func:`labelproof.services.dicom_series.combine_series`).
    """
    with rt.read() as db:
        authorize(db, actor, project_id, Action.ASSET_UPLOAD)
        if make_tasks:
            authorize(db, actor, project_id, Action.TASK_CREATE)
        policy = ingest_policy(db, project_id, rt=rt)
    staged_zip = rt.blobs.stage(stream, max_bytes=rt.settings.max_upload_bytes)
    uploads: list[CheckedUpload] = []
    try:
        with open(staged_zip.path, "rb") as fh:
            if fh.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise InvalidFile(f"{filename or 'upload'}: not a zip archive", field="file")
        with tempfile.TemporaryDirectory(dir=rt.blobs.root / "tmp") as tmp:
            try:
                extract_zip(staged_zip.path, Path(tmp))
            except LabelproofError as exc:
                # name the upload, never the server's temporary path
                message = exc.message.replace(str(staged_zip.path), filename or "upload")
                raise type(exc)(message, field="file") from None
            members = sorted(p for p in Path(tmp).rglob("*") if p.is_file())
            if not members:
                raise InvalidFile(
                    f"{filename or 'upload'}: the archive holds no files", field="file"
                )
            if len(members) > MAX_ARCHIVE_IMAGES:
                raise InvalidFile(
                    f"{filename or 'upload'}: {len(members)} files is over the limit of "
                    f"{MAX_ARCHIVE_IMAGES} per archive",
                    field="file",
                )
            for member in members:
                rel = member.relative_to(tmp).as_posix()
                try:
                    with open(member, "rb") as fh:
                        uploads.append(
                            check_upload(rt, filename=member.name, stream=fh, policy=policy)
                        )
                except InvalidFile as exc:
                    raise type(exc)(f"member {rel!r}: {exc.message}", field="file") from exc
        # a DICOM series of single-frame instances becomes one multi-frame stack
        from labelproof.services.dicom_series import combine_series

        checked = combine_series(rt, uploads, policy, archive=filename or "upload")
        uploads.extend([u for u in checked if all(u is not v for v in uploads)])  # discarded below
        stored: list[tuple[Asset, Task | None]] = []
        created_blobs: list[str] = []
        try:
            with rt.write() as db:
                for upload in checked:
                    if not rt.blobs.has(project_id, upload.staged.sha256):
                        created_blobs.append(upload.staged.sha256)
                    asset = store_upload(db, rt, actor, project_id=project_id, upload=upload)
                    task = None
                    if make_tasks:
                        task = create_tasks(db, actor, project_id=project_id, asset_ids=[asset.id])[
                            0
                        ]
                    stored.append((asset, task))
        except BaseException:
            for digest in created_blobs:
                with contextlib.suppress(OSError):
                    rt.blobs.delete_sealed(project_id, digest)
            raise
        return stored
    finally:
        rt.blobs.discard(staged_zip)
        for upload in uploads:
            rt.blobs.discard(upload.staged)
