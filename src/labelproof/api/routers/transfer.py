"""Dataset import into a project and project export, in any registered format."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from labelproof.api.deps import CurrentActor, RuntimeDep
from labelproof.services import transfer
from labelproof.services.images import clean_filename

router = APIRouter(prefix="/api/projects", tags=["datasets"])


@router.post("/{project_id}/imports", status_code=201)
def import_dataset(
    project_id: int,
    rt: RuntimeDep,
    actor: CurrentActor,
    file: UploadFile = File(..., description="A dataset file or a zip of a dataset folder."),
    format: str = Form("auto", description="A codec name, or auto to detect it."),
    prelabels: bool = Form(False, description="Import as model pre-labels to review."),
) -> dict[str, Any]:
    """Import a dataset (with its images, or onto assets of the same names); all or nothing."""
    name = clean_filename(file.filename)
    staged = rt.blobs.stage(file.file, max_bytes=rt.settings.max_upload_bytes)
    try:
        with tempfile.TemporaryDirectory(dir=rt.blobs.root / "tmp") as tmp:
            path = Path(tmp) / name
            shutil.move(staged.path, path)
            result = transfer.import_dataset(
                rt, actor, project_id=project_id, path=path, fmt=format, prelabels=prelabels
            )
    finally:
        rt.blobs.discard(staged)
    return result.to_dict()


@router.get(
    "/{project_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "A zip of the export."}},
)
def export_project(
    project_id: int,
    rt: RuntimeDep,
    actor: CurrentActor,
    format: str = Query(..., description="A codec name (see `labelproof formats`)."),
    scope: str = Query("all", description="all: working revisions; accepted: QA-accepted."),
    batch_id: int | None = Query(None, description="Only this batch's tasks."),
) -> Response:
    """Export the current annotations and images of a project as a zip (an audit event)."""
    with tempfile.TemporaryDirectory(dir=rt.blobs.root / "tmp") as tmp:
        out = Path(tmp) / "export"
        transfer.export_project(
            rt, actor, project_id=project_id, fmt=format, out=out, scope=scope, batch_id=batch_id
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for item in sorted(out.rglob("*")):
                if item.is_file():
                    zf.write(item, item.relative_to(out).as_posix())
    return Response(
        buf.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="project-{project_id}-{format}.zip"'
        },
    )
