"""Set-up for editing tests through the HTTP API as the demo admin: a fresh project (the
demo's people and schema) whose one task comes from a COCO import, optionally as model
pre-labels (``prelabels=true``), so each test has its own task and history."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from typing import Any

import httpx

from tests.browser.qa_setup import demo_users, ok, png

_names = itertools.count(1)


def coco_zip(
    file_name: str, image: bytes, size: tuple[int, int], anns: list[dict[str, Any]]
) -> bytes:
    """A zip of ``annotations.json`` (COCO) and ``images/<file_name>``. ``anns``: COCO
    annotation records without ids (``category``: a class name, replaced by its id)."""
    names = sorted({a["category"] for a in anns})
    cat = {n: i + 1 for i, n in enumerate(names)}
    records = []
    for i, a in enumerate(anns, start=1):
        rec = {k: v for k, v in a.items() if k != "category"}
        rec.update(id=i, image_id=1, category_id=cat[a["category"]], iscrowd=0)
        records.append(rec)
    doc = {
        "images": [{"id": 1, "file_name": file_name, "width": size[0], "height": size[1]}],
        "categories": [{"id": i, "name": n} for n, i in cat.items()],
        "annotations": records,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("annotations.json", json.dumps(doc))
        zf.writestr(f"images/{file_name}", image)
    return buf.getvalue()


def project_with_import(
    admin: httpx.Client,
    anns: list[dict[str, Any]],
    *,
    prelabels: bool = True,
    size: tuple[int, int] = (400, 300),
) -> tuple[int, int]:
    """A fresh project with one imported image and its annotations: (project, task)."""
    n = next(_names)
    pid = int(ok(admin.post("/api/projects", json={"name": f"editing test {n}"}))["id"])
    for role, uid in demo_users(admin).items():
        if role != "admin":
            ok(admin.put(f"/api/projects/{pid}/members", json={"user_id": uid, "role": role}))
    schema = ok(admin.get("/api/projects/1/schemas"))[-1]["definition"]
    ok(admin.post(f"/api/projects/{pid}/schemas", json={"definition": schema}))
    name = f"edit-{pid}.png"
    data = coco_zip(name, png(*size, seed=pid), size, anns)
    ok(
        admin.post(
            f"/api/projects/{pid}/imports",
            files={"file": ("prelabels.zip", data, "application/zip")},
            data={"format": "coco", "prelabels": "true" if prelabels else "false"},
        )
    )
    tasks = ok(admin.get(f"/api/projects/{pid}/tasks"))["items"]
    assert len(tasks) == 1, tasks
    return pid, int(tasks[0]["id"])


def revisions(admin: httpx.Client, task_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = ok(admin.get(f"/api/tasks/{task_id}/revisions"))
    return out


def current(admin: httpx.Client, task_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = ok(admin.get(f"/api/tasks/{task_id}/annotations"))["annotations"]
    return out
