"""Assets (image uploads and downloads) and tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Query, Response, UploadFile

from labelproof.api.deps import CurrentActor, RuntimeDep, SessionDep, UnitOfWorkDep
from labelproof.api.models import AssetOut, Page, TaskOut, TasksIn, TilesOut
from labelproof.services import assets, tiles

router = APIRouter(prefix="/api", tags=["assets"])


@router.post("/projects/{project_id}/assets", status_code=201)
def upload_asset(
    project_id: int, rt: RuntimeDep, actor: CurrentActor, file: UploadFile = File(...)
) -> AssetOut:
    """Upload one image (PNG, JPEG, TIFF, WebP, BMP), checked as a hostile file."""
    asset, _task = assets.upload_asset(
        rt, actor, project_id=project_id, filename=file.filename, stream=file.file
    )
    return AssetOut.model_validate(asset)


@router.post("/projects/{project_id}/assets/archive", status_code=201)
def upload_asset_archive(
    project_id: int,
    rt: RuntimeDep,
    actor: CurrentActor,
    file: UploadFile = File(...),
    tasks: bool = Query(True, description="Make one task per image."),
) -> list[AssetOut]:
    """Upload a zip of images; every member is checked, and all are stored or none."""
    stored = assets.upload_archive(
        rt, actor, project_id=project_id, filename=file.filename, stream=file.file, make_tasks=tasks
    )
    return [AssetOut.model_validate(a) for a, _t in stored]


@router.get("/projects/{project_id}/assets")
def list_assets(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> Page[AssetOut]:
    """A page of a project's assets."""
    rows, total = assets.list_assets(db, actor, project_id=project_id, offset=offset, limit=limit)
    return Page[AssetOut](
        items=[AssetOut.model_validate(a) for a in rows], total=total, offset=offset, limit=limit
    )


@router.get("/projects/{project_id}/assets/{asset_id}")
def get_asset(project_id: int, asset_id: int, db: SessionDep, actor: CurrentActor) -> AssetOut:
    """An asset's metadata."""
    return AssetOut.model_validate(
        assets.get_asset(db, actor, project_id=project_id, asset_id=asset_id)
    )


@router.get(
    "/projects/{project_id}/assets/{asset_id}/content",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The image bytes."}},
)
def get_asset_content(
    project_id: int, asset_id: int, rt: RuntimeDep, actor: CurrentActor
) -> Response:
    """The image itself (every read is an audit event)."""
    asset, data = assets.read_asset(rt, actor, project_id=project_id, asset_id=asset_id)
    return Response(
        data,
        media_type=asset.media_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{asset.sha256}"',
        },
    )


_JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "A JPEG image."}
}


@router.get("/projects/{project_id}/assets/{asset_id}/tiles")
def get_asset_tiles(
    project_id: int, asset_id: int, rt: RuntimeDep, actor: CurrentActor
) -> TilesOut:
    """The asset's Deep Zoom pyramid (built on first use); an audited read."""
    pyramid = tiles.open_pyramid(rt, actor, project_id=project_id, asset_id=asset_id)
    return TilesOut(
        width=pyramid.width,
        height=pyramid.height,
        tile_size=pyramid.tile_size,
        overlap=pyramid.overlap,
        format=pyramid.format,
        max_level=pyramid.max_level,
    )


@router.get(
    "/projects/{project_id}/assets/{asset_id}/tiles/{level}/{col}_{row}.jpg",
    response_class=Response,
    responses=_JPEG,
)
def get_asset_tile(
    project_id: int,
    asset_id: int,
    level: int,
    col: int,
    row: int,
    rt: RuntimeDep,
    actor: CurrentActor,
) -> Response:
    """One 256 px tile of the pyramid, in full-resolution pixel space at the top level."""
    data = tiles.tile(
        rt, actor, project_id=project_id, asset_id=asset_id, level=level, col=col, row=row
    )
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get(
    "/projects/{project_id}/assets/{asset_id}/thumbnail",
    response_class=Response,
    responses=_JPEG,
)
def get_asset_thumbnail(
    project_id: int,
    asset_id: int,
    rt: RuntimeDep,
    actor: CurrentActor,
    max: int = Query(256, ge=16, le=1024, description="Largest side in pixels."),
) -> Response:
    """A small JPEG of the asset for lists."""
    data = tiles.thumbnail(rt, actor, project_id=project_id, asset_id=asset_id, size=max)
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.post("/projects/{project_id}/tasks", status_code=201)
def create_tasks(
    project_id: int, body: TasksIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> list[TaskOut]:
    """Make one task per asset."""
    tasks = uow(
        lambda db: assets.create_tasks(
            db, actor, project_id=project_id, asset_ids=body.asset_ids, mode=body.mode
        )
    )
    return [TaskOut.model_validate(t) for t in tasks]


@router.get("/projects/{project_id}/tasks")
def list_tasks(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> Page[TaskOut]:
    """A page of a project's tasks."""
    rows, total = assets.list_tasks(db, actor, project_id=project_id, offset=offset, limit=limit)
    return Page[TaskOut](
        items=[TaskOut.model_validate(t) for t in rows], total=total, offset=offset, limit=limit
    )


@router.get("/tasks/{task_id}")
def get_task(task_id: int, db: SessionDep, actor: CurrentActor) -> TaskOut:
    """One task."""
    return TaskOut.model_validate(assets.get_task(db, actor, task_id=task_id))
