"""Deep Zoom tile pyramids and thumbnails of assets, made with libvips.

Both are derived from the asset's blob (decrypted in memory through
``services.custody.blobs``) and cached **sealed under the project's data key** under the
data directory (``tiles/<project>/<sha>/<level>/<col>_<row>.jpg``,
``thumbs/<project>/<sha>-<max>.jpg``). A pyramid is cut by libvips into a private temporary
folder, each tile is sealed into a staging folder that is renamed into place (a reader never
sees half a pyramid), and the plaintext folder is removed. Pyramids use the Deep Zoom layout
(``<level>/<col>_<row>.jpg``, 256 px tiles, no overlap; level ``L`` has the image scaled by
``2 ** (L - max_level)``), so coordinates stay in full-resolution pixels in the client.
Opening a pyramid (its descriptor) is an audited read; single tiles are not audited one by
one.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _vips_image(data: bytes, **options: str) -> Any:
    """A libvips image of decrypted bytes held in memory.

    Formats libvips cannot load from a buffer (BMP without ImageMagick) are decoded by
    Pillow, still in memory, so no plaintext copy is written to disk.
    """
    import pyvips

    try:
        return pyvips.Image.new_from_buffer(data, "", **options)
    except pyvips.Error:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as pil:
            rgb = pil.convert("RGBA" if "A" in pil.getbands() else "RGB")
            bands = len(rgb.getbands())
            return pyvips.Image.new_from_memory(
                rgb.tobytes(), rgb.width, rgb.height, bands, "uchar"
            )


def _pyramid_folder(rt: Runtime, asset: Asset) -> Path:
    return _root(rt, "tiles") / str(asset.project_id) / asset.sha256


def build_pyramid(rt: Runtime, asset: Asset) -> Path:
    """The sealed pyramid folder of ``asset`` (``<level>/<col>_<row>.jpg``), built if absent."""

    from labelproof.services.custody.blobs import read_blob, seal_derived

    if asset.media_type == "application/dicom":  # frames of modality values, not tiles
        raise InvalidInput(
            f"asset {asset.id} is DICOM: it has no tile pyramid; read its file from /content",
            field="asset_id",
        )
    folder = _pyramid_folder(rt, asset)
    if folder.is_dir():
        return folder
    with _lock(f"{asset.project_id}/{asset.sha256}"):
        if folder.is_dir():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        plain = Path(tempfile.mkdtemp(dir=_root(rt, "tiles"), prefix=".cut-"))
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".build-"))
        try:
            if is_slide(asset):  # OpenSlide cuts it, in its worker process
                _cut_slide(rt, asset, folder=folder, staging=staging)
                os.replace(staging, folder)
                return folder
            data = read_blob(rt, project_id=asset.project_id, sha256=asset.sha256)
            image = _vips_image(data, access="sequential")
            del data
            image.dzsave(
                str(plain / "pyramid"),
                tile_size=TILE_SIZE,
                overlap=0,
                suffix=f".{TILE_FORMAT}[Q=85]",
                depth="onepixel",
            )
            cut = plain / "pyramid_files"
            for tile_file in cut.rglob(f"*.{TILE_FORMAT}"):
                rel = tile_file.relative_to(cut)
                seal_derived(
                    rt,
                    project_id=asset.project_id,
                    path=folder / rel,
                    data=tile_file.read_bytes(),
                    write_to=staging / rel,
                )
            shutil.rmtree(plain, ignore_errors=True)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(plain, ignore_errors=True)
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def is_slide(asset: Asset) -> bool:
    """Whether ``asset`` is a whole-slide image (its pyramid and thumbnail come from OpenSlide)."""
    meta = asset.media_meta
    return isinstance(meta, dict) and meta.get("kind") == "slide"


def _cut_slide(rt: Runtime, asset: Asset, *, folder: Path, staging: Path) -> None:
    """Seal a slide's Deep Zoom tiles into ``staging`` as the OpenSlide worker cuts them.

    The worker needs a file: the blob is decrypted into a private temporary file under the
    tiles folder for the cut and removed after it; no plaintext tile is written.
    """
    from labelproof.services import slides
    from labelproof.services.custody.blobs import copy_blob, derived_aad, project_key
    from labelproof.store.blobs import seal_file

    def blob(out: Any) -> None:
        copy_blob(rt, project_id=asset.project_id, sha256=asset.sha256, dst=out)

    key = project_key(rt, asset.project_id)  # once, not per tile
    with slides.plain_copy(blob, _root(rt, "tiles")) as plain:
        tiles = slides.stream_pyramid(plain, name=asset.filename, tile_size=TILE_SIZE)
        for level, col, row, data in tiles:
            rel = Path(str(level)) / f"{col}_{row}.{TILE_FORMAT}"
            seal_file(staging / rel, data, key=key, aad=derived_aad(rt, folder / rel))


def precut_slide(rt: Runtime, path: Path, *, name: str) -> Path:
    """Cut the pyramid of a checked, not yet stored slide into a private plaintext folder
    (``<level>/<col>_<row>.jpg``), so a slide whose tiles do not decode is refused before
    anything is stored; :func:`seal_precut` seals it into place after the store. The folder
    is removed if the cut fails."""
    from labelproof.services import slides

    cut = Path(tempfile.mkdtemp(dir=_root(rt, "tiles"), prefix=".cut-"))
    try:
        for level, col, row, data in slides.stream_pyramid(path, name=name, tile_size=TILE_SIZE):
            out = cut / str(level) / f"{col}_{row}.{TILE_FORMAT}"
            out.parent.mkdir(exist_ok=True)
            out.write_bytes(data)
    except BaseException:
        shutil.rmtree(cut, ignore_errors=True)
        raise
    return cut


def seal_precut(rt: Runtime, asset: Asset, cut: Path) -> Path:
    """Seal a :func:`precut_slide` folder as ``asset``'s pyramid; the plaintext goes."""
    from labelproof.services.custody.blobs import derived_aad, project_key
    from labelproof.store.blobs import seal_file

    folder = _pyramid_folder(rt, asset)
    try:
        with _lock(f"{asset.project_id}/{asset.sha256}"):
            if folder.is_dir():  # the same slide was stored before
                return folder
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".build-"))
            try:
                key = project_key(rt, asset.project_id)
                for tile_file in cut.rglob(f"*.{TILE_FORMAT}"):
                    rel = tile_file.relative_to(cut)
                    aad = derived_aad(rt, folder / rel)
                    seal_file(staging / rel, tile_file.read_bytes(), key=key, aad=aad)
                os.replace(staging, folder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    finally:
        shutil.rmtree(cut, ignore_errors=True)
    return folder


def _slide_thumbnail(rt: Runtime, asset: Asset, size: int) -> bytes:
    """A slide's thumbnail from its pyramid: the smallest level at least ``size`` px on its
    longer side, stitched from its tiles and shrunk to fit ``size``."""
    import io

    from PIL import Image

    from labelproof.services.custody.blobs import open_derived

    folder = build_pyramid(rt, asset)
    top = max_level(asset.width, asset.height)
    level = top
    while level > 0 and -(-max(asset.width, asset.height) // 2 ** (top - level + 1)) >= size:
        level -= 1
    scale = 2 ** (top - level)
    width, height = -(-asset.width // scale), -(-asset.height // scale)
    canvas = Image.new("RGB", (width, height), "white")
    for row in range(-(-height // TILE_SIZE)):
        for col in range(-(-width // TILE_SIZE)):
            path = folder / str(level) / f"{col}_{row}.{TILE_FORMAT}"
            data = open_derived(rt, project_id=asset.project_id, path=path)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as tile_image:
                canvas.paste(tile_image.convert("RGB"), (col * TILE_SIZE, row * TILE_SIZE))
    canvas.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=80)
    return out.getvalue()


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
    from labelproof.services.custody.blobs import open_derived

    path = build_pyramid(rt, asset) / str(level) / f"{col}_{row}.{TILE_FORMAT}"
    try:
        return open_derived(rt, project_id=asset.project_id, path=path)
    except FileNotFoundError:
        raise NotFound(f"no tile {level}/{col}_{row} at this level") from None


def thumbnail(rt: Runtime, actor: Actor, *, project_id: int, asset_id: int, size: int) -> bytes:
    """A JPEG no larger than ``size`` on either side (cached)."""

    if not 16 <= size <= 1024:
        raise InvalidInput(f"max must be between 16 and 1024, got {size}", field="max")
    with rt.read() as db:
        asset = get_asset(db, actor, project_id=project_id, asset_id=asset_id)
        slide = is_slide(asset)
        dicom = asset.media_type == "application/dicom"
        dicom_meta = asset.media_meta if dicom else None
    from labelproof.services.custody.blobs import cached, read_blob

    def build() -> bytes:
        if slide:  # never the whole slide in memory: from its pyramid
            return _slide_thumbnail(rt, asset, size)
        data = read_blob(rt, project_id=asset.project_id, sha256=asset.sha256)
        if dicom:  # the middle frame, default window (services/dicom.py)
            from labelproof.services.dicom import thumbnail_jpeg

            return thumbnail_jpeg(data, size, dicom_meta)
        image = _vips_image(data).thumbnail_image(size, height=size)
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        return bytes(image.jpegsave_buffer(Q=80, strip=True))

    path = _root(rt, "thumbs") / str(asset.project_id) / f"{asset.sha256}-{size}.jpg"
    return cached(rt, project_id=asset.project_id, path=path, build=build)
