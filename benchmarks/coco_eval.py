"""Whole-process COCO evaluation benchmark: pycocotools vs faster-coco-eval vs labelproof.

Each run is a fresh subprocess doing load + evaluate + accumulate + summarize on the same
files; wall time is the median of ``--repeat`` runs, peak memory the child's max RSS. The
stats of every implementation must be identical to pycocotools' (1e-9).

    python benchmarks/coco_eval.py --iou-type bbox --scale 0.1
    python benchmarks/coco_eval.py --iou-type segm --scale 1 --skip pycocotools
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMPLS = ("pycocotools", "faster-coco-eval", "labelproof")


def run_one(impl: str, gt: str, pred: str, iou_type: str) -> dict[str, Any]:
    """Load, evaluate, accumulate, summarize with one implementation (in this process)."""
    t0 = time.perf_counter()
    if impl == "labelproof":
        from labelproof.metrics.coco import evaluate_coco_files

        stats = list(evaluate_coco_files(gt, pred, iou_type).stats)  # type: ignore[arg-type]
    else:
        if impl == "pycocotools":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval as Eval
        else:
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as Eval
        with contextlib.redirect_stdout(io.StringIO()):
            cg = COCO(gt)
            cd = cg.loadRes(pred)
            ev = Eval(cg, cd, iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        stats = [float(s) for s in ev.stats]
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"stats": stats, "inner_s": wall, "peak_mb": rss_kb / 1024}


def measure(impl: str, gt: Path, pred: Path, iou_type: str, repeat: int) -> dict[str, Any]:
    walls, peaks, inner = [], [], []
    stats: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", impl, str(gt), str(pred), iou_type],
            check=True,
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - t0)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        peaks.append(res["peak_mb"])
        inner.append(res["inner_s"])
        stats = res["stats"]
    return {
        "wall_s": statistics.median(walls),
        "inner_s": statistics.median(inner),
        "peak_mb": max(peaks),
        "stats": stats,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, impl, gt, pred, iou_type = sys.argv
        print(json.dumps(run_one(impl, gt, pred, iou_type)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iou-type", choices=["bbox", "segm"], default="bbox")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", action="append", default=[], choices=IMPLS)
    ap.add_argument("--data", type=Path, help="reuse/generate the files in this folder")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import orjson

    from gen_coco import generate

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        gt, pred = folder / "gt.json", folder / "pred.json"
        if not (gt.exists() and pred.exists()):
            folder.mkdir(parents=True, exist_ok=True)
            g, d = generate(args.iou_type, args.scale, args.seed)
            gt.write_bytes(orjson.dumps(g))
            pred.write_bytes(orjson.dumps(d))
            print(
                f"{args.iou_type}: {len(g['images'])} images, {len(g['annotations'])} gt, "
                f"{len(d)} detections"
            )
            del g, d
        t0 = time.perf_counter()
        orjson.loads(pred.read_bytes())
        print(f"parsing the detections alone (orjson): {time.perf_counter() - t0:.2f} s")
        results = {}
        for impl in IMPLS:
            if impl in args.skip:
                continue
            results[impl] = measure(impl, gt, pred, args.iou_type, args.repeat)
            r = results[impl]
            print(
                f"{impl:>17}: {r['wall_s']:7.2f} s wall (in-process {r['inner_s']:.2f} s), "
                f"peak {r['peak_mb']:7.0f} MB",
                flush=True,
            )
    ref_name = "pycocotools" if "pycocotools" in results else "faster-coco-eval"
    ref = results[ref_name]["stats"]
    for impl, r in results.items():
        diff = max(abs(a - b) for a, b in zip(r["stats"], ref, strict=True))
        print(
            f"{impl:>17}: max |stats - {ref_name}| = {diff:.1e}"
            + ("" if diff <= 1e-9 else "  <-- MISMATCH")
        )
    lp = results.get("labelproof")
    if lp:
        for impl, r in results.items():
            if impl != "labelproof":
                print(
                    f"labelproof vs {impl}: {r['wall_s'] / lp['wall_s']:.2f}x faster, "
                    f"{lp['peak_mb'] / r['peak_mb']:.2f}x the peak memory"
                )


if __name__ == "__main__":
    main()
