"""Whole-slide images (Aperio .svs, Hamamatsu .ndpi, Ventana .bif, Leica .scn, Philips and
generic tiled TIFF): recognised at upload, cut into the Deep Zoom pyramid the tile API serves.

Two parts:

- :func:`tiff_layout` walks the TIFF (or BigTIFF) directories of an upload in this process
  (pure Python, bounded reads, no decoding): the pages' sizes, whether they are tiled, and
  that every tile and strip lies inside the file (a truncated slide is refused here).
- OpenSlide itself runs only in a worker process (:mod:`labelproof.services._slide_worker`)
  with its own memory and CPU limits: :func:`probe` asks it for the vendor, the levels, the
  microns per pixel and the objective power; :func:`stream_pyramid` has it cut the Deep Zoom
  tiles, which the caller seals as they arrive (no plaintext tile touches the disk).

Coordinates stay in level-0 pixels: the asset's width and height are level 0's and the
pyramid's deepest level is level 0 at full resolution.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelproof.errors import InvalidFile

#: Extensions only whole-slide files use; a file named so must be a slide OpenSlide reads.
SLIDE_ONLY_EXTS = (".svs", ".ndpi", ".bif", ".scn")
#: Media type of a slide asset: every supported slide is a TIFF or BigTIFF container.
MEDIA_TYPE = "image/tiff"
#: ``ImageInfo.format`` of a slide (not re-encoded by the de-identification policy).
FORMAT = "WSI"
PROBE_TIMEOUT_S = 120
#: Most TIFF directories and tile entries the layout walk reads (hostile-file bounds).
MAX_PAGES = 4096
MAX_ENTRIES = 50_000_000


@dataclass(frozen=True)
class TiffPage:
    width: int
    height: int
    tiled: bool


@dataclass(frozen=True)
class TiffLayout:
    bigtiff: bool
    pages: tuple[TiffPage, ...]

    @property
    def largest(self) -> TiffPage:
        return max(self.pages, key=lambda p: p.width * p.height)


@dataclass(frozen=True)
class SlideFacts:
    vendor: str
    levels: tuple[tuple[int, int], ...]
    mpp: tuple[float, float] | None
    objective_power: float | None

    def media_meta(self) -> dict[str, Any]:
        return {
            "kind": "slide",
            "vendor": self.vendor,
            "levels": [list(level) for level in self.levels],
            "mpp": list(self.mpp) if self.mpp else None,
            "objective_power": self.objective_power,
        }


# --- TIFF directory walk -------------------------------------------------------------------

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TYPE_SIZES.update({13: 4, 16: 8, 17: 8, 18: 8})
_INT_FORMATS = {1: "B", 3: "H", 4: "I", 13: "I", 16: "Q", 18: "Q"}
_WIDTH, _LENGTH, _STRIP_OFFSETS, _STRIP_COUNTS = 256, 257, 273, 279
_TILE_OFFSETS, _TILE_COUNTS = 324, 325


def tiff_layout(path: Path, *, name: str) -> TiffLayout:
    """The pages of a TIFF/BigTIFF file; InvalidFile naming ``name`` when it is damaged.

    Checks that each directory and each tile or strip it points to lies inside the file,
    which refuses a truncated slide before any decoder sees it.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:

        def read(offset: int, n: int, what: str) -> bytes:
            if offset < 0 or n < 0 or offset + n > size:
                raise InvalidFile(
                    f"{name}: a damaged or truncated TIFF: {what} at byte {offset} lies past "
                    f"the end of the file ({size} bytes)",
                    field="file",
                )
            fh.seek(offset)
            return fh.read(n)

        head = read(0, 16 if size >= 16 else 8, "the header")
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None:
            raise InvalidFile(f"{name}: not a TIFF file", field="file")
        (magic,) = struct.unpack(order + "H", head[2:4])
        if magic == 42:
            big, (first,) = False, struct.unpack(order + "I", head[4:8])
            count_fmt, entry_size, inline, next_fmt = "H", 12, 4, "I"
        elif magic == 43 and len(head) == 16:
            big, (first,) = True, struct.unpack(order + "Q", head[8:16])
            count_fmt, entry_size, inline, next_fmt = "Q", 20, 8, "Q"
        else:
            raise InvalidFile(f"{name}: not a TIFF file (version {magic})", field="file")
        count_size = struct.calcsize(count_fmt)
        next_size = struct.calcsize(next_fmt)
        pages: list[TiffPage] = []
        seen: set[int] = set()
        entries_read = 0
        offset = first
        while offset:
            if offset in seen or len(pages) >= MAX_PAGES:
                raise InvalidFile(
                    f"{name}: a damaged TIFF: its directories loop or number over {MAX_PAGES}",
                    field="file",
                )
            seen.add(offset)
            where = f"directory {len(pages)}"
            (n,) = struct.unpack(order + count_fmt, read(offset, count_size, where))
            if n > 4096:
                raise InvalidFile(f"{name}: a damaged TIFF: {where} has {n} tags", field="file")
            raw = read(offset + count_size, n * entry_size, where)
            tags: dict[int, tuple[int, int, bytes]] = {}
            for i in range(n):
                e = raw[i * entry_size : (i + 1) * entry_size]
                if big:
                    tag, typ, count = struct.unpack(order + "HHQ", e[:12])
                    value = e[12:20]
                else:
                    tag, typ, count = struct.unpack(order + "HHI", e[:8])
                    value = e[8:12]
                tags[tag] = (typ, count, value)

            def ints(
                tag: int, *, tags: dict[int, tuple[int, int, bytes]] = tags, where: str = where
            ) -> list[int]:
                nonlocal entries_read
                if tag not in tags:
                    return []
                typ, count, value = tags[tag]
                fmt = _INT_FORMATS.get(typ)
                if fmt is None:
                    raise InvalidFile(
                        f"{name}: a damaged TIFF: tag {tag} of {where} has type {typ}",
                        field="file",
                    )
                entries_read += count
                if entries_read > MAX_ENTRIES:
                    raise InvalidFile(
                        f"{name}: over {MAX_ENTRIES} tile entries (refused)", field="file"
                    )
                nbytes = count * _TYPE_SIZES[typ]
                if nbytes <= inline:
                    data = value[:nbytes]
                else:
                    (at,) = struct.unpack(order + ("Q" if big else "I"), value)
                    data = read(at, nbytes, f"tag {tag} of {where}")
                return list(struct.unpack(f"{order}{count}{fmt}", data))

            width, length = ints(_WIDTH), ints(_LENGTH)
            if len(width) != 1 or len(length) != 1:
                raise InvalidFile(f"{name}: {where} has no image size", field="file")
            tiled = _TILE_OFFSETS in tags
            offsets = ints(_TILE_OFFSETS if tiled else _STRIP_OFFSETS)
            counts = ints(_TILE_COUNTS if tiled else _STRIP_COUNTS)
            if len(offsets) != len(counts):
                raise InvalidFile(
                    f"{name}: a damaged TIFF: {where} lists {len(offsets)} offsets and "
                    f"{len(counts)} byte counts",
                    field="file",
                )
            for at, n_bytes in zip(offsets, counts, strict=True):
                if at + n_bytes > size:
                    raise InvalidFile(
                        f"{name}: a damaged or truncated TIFF: a {'tile' if tiled else 'strip'}"
                        f" of {where} ends at byte {at + n_bytes}, past the end of the file "
                        f"({size} bytes)",
                        field="file",
                    )
            pages.append(TiffPage(width[0], length[0], tiled))
            end = offset + count_size + n * entry_size
            (offset,) = struct.unpack(order + next_fmt, read(end, next_size, where))
    if not pages:
        raise InvalidFile(f"{name}: a TIFF without images", field="file")
    return TiffLayout(bigtiff=big, pages=tuple(pages))


# --- the OpenSlide worker --------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "labelproof.services._slide_worker", *args]


def _error(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    if lines:
        try:
            return str(json.loads(lines[-1])["error"])
        except (ValueError, KeyError, TypeError):
            return lines[-1][:300]
    return "the slide reader stopped"


@contextlib.contextmanager
def named(path: Path, ext: str) -> Iterator[Path]:
    """``path`` under a name ending in ``ext`` (OpenSlide recognises .ndpi by its name)."""
    if not ext or path.suffix.lower() == ext:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="labelproof-slide-") as tmp:
        link = Path(tmp) / f"slide{ext}"
        os.symlink(path.resolve(), link)
        yield link


def probe(path: Path, *, name: str) -> SlideFacts | None:
    """The slide facts of ``path`` read by OpenSlide, or None when it is not a slide."""
    ext = Path(name).suffix.lower()
    with named(path, ext) as target:
        try:
            done = subprocess.run(
                _command("probe", str(target)),
                capture_output=True,
                timeout=PROBE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InvalidFile(
                f"{name}: reading the slide took over {PROBE_TIMEOUT_S} s (refused)", field="file"
            ) from None
    if done.returncode != 0:
        raise InvalidFile(
            f"{name}: a damaged or unreadable whole-slide image ({_error(done.stderr)})",
            field="file",
        )
    try:
        out = json.loads(done.stdout)
        if out["vendor"] is None:
            return None
        levels = tuple((int(w), int(h)) for w, h in out["levels"])
        mpp = out["mpp"]
        power = out["objective_power"]
        return SlideFacts(
            vendor=str(out["vendor"]),
            levels=levels,
            mpp=(float(mpp[0]), float(mpp[1])) if mpp else None,
            objective_power=float(power) if power is not None else None,
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InvalidFile(f"{name}: the slide reader gave no usable answer", field="file") from exc


def stream_pyramid(
    path: Path, *, name: str, tile_size: int, quality: int = 85
) -> Iterator[tuple[int, int, int, bytes]]:
    """Deep Zoom tiles ``(level, col, row, jpeg)`` of the slide at ``path``, as cut."""
    threads = max(1, min(4, os.cpu_count() or 1))
    ext = Path(name).suffix.lower()
    with (
        named(path, ext) as target,
        subprocess.Popen(
            _command("pyramid", str(target), str(tile_size), str(quality), str(threads)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc,
    ):
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while header := proc.stdout.read(16):
                if len(header) != 16:
                    break
                level, col, row, length = struct.unpack(">IIII", header)
                data = proc.stdout.read(length)
                if len(data) != length:
                    break
                yield level, col, row, data
            stderr = proc.stderr.read()
            if proc.wait() != 0:
                raise InvalidFile(
                    f"{name}: cutting the slide's tiles failed ({_error(stderr)})", field="file"
                )
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def plain_copy(blob: Any, folder: Path) -> Iterator[Path]:
    """A private (0600) plaintext copy of a slide for OpenSlide, removed afterwards.

    ``blob`` writes the decrypted bytes into the binary file it is given.
    """
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".slide-")
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            blob(out)
        yield path
    finally:
        path.unlink(missing_ok=True)
