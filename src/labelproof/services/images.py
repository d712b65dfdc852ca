"""Inspect an uploaded image as a hostile file before anything is stored.

Checks, in order: the name (no path parts, no control characters, at most 255 bytes of
UTF-8), the magic bytes (and that they agree with the extension), the declared dimensions
against the pixel limit *before* decoding (decompression bombs), then a full decode for
images up to ``FULL_DECODE_PIXELS`` (catches truncation) or Pillow's structural verify
above that. A TIFF that is tiled, a BigTIFF or a file named like a slide (.svs, .ndpi, .bif,
.scn) goes through :func:`inspect_slide` first (services/slides.py).
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from labelproof.errors import FileTooLarge, InvalidFile
from labelproof.services.slides import SLIDE_ONLY_EXTS

FULL_DECODE_PIXELS = 64_000_000
MAX_SIDE = 1_000_000

#: magic prefix -> (format name, media type, allowed extensions)
_MAGIC: list[tuple[bytes, str, str, tuple[str, ...]]] = [
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png", (".png",)),
    (b"\xff\xd8\xff", "JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe")),
    (b"II*\x00", "TIFF", "image/tiff", (".tif", ".tiff", *SLIDE_ONLY_EXTS)),
    (b"MM\x00*", "TIFF", "image/tiff", (".tif", ".tiff", *SLIDE_ONLY_EXTS)),
    # BigTIFF: accepted for whole-slide images only
    (b"II+\x00", "BigTIFF", "image/tiff", (".tif", ".tiff", *SLIDE_ONLY_EXTS)),
    (b"MM\x00+", "BigTIFF", "image/tiff", (".tif", ".tiff", *SLIDE_ONLY_EXTS)),
    (b"RIFF", "WEBP", "image/webp", (".webp",)),
    (b"BM", "BMP", "image/bmp", (".bmp",)),
]


@dataclass(frozen=True)
class ImageInfo:
    filename: str
    format: str
    media_type: str
    width: int
    height: int
    #: Technical facts a viewer needs, stored sealed as ``assets.media_meta`` (whole slides:
    #: ``{"kind": "slide", "vendor", "levels", "mpp", "objective_power"}``).
    media_meta: dict[str, Any] | None = None


def clean_filename(raw: str | None) -> str:
    """A safe display name: the last path part, NFC, no control characters."""
    if raw is None or raw == "":
        raise InvalidFile("the upload has no file name", field="file")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidFile("the file name is not valid UTF-8", field="file") from exc
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = unicodedata.normalize("NFC", name)
    if not name or name in {".", ".."}:
        raise InvalidFile(f"{raw!r} is not a file name", field="file")
    if any(unicodedata.category(c) in {"Cc", "Cf"} for c in name):
        raise InvalidFile(f"the file name {name!r} holds control characters", field="file")
    if len(name.encode("utf-8")) > 255:
        raise InvalidFile("the file name is longer than 255 bytes", field="file")
    return name


def sniff(head: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    for magic, fmt, media, exts in _MAGIC:
        if head.startswith(magic):
            if fmt == "WEBP" and head[8:12] != b"WEBP":
                continue
            return fmt, media, exts
    return None


def inspect_image(
    path: Path, *, filename: str, max_pixels: int, max_slide_pixels: int | None = None
) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError

    name = clean_filename(filename)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if not head:
        raise InvalidFile(f"{name}: the file is empty", field="file")
    found = sniff(head)
    ext = Path(name).suffix.lower()
    if found is None:
        raise InvalidFile(
            f"{name}: not a supported image (PNG, JPEG, TIFF, WebP, BMP, whole-slide TIFF); "
            f"its first bytes are {head[:8].hex()}",
            field="file",
        )
    fmt, media, exts = found
    if ext and ext not in exts:
        raise InvalidFile(
            f"{name}: the extension says {ext} but the content is {fmt}", field="file"
        )
    if fmt in ("TIFF", "BigTIFF"):
        slide = inspect_slide(
            path, name=name, max_pixels=max_pixels, max_slide_pixels=max_slide_pixels
        )
        if slide is not None:
            return slide
    # Pillow's own bomb guard is a process-wide setting; align it with this installation's
    # limit so that our explicit check below is the one that speaks.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=[fmt]) as im:
                width, height = im.size
                if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
                    raise InvalidFile(f"{name}: absurd dimensions {width}x{height}", field="file")
                if width * height > max_pixels:
                    raise FileTooLarge(
                        f"{name}: {width}x{height} = {width * height} pixels is over the "
                        f"pixel limit of {max_pixels}",
                        field="file",
                    )
                if width * height <= FULL_DECODE_PIXELS:
                    im.load()
                else:
                    im.verify()
        except (InvalidFile, FileTooLarge):
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise FileTooLarge(
                f"{name}: over the pixel limit of {max_pixels} (decompression bomb refused)",
                field="file",
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidFile(
                f"{name}: a damaged or truncated {fmt} file ({exc})", field="file"
            ) from exc
    return ImageInfo(filename=name, format=fmt, media_type=media, width=width, height=height)


def inspect_slide(
    path: Path, *, name: str, max_pixels: int, max_slide_pixels: int | None
) -> ImageInfo | None:
    """The ImageInfo of a whole-slide image, or None for a TIFF to decode as a plain image.

    In order: the TIFF directories are walked (damage, truncation: every tile inside the
    file), the largest page is held to the slide pixel limit, then OpenSlide (in its worker
    process) names the vendor and the levels. A single-level generic tiled TIFF within
    ``max_pixels`` stays an ordinary image.
    """
    from labelproof.services import slides

    ext = Path(name).suffix.lower()
    limit = max_slide_pixels or max_pixels
    layout = slides.tiff_layout(path, name=name)
    named_slide = ext in SLIDE_ONLY_EXTS
    if not (named_slide or layout.bigtiff or any(p.tiled for p in layout.pages)):
        return None
    big = layout.largest
    _check_slide_size(name, big.width, big.height, limit)
    facts = slides.probe(path, name=name)
    if facts is None:
        if named_slide or layout.bigtiff:
            raise InvalidFile(
                f"{name}: not a whole-slide image OpenSlide can read "
                f"({'a BigTIFF' if layout.bigtiff else 'a TIFF'} of no known slide layout)",
                field="file",
            )
        return None
    width, height = facts.levels[0]
    plain = facts.vendor == "generic-tiff" and len(facts.levels) == 1
    if plain and width * height <= max_pixels and not layout.bigtiff:
        return None
    _check_slide_size(name, width, height, limit)
    return ImageInfo(
        filename=name,
        format=slides.FORMAT,
        media_type=slides.MEDIA_TYPE,
        width=width,
        height=height,
        media_meta=facts.media_meta(),
    )


def _check_slide_size(name: str, width: int, height: int, limit: int) -> None:
    if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
        raise InvalidFile(f"{name}: absurd dimensions {width}x{height}", field="file")
    if width * height > limit:
        raise FileTooLarge(
            f"{name}: {width}x{height} = {width * height} pixels is over the whole-slide "
            f"pixel limit of {limit}",
            field="file",
        )
