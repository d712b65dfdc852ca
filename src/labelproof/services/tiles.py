"""Deep Zoom tile pyramids and thumbnails of assets, made with libvips.

Both are derived from the content-addressed blob and cached by its SHA-256 under the
data directory (``tiles/<sha>/``, ``thumbs/<sha>-<max>.jpg``), built into a temporary
folder and renamed into place, so a reader never sees half a pyramid. Pyramids use the
Deep Zoom layout (``<level>/<col>_<row>.jpg``, 256 px tiles, no overlap; level ``L`` has
the image scaled by ``2 ** (L - max_level)``), so coordinates stay in full-resolution
pixels in the client. Opening a pyramid (its descriptor) is an audited read; single
tiles are not audited one by one.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from labelproof.errors import InvalidInput, NotFound
from labelproof.services.assets import get_asset
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.store.models import Asset

TILE_SIZE = 256
TILE_FORMAT = "jpg"
#: Images at least this large on either side are pyramided at upload; others on demand.
EAGER_SIDE = 4096
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Pyramid:
    width: int
    height: int
    tile_size: int
    overlap: int
    format: str
    max_level: int

    def to_dict(self) -> dict[str, int | str]:
        return {
            "width": self.width,
            "height": self.height,
            "tile_size": self.tile_size,
            "overlap": self.overlap,
            "format": self.format,
            "max_level": self.max_level,
        }


def max_level(width: int, height: int) -> int:
    return max(0, math.ceil(math.log2(max(width, height, 1))))


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _root(rt: Runtime, kind: str) -> Path:
    path = rt.settings.data_dir / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_pyramid(rt: Runtime, asset: Asset) -> Path:
    """The pyramid folder of ``asset`` (``<level>/<col>_<row>.jpg``), built if absent."""
    import pyvips

    folder = _root(rt, "tiles") / asset.sha256
    if folder.is_dir():
        return folder
    with _lock(asset.sha256):
        if folder.is_dir():
            return folder
        tmp = Path(tempfile.mkdtemp(dir=_root(rt, "tiles"), prefix=".build-"))
        try:
            image = pyvips.Image.new_from_file(
                str(rt.blobs.path_of(asset.sha256)), access="sequential"
            )
            image.dzsave(
                str(tmp / "pyramid"),
                tile_size=TILE_SIZE,
                overlap=0,
                suffix=f".{TILE_FORMAT}[Q=85]",
                depth="onepixel",
            )
            os.replace(tmp / "pyramid_files", folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def open_pyramid(rt: Runtime, actor: Actor, *, project_id: int, asset_id: int) -> Pyramid:
    """Describe (and if needed build) an asset's pyramid; an audited read."""
    with rt.read() as db:
        asset = get_asset(db, actor, project_id=project_id, asset_id=asset_id)
    build_pyramid(rt, asset)
    with rt.write() as db:
        record(
            db,
            AuditRecord(
                AuditAction.ASSET_READ,
                "asset",
                str(asset.id),
                actor.user_id,
                actor.request_id,
                project_id,
                {"view": "tiles"},
            ),
        )
    return Pyramid(
        asset.width, asset.height, TILE_SIZE, 0, TILE_FORMAT, max_level(asset.width, asset.height)
    )


def tile(
    rt: Runtime, actor: Actor, *, project_id: int, asset_id: int, level: int, col: int, row: int
) -> bytes:
    """One JPEG tile; NotFound outside the pyramid."""
    with rt.read() as db:
        asset = get_asset(db, actor, project_id=project_id, asset_id=asset_id)
    top = max_level(asset.width, asset.height)
    if not 0 <= level <= top or col < 0 or row < 0:
        raise NotFound(f"no tile {level}/{col}_{row} (levels 0..{top})")
    path = build_pyramid(rt, asset) / str(level) / f"{col}_{row}.{TILE_FORMAT}"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no tile {level}/{col}_{row} at this level") from None


def thumbnail(rt: Runtime, actor: Actor, *, project_id: int, asset_id: int, size: int) -> bytes:
    """A JPEG no larger than ``size`` on either side (cached)."""
    import pyvips

    if not 16 <= size <= 1024:
        raise InvalidInput(f"max must be between 16 and 1024, got {size}", field="max")
    with rt.read() as db:
        asset = get_asset(db, actor, project_id=project_id, asset_id=asset_id)
    path = _root(rt, "thumbs") / f"{asset.sha256}-{size}.jpg"
    if not path.is_file():
        image = pyvips.Image.thumbnail(str(rt.blobs.path_of(asset.sha256)), size, height=size)
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        data = image.jpegsave_buffer(Q=80, strip=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".thumb-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return bytes(data)
    return path.read_bytes()
