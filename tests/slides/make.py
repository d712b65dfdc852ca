"""Whole-slide test files made at test time (no binary is committed).

Every slide shows the same known pattern: the level-0 plane is cut in ``BLOCK`` px squares
and the square holding full-resolution pixel ``(x, y)`` has the colour :func:`colour`, so a
test can check a tile's pixels against the full-resolution position they should show.
Tiles are deflate-compressed (lossless); the pyramid the server cuts is JPEG, hence the
tolerance in the tests.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

BLOCK = 64
MPP = 0.25
APP_MAG = 40


def colour(x: int, y: int) -> tuple[int, int, int]:
    bx, by = x // BLOCK, y // BLOCK
    return ((bx * 37) % 200 + 40, (by * 53) % 200 + 40, ((bx + by) * 29) % 200 + 40)


def pattern(width: int, height: int, step: int = 1) -> np.ndarray:
    """The level-0 pattern sampled every ``step`` px (a level downsampled by ``step``)."""
    xs = (np.arange(0, width, step) // BLOCK).astype(np.int64)
    ys = (np.arange(0, height, step) // BLOCK).astype(np.int64)[:, None]
    r = np.broadcast_to((xs * 37) % 200 + 40, (len(ys), len(xs)))
    g = np.broadcast_to((ys * 53) % 200 + 40, (len(ys), len(xs)))
    b = (xs + ys) * 29 % 200 + 40
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def tiles(width: int, height: int, step: int = 1, size: int = 256) -> Iterator[np.ndarray]:
    """The pattern of a level downsampled by ``step``, tile by tile in row-major order (edge
    tiles full-sized, as TIFF stores them), for slides too big to hold in memory."""
    lw, lh = -(-width // step), -(-height // step)
    span = np.arange(size)
    for row in range(-(-lh // size)):
        ys = ((row * size + span) * step // BLOCK)[:, None]
        g = np.broadcast_to((ys * 53) % 200 + 40, (size, size))
        for col in range(-(-lw // size)):
            xs = (col * size + span) * step // BLOCK
            r = np.broadcast_to((xs * 37) % 200 + 40, (size, size))
            b = (xs + ys) * 29 % 200 + 40
            yield np.stack([r, g, b], axis=-1).astype(np.uint8)


def _downsamples(width: int, height: int, factor: int) -> list[int]:
    steps = [1]
    while max(width, height) // (steps[-1] * factor) >= 512:
        steps.append(steps[-1] * factor)
    return steps


def _level(tw: tifffile.TiffWriter, width: int, height: int, step: int, **tags: Any) -> None:
    """One tiled level (the pattern downsampled by ``step``), deflate, written tile by tile."""
    tw.write(
        tiles(width, height, step),
        shape=(-(-height // step), -(-width // step), 3),
        dtype=np.uint8,
        tile=(256, 256),
        photometric="rgb",
        compression="zlib",
        compressionargs={"level": 1},
        metadata=None,
        **tags,
    )


def write_generic_tiff(path: Path, width: int, height: int, *, bigtiff: bool = False) -> Path:
    """A pyramidal tiled TIFF (OpenSlide's generic-tiff): levels halve down to ~512 px."""
    res = {"resolution": (1e4 / MPP, 1e4 / MPP), "resolutionunit": "CENTIMETER"}
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tw:
        for i, step in enumerate(_downsamples(width, height, 2)):
            _level(tw, width, height, step, subfiletype=1 if i else 0, **res)
    return path


def aperio_description(width: int, height: int) -> str:
    return (
        f"Aperio Image Library v12.0.15 \r\n{width}x{height} [0,0 {width}x{height}] "
        f"(256x256) -> {width}x{height} |AppMag = {APP_MAG}|MPP = {MPP}"
        "|ScanScope ID = SS1234|Filename = generated"
    )


def write_svs(path: Path, width: int, height: int) -> Path:
    """An Aperio-style SVS: level 0 tiled, a stripped thumbnail, then 4x-reduced levels
    (BigTIFF when level 0 is over 2 GiB raw)."""
    desc = aperio_description(width, height)
    with tifffile.TiffWriter(path, bigtiff=width * height * 3 > 2**31) as tw:
        _level(tw, width, height, 1, description=desc)
        thumb_step = max(1, max(width, height) // 768)
        tw.write(
            pattern(width, height, thumb_step),
            photometric="rgb",
            compression="zlib",
            compressionargs={"level": 1},
            metadata=None,
            rowsperstrip=16,
            description=desc,
        )
        for step in _downsamples(width, height, 4)[1:]:
            _level(tw, width, height, step, description=desc)
    return path


def write_svs_jpeg(path: Path, width: int, height: int) -> Path:
    """An Aperio-style SVS with JPEG tiles (as scanners write them), by libvips: the
    Aperio description on the first directory, levels halving down to one tile."""
    import pyvips

    data = pattern(width, height)
    image = pyvips.Image.new_from_memory(data.tobytes(), width, height, 3, "uchar")
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "image-description", aperio_description(width, height))
    image.tiffsave(
        str(path),
        tile=True,
        pyramid=True,
        compression="jpeg",
        Q=92,
        tile_width=256,
        tile_height=256,
    )
    return path


def write_plain_tiff(
    path: Path, width: int = 300, height: int = 200, *, bigtiff: bool = False
) -> Path:
    """An ordinary stripped TIFF (no slide layout)."""
    tifffile.imwrite(path, pattern(width, height), photometric="rgb", bigtiff=bigtiff)
    return path


def write_tiff_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny tiled TIFF whose header claims ``width`` x ``height`` pixels (one tile)."""
    tile = b"\x00" * 16
    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (277, 3, 1, 1),  # SamplesPerPixel
        (322, 3, 1, 256),  # TileWidth
        (323, 3, 1, 256),  # TileLength
        (324, 4, 1, 8),  # TileOffsets: the tile follows the header
        (325, 4, 1, len(tile)),  # TileByteCounts
    ]
    ifd_at = 8 + len(tile)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at) + tile)
    out += struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<H", value) + b"\x00\x00" if typ == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, typ, count) + packed
    out += struct.pack("<I", 0)
    path.write_bytes(bytes(out))
    return path


def corrupt_tile(path: Path, out: Path, *, page: int = 0, index: int = 20) -> Path:
    """A copy of ``path`` with one tile's bytes overwritten (well-formed, undecodable)."""
    with tifffile.TiffFile(path) as tif:
        at = tif.pages[page].dataoffsets[index]
        n = tif.pages[page].databytecounts[index]
    data = bytearray(path.read_bytes())
    data[at : at + n] = b"\xff" * n
    out.write_bytes(bytes(data))
    return out
