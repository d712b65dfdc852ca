"""The peer of benchmarks/save_load.py: a bare ASGI app doing the same durable SQLite
transaction as a labelproof save (check the base, insert the revision, commit with
``synchronous=FULL`` in WAL), with no framework, auth, validation or audit.

Run: ``uvicorn _bare_sqlite_asgi:app`` with ``BARE_DB`` naming the SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from typing import Any

DB = os.environ["BARE_DB"]
_local = threading.local()


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        _local.conn = conn
    return conn


def setup(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS revisions (id INTEGER PRIMARY KEY, task_id INTEGER, "
        "number INTEGER, idem TEXT, body TEXT, UNIQUE(task_id, number), UNIQUE(task_id, idem))"
    )
    conn.commit()
    conn.close()


def _save(task_id: int, body: dict[str, Any], key: str) -> tuple[int, bytes]:
    conn = _conn()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT number FROM revisions WHERE task_id=? AND idem=?", (task_id, key)
        ).fetchone()
        if row:
            conn.execute("COMMIT")
            return 200, json.dumps({"number": row[0]}).encode()
        cur = conn.execute(
            "SELECT COALESCE(MAX(number), 0) FROM revisions WHERE task_id=?", (task_id,)
        ).fetchone()[0]
        if cur != body["base_revision"]:
            conn.execute("COMMIT")
            return 409, b'{"code":"stale_revision"}'
        conn.execute(
            "INSERT INTO revisions (task_id, number, idem, body) VALUES (?,?,?,?)",
            (task_id, cur + 1, key, json.dumps(body["annotations"])),
        )
        conn.execute("COMMIT")
        return 201, json.dumps({"number": cur + 1}).encode()
    except BaseException:
        conn.execute("ROLLBACK")
        raise


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    task_id = int(scope["path"].rstrip("/").split("/")[-2])
    headers = dict(scope["headers"])
    key = headers.get(b"idempotency-key", b"").decode()
    body = json.loads(b"".join(chunks))
    status, out = await asyncio.to_thread(_save, task_id, body, key)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": out})
