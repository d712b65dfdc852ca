"""Server CPU per save: ``labelproof serve`` on SQLite, N annotators saving M times each.

The CPU time of the server process (user + system, from /proc) divided by the saves, so
the figure depends far less on a shared machine's load than saves/s do. Uses the seeding
and the 20-region payloads of ``save_load.py``.

    .venv/bin/python benchmarks/save_cpu.py [--annotators 10] [--saves 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import save_load


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def annotator(
    client: httpx.AsyncClient, task_id: int, token: str, first: int, count: int
) -> None:
    rng = random.Random(task_id * 1000 + first)
    for base in range(first, first + count):
        r = await client.put(
            f"/api/tasks/{task_id}/annotations",
            json={"base_revision": base, "annotations": save_load.regions(rng)},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        )
        if r.status_code != 201:
            raise SystemExit(f"save failed: {r.status_code} {r.text[:300]}")


async def drive(port: int, pid: int, tasks: list[tuple[int, str]], saves: int) -> float:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        await asyncio.gather(*(annotator(client, t, tok, 0, 2) for t, tok in tasks))  # warm
        before = process_cpu(pid)
        await asyncio.gather(*(annotator(client, t, tok, 2, saves) for t, tok in tasks))
        return process_cpu(pid) - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--annotators", type=int, default=10)
    ap.add_argument("--saves", type=int, default=40, help="saves per annotator")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        data = Path(tmp_name) / "lp"
        tasks = save_load.seed(data, args.annotators)
        port = save_load.free_port()
        env = {**os.environ, "LABELPROOF_DATA_DIR": str(data)}
        env.pop("LABELPROOF_DATABASE_URL", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "labelproof", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            save_load.wait_up(f"http://127.0.0.1:{port}/api/health", proc)
            start = time.perf_counter()
            used = asyncio.run(drive(port, proc.pid, tasks, args.saves))
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(30)
    n = args.annotators * args.saves
    print(
        f"server CPU per save {used / n * 1000:.2f} ms over {n} saves "
        f"({args.annotators} annotators, {wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
