"""Format conversion speed and memory: labelproof vs Datumaro, side by side in one run.

Generates (seeded) a COCO instances file of plain boxes (``gen_formats.py``), then times,
each in its own process under ``/usr/bin/time -v`` (wall time and peak RSS):

* import COCO (parse into the in-memory model),
* COCO -> YOLO (Ultralytics layout), COCO -> CVAT for images 1.1 XML,

for Datumaro (run with the peer venv ``.peers/datumaro``, see ``scripts/peers-datumaro``)
and for labelproof (the library calls, and the ``labelproof convert`` command a user runs,
loss report included), checks every annotation was written, and prints the ratios.
Issue scale: ``--images 50000 --annotations 1000000``.

    .venv/bin/python benchmarks/formats.py --images 5000 --annotations 100000
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / ".peers" / "datumaro" / "bin" / "python"

DM = """
import sys, datumaro as dm
src, op, out = sys.argv[1:4]
ds = dm.Dataset.import_from(src, "coco_instances")
n = sum(len(item.annotations) for item in ds)
if op == "yolo":
    ds.export(out, "yolo", save_media=False)  # Darknet layout; Ultralytics needs train+val
elif op == "cvat":
    ds.export(out, "cvat", save_media=False)
print("annotations", n)
"""

LP = """
import sys
from pathlib import Path
from labelproof.formats import get_codec
src, op, out = sys.argv[1:4]
ds, _ = get_codec("coco").read(Path(src))
if op != "import":
    Path(out).mkdir()
    rep = get_codec(op).write(ds, Path(out))
    assert rep.annotations == len(ds), (rep.annotations, len(ds))
print("annotations", len(ds))
"""

CLI = """
import sys
src, op, out = sys.argv[1:4]
# what a user runs: the console script's entry point, loss report included
sys.argv = ["labelproof", "convert", src, "--from", "coco", "--to", op, "--out", out]
from labelproof.cli import main
main()
"""

FLOOR = """
import os, sys
n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out)
for i in range(n):  # the floor of a YOLO export: one empty label file per image, nothing else
    os.close(os.open(f"{out}/{i:012d}.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
print("files", n)
"""

EXACT = """
import sys
import numpy as np, orjson
from pathlib import Path
from labelproof.formats import get_codec
ann = Path(sys.argv[1])
ds, _ = get_codec("coco").read(ann)  # the chunked fast path for a file this size
doc = orjson.loads(ann.read_bytes())  # the slow path: every record through orjson
want = np.array([a["bbox"] for a in doc["annotations"]], np.float64).reshape(-1, 4)
ids = np.array([a["id"] for a in doc["annotations"]], np.int64)
order = np.argsort(ds.boxes.ann_id, kind="stable")
assert np.array_equal(ds.boxes.ann_id[order], ids), "annotation ids differ"
same = np.array_equal(ds.boxes.xywh[order].view(np.int64), want.view(np.int64))
print("bit-identical boxes" if same else "BOXES DIFFER", len(ids))
"""

STARTUP = """
from labelproof.formats import get_codec
get_codec("coco"), get_codec("yolo"), get_codec("cvat")
print("started")
"""


CPU_SECONDS: dict[str, float] = {}
"""User + system CPU seconds of the last command, by its first argument's script head."""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of a command under /usr/bin/time -v; its CPU
    seconds (user + system, less sensitive to other load) go to ``CPU_SECONDS["last"]``."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed:\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr)
    CPU_SECONDS["last"] = sum(float(c) for c in cpu)
    h = float(wall.group(1) or 0)
    seconds = h * 3600 + float(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)) / 1024, proc.stdout


def count_yolo(out: Path) -> int:
    """Label lines in every per-image .txt (Ultralytics labels/ or Darknet obj_*_data/)."""
    lists = {"train.txt", "valid.txt", "val.txt", "test.txt"}
    return sum(
        f.read_bytes().count(b"\n")
        for f in out.rglob("*.txt")
        if f.parent != out or f.name not in lists
    )


def count_cvat(out: Path) -> int:
    return sum(f.read_bytes().count(b"<box ") for f in out.rglob("*.xml"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--annotations", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ops", default="import,yolo,cvat")
    ap.add_argument("--no-datumaro", action="store_true", help="time labelproof only")
    ap.add_argument(
        "--exact",
        action="store_true",
        help="also check the fast COCO read against orjson, bit for bit (boxes inside images)",
    )
    ap.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: under /dev/shm)"
    )
    args = ap.parse_args()
    shm = Path("/dev/shm")
    work = args.work or Path(
        tempfile.mkdtemp(prefix="lp-bench-formats-", dir=shm if shm.is_dir() else None)
    )
    src = work / "coco"
    (src / "annotations").mkdir(parents=True, exist_ok=True)
    (src / "images" / "train").mkdir(parents=True, exist_ok=True)
    ann = src / "annotations" / "instances_train.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gen_formats.py"),
            "--images",
            str(args.images),
            "--annotations",
            str(args.annotations),
            "--seed",
            str(args.seed),
            "--out",
            str(ann),
        ],
        check=True,
    )
    print(
        f"COCO file: {ann.stat().st_size / 2**20:.0f} MiB, {args.annotations} boxes, "
        f"{args.images} images; cores: {os.cpu_count()}; work folder: {work}"
    )
    for label, cmd in (
        ("python + labelproof start-up", [sys.executable, "-c", STARTUP]),
        (
            f"floor: {args.images} empty files",
            [sys.executable, "-c", FLOOR, str(args.images), str(work / "floor")],
        ),
    ):
        wall, rss, _ = timed(cmd)
        print(f"{label:34} {wall:6.2f} s  cpu {CPU_SECONDS['last']:5.2f} s  peak {rss:5.0f} MiB")
        shutil.rmtree(work / "floor", ignore_errors=True)
    if args.exact:
        check = subprocess.run(
            [sys.executable, "-c", EXACT, str(ann)], capture_output=True, text=True, check=True
        )
        print(f"exactness: {check.stdout.strip()}")
    peers = [] if args.no_datumaro or not PEER.exists() else [("datumaro", str(PEER), DM)]
    if not peers and not args.no_datumaro:
        print(f"Datumaro peer venv absent ({PEER}): run scripts/peers-datumaro")
    tools = [*peers, ("labelproof", sys.executable, LP), ("lp convert", sys.executable, CLI)]
    results: dict[tuple[str, str], tuple[float, float]] = {}
    cpus: dict[tuple[str, str], float] = {}
    for op in args.ops.split(","):
        for name, python, script in tools:
            if script is CLI and op == "import":
                continue  # the command always writes; the library row times the import
            out = work / f"out-{name.replace(' ', '-')}-{op}"
            shutil.rmtree(out, ignore_errors=True)
            wall, rss, stdout = timed([python, "-c", script, str(src), op, str(out)])
            written = count_yolo(out) if op == "yolo" else count_cvat(out) if op == "cvat" else None
            results[(name, op)] = (wall, rss)
            cpus[(name, op)] = CPU_SECONDS["last"]
            note = f", written {written}" if written is not None else ""
            cpu = CPU_SECONDS["last"]
            print(
                f"{name:10} {op:6} {wall:8.2f} s  cpu {cpu:6.2f} s  peak {rss:6.0f} MiB  "
                f"({stdout.strip()}{note})"
            )
            if written is not None and written != args.annotations:
                print(f"  !! {name} wrote {written} of {args.annotations} annotations")
            shutil.rmtree(out, ignore_errors=True)
    if peers:
        print("\nratios (Datumaro / labelproof): wall time, CPU time, peak memory")
        for op in args.ops.split(","):
            for name in ("labelproof", "lp convert"):
                if (name, op) not in results:
                    continue
                d, lp = results[("datumaro", op)], results[(name, op)]
                cpu = cpus[("datumaro", op)] / max(cpus[(name, op)], 1e-9)
                print(
                    f"  {op:6} {name:10} {d[0] / lp[0]:6.1f}x faster (cpu {cpu:5.1f}x)   "
                    f"{d[1] / lp[1]:5.1f}x less memory "
                    f"({lp[1] / d[1] * 100:.0f}% of Datumaro's peak)"
                )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
