"""QA set-up for browser tests, through the HTTP API as the demo admin: a fresh project per
test (the demo's people as members, the demo schema, a generated image), a quality policy,
an SOP with a self-check checklist and a production batch. ``labelproof demo`` seeds no QA
state, and a project per test keeps the claim queues of tests apart."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image, ImageDraw

CHECKLIST = [
    {"id": "tight", "text": "Every box touches the object's outermost pixels"},
    {"id": "complete", "text": "Every visible object of a schema class is labelled"},
]
_names = itertools.count(1)


@dataclass(frozen=True)
class QaProject:
    id: int
    asset_id: int
    batch_id: int
    task_ids: list[int]
    users: dict[str, int]  # role -> user id


def png(width: int, height: int, *, seed: int = 0) -> bytes:
    """A PNG of ``width`` x ``height`` px with a few filled rectangles (not blank, so JPEG
    tiles and thumbnails carry content)."""
    img = Image.new("RGB", (width, height), (60 + seed % 40, 90, 120))
    draw = ImageDraw.Draw(img)
    for i in range(6):
        x0, y0 = (i * 97 + seed * 13) % max(1, width - 40), (i * 61) % max(1, height - 40)
        draw.rectangle(
            [x0, y0, x0 + width // 6, y0 + height // 6], fill=(200, 40 * i % 255, 80 + 20 * i)
        )
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def grid_png(width: int, height: int, step: int = 100, line: int = 4) -> bytes:
    """A dark PNG with light grid lines ``line`` px wide starting at every multiple of
    ``step`` px in x and y, and a label every 5 steps: where a tile lands is checkable."""
    img = Image.new("L", (width, height), 40)
    draw = ImageDraw.Draw(img)
    for x in range(0, width, step):
        draw.rectangle([x, 0, x + line - 1, height - 1], fill=230)
    for y in range(0, height, step):
        draw.rectangle([0, y, width - 1, y + line - 1], fill=230)
    for x in range(0, width, 5 * step):
        for y in range(0, height, 5 * step):
            draw.text((x + 10, y + 10), f"{x},{y}", fill=255)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def ok(r: httpx.Response) -> Any:
    """The JSON body of a successful response (the body in the message otherwise)."""
    assert r.is_success, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


def demo_users(admin: httpx.Client) -> dict[str, int]:
    """role -> user id of the demo project's members."""
    return {m["role"]: m["user_id"] for m in ok(admin.get("/api/projects/1/members"))}


def upload(admin: httpx.Client, project_id: int, data: bytes, name: str) -> dict[str, Any]:
    files = {"file": (name, data, "image/png")}
    out: dict[str, Any] = ok(admin.post(f"/api/projects/{project_id}/assets", files=files))
    return out


def make_project(
    admin: httpx.Client,
    *,
    image: bytes | None = None,
    tasks: int = 1,
    policy: dict[str, Any] | None = None,
    checklist: list[dict[str, str]] | None = None,
) -> QaProject:
    """A project with the demo people and schema, one image (``image``, or the demo's
    512 x 512 astronaut), a policy, an SOP (v1) with ``checklist`` and a production batch of
    ``tasks`` single tasks on that image."""
    n = next(_names)
    project = ok(admin.post("/api/projects", json={"name": f"QA browser test {n}"}))
    pid = int(project["id"])
    users = demo_users(admin)
    for role, uid in users.items():
        if role != "admin":
            ok(admin.put(f"/api/projects/{pid}/members", json={"user_id": uid, "role": role}))
    schema = ok(admin.get("/api/projects/1/schemas"))[-1]["definition"]
    ok(admin.post(f"/api/projects/{pid}/schemas", json={"definition": schema}))
    if image is None:
        demo = admin.get("/api/projects/1/assets/1/content")
        image = demo.content if demo.is_success else png(512, 512, seed=n)
    asset = upload(admin, pid, image, f"qa-{n}.png")
    settings = {
        "require_qualification": False,
        "gold_rate": 0.0,
        "peer_review": True,
        "lead_audit": False,
        **(policy or {}),
    }
    ok(admin.post(f"/api/projects/{pid}/qa/policies", json={"settings": settings}))
    ok(
        admin.post(
            f"/api/projects/{pid}/qa/sops",
            json={
                "guidelines": "Draw a tight box around every person and object.",
                "checklist": CHECKLIST if checklist is None else checklist,
                "changelog": "first version",
            },
        )
    )
    batch = ok(
        admin.post(f"/api/projects/{pid}/qa/batches", json={"name": "wave 1", "kind": "production"})
    )
    rows = ok(
        admin.post(
            f"/api/qa/batches/{batch['id']}/tasks", json={"asset_ids": [asset["id"]] * tasks}
        )
    )
    return QaProject(
        id=pid,
        asset_id=int(asset["id"]),
        batch_id=int(batch["id"]),
        task_ids=[int(r["task_id"]) for r in rows],
        users=users,
    )


def client_as(url: str, email: str, password: str) -> httpx.Client:
    """An HTTP client signed in as someone (close it after use)."""
    c = httpx.Client(base_url=url, timeout=30)
    ok(c.post("/api/auth/login", json={"email": email, "password": password}))
    c.headers["X-CSRF-Token"] = c.cookies["labelproof_csrf"]  # cookie sessions need it
    return c
