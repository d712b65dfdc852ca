"""An in-memory stand-in for the parts of the Label Studio REST API the connector uses,
served through ``httpx.MockTransport``. Its answers copy the shapes Label Studio 1.23 gives
(checked against the live server by tests/connectors/test_scenario.py, which runs the same
scenario on both)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

ADMIN = {"id": 1, "email": "admin@labelproof.test", "username": ""}


@dataclass
class FakeLabelStudio:
    token: str = "fake-token-123456"
    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=lambda: {1: dict(ADMIN)})
    seq: dict[str, int] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def _next(self, kind: str) -> int:
        self.seq[kind] = self.seq.get(kind, 0) + 1
        return self.seq[kind]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Token {self.token}":
            return _err(401, "Invalid token.")
        path, q = request.url.path, request.url.params
        body = json.loads(request.content) if request.content else None
        m = re.fullmatch(r"/api/projects/(\d+)/", path)
        if m and request.method == "GET":
            p = self.projects.get(int(m[1]))
            return httpx.Response(200, json=p) if p else _err(404, "No Project matches.")
        if path == "/api/projects/" and request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "count": len(self.projects),
                    "next": None,
                    "results": [*self.projects.values()],
                },
            )
        if path == "/api/projects/" and request.method == "POST":
            pid = self._next("project")
            self.projects[pid] = {
                "id": pid,
                "title": body["title"],
                "label_config": body["label_config"],
            }
            return httpx.Response(201, json=self.projects[pid])
        m = re.fullmatch(r"/api/projects/(\d+)/import", path)
        if m and request.method == "POST":
            ids = []
            for item in body:
                tid = self._next("task")
                data = item.get("data", item)
                self.tasks[tid] = {
                    "id": tid,
                    "project": int(m[1]),
                    "data": data,
                    "annotations": [],
                    "predictions": [],
                }
                ids.append(tid)
            return httpx.Response(201, json={"task_count": len(ids), "task_ids": ids})
        if path == "/api/tasks/" and request.method == "GET":
            return self._tasks(q)
        if path == "/api/predictions/" and request.method == "POST":
            pred = {
                "id": self._next("prediction"),
                "result": body["result"],
                "score": body.get("score"),
                "model_version": body.get("model_version", ""),
                "task": body["task"],
            }
            self.tasks[body["task"]]["predictions"].append(pred)
            return httpx.Response(201, json=pred)
        m = re.fullmatch(r"/api/tasks/(\d+)/annotations/", path)
        if m and request.method == "POST":
            ann = {
                "id": self._next("annotation"),
                "result": body["result"],
                "completed_by": body.get("completed_by", 1),
                "was_cancelled": False,
                "ground_truth": body.get("ground_truth", False),
                "task": int(m[1]),
            }
            self.tasks[int(m[1])]["annotations"].append(ann)
            return httpx.Response(201, json=ann)
        if path == "/api/users/" and request.method == "GET":
            return httpx.Response(200, json=list(self.users.values()))
        if path == "/api/users/" and request.method == "POST":
            uid = max(self.users) + 1
            self.users[uid] = {"id": uid, "email": body["email"], "username": body["username"]}
            return httpx.Response(201, json=self.users[uid])
        return _err(404, f"no route {request.method} {path}")

    def _tasks(self, q: httpx.QueryParams) -> httpx.Response:
        pid, page, size = int(q["project"]), int(q.get("page", 1)), int(q.get("page_size", 100))
        rows = [t for t in self.tasks.values() if t["project"] == pid]
        chunk = rows[(page - 1) * size : page * size]
        if page > 1 and not chunk:
            return _err(404, "Invalid page.")
        full = q.get("fields") == "all"
        out = [
            t if full else {k: v for k, v in t.items() if k not in ("annotations", "predictions")}
            for t in chunk
        ]
        return httpx.Response(200, json={"total": len(rows), "tasks": out})


def _err(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"status_code": status, "detail": detail})
