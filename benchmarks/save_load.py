"""Concurrent annotators saving to labelproof on SQLite, against a bare ASGI handler.

Starts ``labelproof serve`` on a fresh SQLite data directory and, in the same run, a bare
ASGI app (``_bare_sqlite_asgi.py``) doing the same durable SQLite transaction. For each
server and each concurrency level, N simulated annotators each save 20 regions (boxes and
polygons) to their own task, on the revision they last got, for a bounded time. Prints
saves/s, p50/p99 latency, HTTP errors, and duplicate revisions (rows beyond acknowledged
saves and saves whose outcome the client never learnt), and the ratio labelproof / bare. A
transport error (no response) is printed with its cause, and a row it left is counted as
"unacknowledged", not hidden.

    .venv/bin/python benchmarks/save_load.py [--levels 50,200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
PASSWORD = "bench-" + uuid.uuid4().hex
SCHEMA = {
    "classes": [
        {"name": "car", "types": ["box", "polygon"]},
        {"name": "person", "types": ["box", "polygon"]},
    ]
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def regions(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(20):
        x, y = rng.uniform(0, 500), rng.uniform(0, 350)
        w, h = rng.uniform(5, 120), rng.uniform(5, 120)
        label = rng.choice(["car", "person"])
        if i % 2:
            out.append(
                {
                    "id": f"r{i}",
                    "type": "box",
                    "label": label,
                    "geometry": {"x": x, "y": y, "w": w, "h": h},
                }
            )
        else:
            pts = [[x, y], [x + w, y], [x + w, y + h], [x + w / 2, y + h * 1.1], [x, y + h]]
            out.append(
                {
                    "id": f"r{i}",
                    "type": "polygon",
                    "label": label,
                    "geometry": {
                        "points": [[min(p[0], 639), min(p[1], 479)] for p in pts],
                        "holes": [],
                    },
                }
            )
    return out


def seed(data_dir: Path, n: int) -> list[tuple[int, str]]:
    """A project with one 640x480 image, n annotators each with a task and a token."""
    from PIL import Image

    from labelproof.config import load_settings
    from labelproof.services import accounts, assets, projects, schemas
    from labelproof.services.context import new_request_id, open_runtime
    from labelproof.store.db import transaction

    rt = open_runtime(load_settings(data_dir))
    out = []
    with transaction(rt.sessions) as db:
        root = accounts.bootstrap(
            db,
            org_name="Bench",
            org_slug="bench",
            email="root@bench.test",
            password=PASSWORD,
            request_id=new_request_id(),
        )
        actor = accounts.actor_for(root)
        project = projects.create_project(db, actor, name="bench")
        schemas.create_version(db, actor, project_id=project.id, definition=SCHEMA)
        buf = io.BytesIO()
        Image.new("RGB", (640, 480), "gray").save(buf, format="PNG")
        buf.seek(0)
        asset = assets.add_asset(db, rt, actor, project_id=project.id, filename="a.png", stream=buf)
        tasks = assets.create_tasks(db, actor, project_id=project.id, asset_ids=[asset.id] * n)
        for i, task in enumerate(tasks):
            user = accounts.create_user(
                db,
                actor,
                org_id=actor.org_id,
                email=f"a{i}@bench.test",
                display_name=f"a{i}",
                password=PASSWORD,
            )
            projects.set_member(db, actor, project_id=project.id, user_id=user.id, role="annotator")
            _cred, token = accounts.create_token(db, accounts.actor_for(user), name="bench")
            out.append((task.id, token))
    rt.engine.dispose()
    return out


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[int | str, int] = field(default_factory=dict)
    acked: dict[int, int] = field(default_factory=dict)
    #: requests that got no response (the save may or may not have been committed)
    unknown: dict[int, int] = field(default_factory=dict)
    transport: list[str] = field(default_factory=list)


async def annotator(
    client: httpx.AsyncClient,
    url: str,
    task_id: int,
    token: str,
    deadline: float,
    stats: Stats,
    rng: random.Random,
) -> None:
    base = 0
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline:
        body = {"base_revision": base, "annotations": regions(rng)}
        key = uuid.uuid4().hex
        t0 = time.perf_counter()
        try:
            r = await client.put(
                url.format(task=task_id), json=body, headers={**headers, "Idempotency-Key": key}
            )
            status: int | str = r.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
            stats.unknown[task_id] = stats.unknown.get(task_id, 0) + 1
            cause = exc.__cause__ or exc.__context__
            stats.transport.append(
                f"{status} after {time.perf_counter() - t0:.1f} s"
                f" ({time.perf_counter() - deadline:+.1f} s from the end): {cause!r}"
            )
        stats.latencies.append(time.perf_counter() - t0)
        if status == 201:
            base += 1
            stats.acked[task_id] = stats.acked.get(task_id, 0) + 1
        else:
            stats.errors[status] = stats.errors.get(status, 0) + 1


async def drive(
    base_url: str, path: str, tasks: list[tuple[int, str]], seconds: float
) -> tuple[Stats, float]:
    stats = Stats()
    limits = httpx.Limits(max_connections=len(tasks), max_keepalive_connections=len(tasks))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(
            *(
                annotator(client, path, t, tok, deadline, stats, random.Random(t))
                for t, tok in tasks
            )
        )
        elapsed = time.perf_counter() - start
    return stats, elapsed


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not answer")


def count_rows(stats: Stats, tasks: list[tuple[int, str]], rows: dict[int, int]) -> tuple[int, int]:
    """(duplicates, unacknowledged): rows beyond the acknowledged saves and those whose
    outcome is unknown; rows beyond the acknowledged saves that a lost response explains."""
    dup = unacked = 0
    for t, _ in tasks:
        beyond = max(0, rows.get(t, 0) - stats.acked.get(t, 0))
        lost = stats.unknown.get(t, 0)
        dup += max(0, beyond - lost)
        unacked += min(beyond, lost)
    return dup, unacked


def report(name: str, n: int, stats: Stats, elapsed: float, counts: tuple[int, int]) -> float:
    lat = sorted(stats.latencies)
    saves = sum(stats.acked.values())
    rate = saves / elapsed
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    print(
        f"{name:<11} {n:>4} annotators: {rate:8.1f} saves/s  p50 {p50:7.1f} ms  "
        f"p99 {p99:7.1f} ms  errors {sum(stats.errors.values())} {stats.errors or ''}  "
        f"duplicates {counts[0]}" + (f"  unacknowledged commits {counts[1]}" if counts[1] else "")
    )
    for line in stats.transport[:5]:
        print(f"    {line}")
    return rate


def run_labelproof(n: int, seconds: float, tmp: Path) -> float:
    data = tmp / f"lp-{n}"
    tasks = seed(data, n)
    port = free_port()
    env = {**os.environ, "LABELPROOF_DATA_DIR": str(data)}
    env.pop("LABELPROOF_DATABASE_URL", None)
    log = open(tmp / f"serve-{n}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "labelproof", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/api/health", proc)
        stats, elapsed = asyncio.run(
            drive(f"http://127.0.0.1:{port}", "/api/tasks/{task}/annotations", tasks, seconds)
        )
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    errors = (tmp / f"serve-{n}.log").read_text(errors="replace")
    if "Traceback" in errors:
        print(errors[-3000:], file=sys.stderr)
    conn = sqlite3.connect(data / "labelproof.sqlite3")
    rows = dict(
        conn.execute(
            "SELECT task_id, COUNT(*) FROM annotation_revisions GROUP BY task_id"
        ).fetchall()
    )
    conn.close()
    return report("labelproof", n, stats, elapsed, count_rows(stats, tasks, rows))


def run_bare(n: int, seconds: float, tmp: Path) -> float:
    sys.path.insert(0, str(HERE))
    db = tmp / f"bare-{n}.sqlite3"
    os.environ["BARE_DB"] = str(db)
    import _bare_sqlite_asgi as bare

    bare.setup(str(db))
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_bare_sqlite_asgi:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=HERE,
        env={**os.environ, "BARE_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tasks = [(i + 1, "none") for i in range(n)]
    try:
        wait_up(f"http://127.0.0.1:{port}/", proc)
        stats, elapsed = asyncio.run(
            drive(f"http://127.0.0.1:{port}", "/tasks/{task}/save", tasks, seconds)
        )
    finally:
        proc.terminate()
        proc.wait(30)
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT task_id, COUNT(*) FROM revisions GROUP BY task_id"))
    conn.close()
    return report("bare ASGI", n, stats, elapsed, count_rows(stats, tasks, rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="50,200", help="annotator counts, comma separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="load time per run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in (int(x) for x in args.levels.split(",")):
            bare = run_bare(n, args.seconds, tmp)
            lp = run_labelproof(n, args.seconds, tmp)
            print(f"ratio labelproof / bare at {n}: {lp / bare:.2f}x")


if __name__ == "__main__":
    main()
