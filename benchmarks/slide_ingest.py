"""Ingest of a generated whole-slide image: upload through the API (in process, SQLite), the
hostile-file checks and the OpenSlide probe, storing, and the Deep Zoom pyramid cut by the
OpenSlide worker and sealed tile by tile.

    .venv/bin/python benchmarks/slide_ingest.py [--side 40000] [--keep DIR]

The slide is an Aperio-style SVS (tests/slides/make.py: 64 px colour blocks, deflate
tiles, levels 1, 1/4, 1/16, ...). Reported: file size, generation time, the check
(``inspect_image``: TIFF walk + OpenSlide probe) alone, the whole upload (check, seal,
store, pyramid), tiles and tiles per second, and peak resident memory of this process and
of the worker processes (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu() -> tuple[float, float]:
    """User + system CPU seconds of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=40_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the data directory in")
    parser.add_argument("--slide", type=Path, help="an existing slide instead of a new one")
    args = parser.parse_args()

    from tests.slides.make import write_svs
    from tests.world import build_world

    from labelproof.config import load_settings
    from labelproof.services.context import open_runtime
    from labelproof.services.images import inspect_image

    work = Path(tempfile.mkdtemp(prefix="slide-bench-", dir=args.keep))
    slide = args.slide or work / "bench.svs"
    t0 = time.perf_counter()
    if args.slide is None:
        write_svs(slide, args.side, args.side)
    gen_s = time.perf_counter() - t0
    size = slide.stat().st_size

    settings = load_settings(data_dir=work / "data").with_changes(
        max_upload_bytes=max(size + 1, 512 * 1024 * 1024)
    )
    rt = open_runtime(settings)
    world = build_world(rt)

    t0 = time.perf_counter()
    info = inspect_image(
        slide,
        filename="bench.svs",
        max_pixels=settings.max_pixels,
        max_slide_pixels=settings.max_slide_pixels,
    )
    check_s = time.perf_counter() - t0

    cpu0 = _cpu()
    t0 = time.perf_counter()
    with open(slide, "rb") as fh:
        r = world.client("program_manager").post(
            f"/api/projects/{world.project_id}/assets",
            files={"file": ("bench.svs", fh, "application/octet-stream")},
        )
    upload_s = time.perf_counter() - t0
    cpu_self, cpu_children = (b - a for a, b in zip(cpu0, _cpu(), strict=True))
    assert r.status_code == 201, r.text
    folder = settings.data_dir / "tiles" / str(world.project_id) / r.json()["sha256"]
    n_tiles = sum(1 for _ in folder.rglob("*.jpg"))
    sealed = sum(p.stat().st_size for p in folder.rglob("*.jpg"))
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    side = f"{info.width} x {info.height}"
    print(f"slide            {side} px, {size / 1e6:.1f} MB ({info.media_meta})")
    print(f"generate         {gen_s:8.1f} s")
    print(f"check (probe)    {check_s:8.2f} s")
    print(f"upload + pyramid {upload_s:8.1f} s  ({n_tiles} tiles, {sealed / 1e6:.0f} MB sealed,")
    print(f"                 {n_tiles / upload_s:8.0f} tiles/s)")
    print(f"upload CPU       server process {cpu_self:.1f} s, workers {cpu_children:.1f} s")
    print(f"peak RSS         server process {me:.0f} MiB, worker {workers:.0f} MiB")
    if args.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
