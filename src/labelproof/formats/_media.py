"""Shared helpers for codecs: image files next to annotations, names, splits."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from labelproof.errors import InvalidDataset
from labelproof.formats.model import Dataset, Image

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def safe_relpath(name: str, what: str) -> PurePosixPath:
    """``name`` as a relative path that cannot leave its folder; InvalidDataset otherwise."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts or (len(name) > 1 and name[1] == ":"):
        raise InvalidDataset(f"{what}: file name {name!r} must be a relative path without '..'")
    return p


def check_relpath(name: str, what: str) -> str:
    """Fast :func:`safe_relpath` for plain names: the name itself, POSIX separators."""
    if (
        "\\" in name
        or name.startswith("/")
        or ".." in name.split("/")
        or not name
        or (len(name) > 1 and name[1] == ":")
    ):
        return str(safe_relpath(name, what))
    return name


def place_image(image: Image, folder: Path) -> None:
    """Hard-link (or copy) the image's pixels into ``folder`` under its file name."""
    if image.path is None or not image.path.is_file():
        return
    dst = folder.joinpath(*safe_relpath(image.file_name, "image").parts)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(image.path, dst)
    except OSError:
        shutil.copyfile(image.path, dst)


def image_size_from_file(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image header, or None when unreadable."""
    try:
        from PIL import Image as PILImage

        with PILImage.open(path) as im:
            return int(im.width), int(im.height)
    except (OSError, ValueError):
        return None


def find_image(folder: Path, stem: str) -> Path | None:
    """The image file ``folder/stem.<ext>`` for a known image extension, if any."""
    for ext in IMAGE_EXTS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def label_names(ds: Dataset) -> dict[int, str]:
    return {c.id: c.name for c in ds.categories}


def write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Create ``path`` with ``data``: plain ``os.open``/``os.write`` (Python's buffered
    ``open`` costs an extra ``isatty`` ioctl and ``fstat`` per file, which dominates when
    writing tens of thousands of small label files)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)
