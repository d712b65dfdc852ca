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
    the Deep Zoom pyramid (no overlap, levels ``0..ceil(log2(max side))``, level ``L`` the
    slide's level 0 halved ``max - L`` times, sizes rounded up) as frames on stdout: a
    16-byte big-endian header ``level, col, row, length`` then ``length`` bytes of JPEG.

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
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


#: Columns of level 0 read by one OpenSlide call (bounds the memory of one read).
READ_WIDTH = 4096


def pyramid(path: str, tile_size: int, quality: int, threads: int) -> None:
    """Cut the Deep Zoom pyramid in one pass over level 0, a band of ``tile_size`` rows at a
    time: each band is cut into tiles, then halved (2x2 box mean) into the band of the level
    below, and so on down to the 1x1 level, so every level-0 pixel is read once and memory
    holds at most two bands per level whatever the slide's size."""
    import math
    import struct
    from concurrent.futures import ThreadPoolExecutor

    import openslide
    from PIL import Image

    out = sys.stdout.buffer
    with openslide.OpenSlide(path) as slide, ThreadPoolExecutor(max(1, threads)) as pool:
        width, height = slide.dimensions
        top = max(0, math.ceil(math.log2(max(width, height, 1))))
        background = "#" + slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")
        rows = [0] * (top + 1)  # next tile row of each level
        pending: list[Any] = [None] * (top + 1)

        def encode(job: tuple[Any, int]) -> tuple[int, bytes]:
            band, col = job
            box = (col * tile_size, 0, min(band.width, (col + 1) * tile_size), band.height)
            return col, _jpeg(band.crop(box), quality)

        def emit(level: int, band: Any) -> None:
            cols = -(-band.width // tile_size)
            row = rows[level]
            rows[level] += 1
            for col, data in pool.map(encode, [(band, c) for c in range(cols)]):
                out.write(struct.pack(">IIII", level, col, row, len(data)))
                out.write(data)

        def push(level: int, band: Any, last: bool) -> None:
            """``band`` (tile_size rows, fewer if ``last``) of ``level`` was emitted: make
            the level below from it and the band before it."""
            while level > 0:
                if pending[level] is None and not last:
                    pending[level] = band
                    return
                if pending[level] is not None:
                    above = pending[level]
                    both = Image.new("RGB", (band.width, above.height + band.height))
                    both.paste(above, (0, 0))
                    both.paste(band, (0, above.height))
                    pending[level] = None
                    band = both
                band = band.reduce(2)
                level -= 1
                emit(level, band)

        def read(y: int, h: int) -> Any:
            band = Image.new("RGB", (width, h), background)
            for x in range(0, width, READ_WIDTH):
                w = min(READ_WIDTH, width - x)
                region = slide.read_region((x, y), 0, (w, h))
                alpha: Any = region.getchannel("A").getextrema()
                if alpha[0] == 255:  # opaque: no compositing needed
                    band.paste(region.convert("RGB"), (x, 0))
                else:
                    band.paste(region, (x, 0), region)
            return band

        for y in range(0, height, tile_size):
            h = min(tile_size, height - y)
            band = read(y, h)
            emit(top, band)
            push(top, band, last=y + h >= height)
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
