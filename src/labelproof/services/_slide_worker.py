"""The one process that opens whole-slide files with OpenSlide (``python -m`` this module).

Run by :mod:`labelproof.services.slides`, never imported by the server. It exists for two
reasons: OpenSlide is a C library parsing a hostile upload, so a crash or a runaway
allocation ends this process under its own memory and CPU limits and not the server; and
``openslide-bin`` must be loaded before libvips in a process (docs/decisions/0009), which a
fresh process guarantees whatever the server imported first. Only the standard library,
OpenSlide and Pillow are imported here.

Commands (``argv``):

``probe PATH``
    one JSON object on stdout: ``{"vendor": str | null, "levels": [[w, h], ...],
    "mpp": [x, y] | null, "objective_power": float | null}`` (``vendor`` null: not a slide).
``pyramid PATH TILE QUALITY THREADS``
    the Deep Zoom pyramid (no overlap, levels ``0..ceil(log2(max side))``) as frames on
    stdout: a 16-byte big-endian header ``level, col, row, length`` then ``length`` bytes of
    JPEG.

Errors: exit status 2 and one line of JSON ``{"error": message}`` on stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any

#: Address space (bytes) and CPU seconds the worker may use; OpenSlide's tile cache and the
#: decode of one region stay far below this.
MEMORY_LIMIT = 8 * 1024**3
CPU_LIMITS = {"probe": 120, "pyramid": 24 * 3600}


def _limit(command: str) -> None:
    import resource

    for which, value in (
        (resource.RLIMIT_AS, MEMORY_LIMIT),
        (resource.RLIMIT_CPU, CPU_LIMITS.get(command, 120)),
        (resource.RLIMIT_CORE, 0),
    ):
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def _float(props: Any, key: str) -> float | None:
    raw = props.get(key)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value > 0 and value == value and value != float("inf") else None


def probe(path: str) -> dict[str, Any]:
    import openslide

    vendor = openslide.OpenSlide.detect_format(path)
    if vendor is None:
        return {"vendor": None}
    with openslide.OpenSlide(path) as slide:
        props = slide.properties
        mpp_x = _float(props, openslide.PROPERTY_NAME_MPP_X)
        mpp_y = _float(props, openslide.PROPERTY_NAME_MPP_Y)
        # Reading the smallest level whole checks that its tiles decode.
        smallest = slide.level_count - 1
        w, h = slide.level_dimensions[smallest]
        if w * h <= 4096 * 4096:
            slide.read_region((0, 0), smallest, (w, h))
        return {
            "vendor": vendor,
            "levels": [list(d) for d in slide.level_dimensions],
            "mpp": [mpp_x, mpp_y] if mpp_x and mpp_y else None,
            "objective_power": _float(props, openslide.PROPERTY_NAME_OBJECTIVE_POWER),
        }


def _jpeg(image: Any, quality: int) -> bytes:
    import io

    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def pyramid(path: str, tile_size: int, quality: int, threads: int) -> None:
    import struct
    from concurrent.futures import ThreadPoolExecutor

    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    out = sys.stdout.buffer
    with openslide.OpenSlide(path) as slide:
        dz = DeepZoomGenerator(slide, tile_size=tile_size, overlap=0, limit_bounds=False)

        def cut(level: int, row: int) -> list[tuple[int, int, bytes]]:
            cols, _ = dz.level_tiles[level]
            return [(c, row, _jpeg(dz.get_tile(level, (c, row)), quality)) for c in range(cols)]

        step = 4 * max(1, threads)  # rows in flight: bounded memory whatever the slide
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for level in range(dz.level_count):
                _, rows = dz.level_tiles[level]
                for first in range(0, rows, step):
                    chunk = range(first, min(rows, first + step))
                    for row_tiles in pool.map(lambda r, lv=level: cut(lv, r), chunk):
                        for col, row, data in row_tiles:
                            out.write(struct.pack(">IIII", level, col, row, len(data)))
                            out.write(data)
    out.flush()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    try:
        _limit(command)
        if command == "probe" and len(argv) == 2:
            sys.stdout.write(json.dumps(probe(argv[1])))
        elif command == "pyramid" and len(argv) == 5:
            pyramid(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
        else:
            raise ValueError(
                f"usage: probe PATH | pyramid PATH TILE Q THREADS | thumb PATH N; got {argv}"
            )
    except MemoryError:
        sys.stderr.write(json.dumps({"error": "out of memory reading the slide"}) + "\n")
        return 2
    except Exception as exc:  # every failure is reported as one line, never a traceback
        sys.stderr.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
