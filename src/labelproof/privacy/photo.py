"""Photo de-identification: drop every metadata block by re-encoding pixels; blur faces/plates.

:func:`deidentify_photo` takes JPEG, PNG, TIFF or WebP bytes and returns new bytes of the
same format holding only pixels (orientation applied) and the ICC colour profile:

- removed: EXIF (camera make/model/serial, times, software), the GPS IFD, maker notes, the
  EXIF thumbnail (IFD1), XMP, IPTC/Photoshop (APP13, TIFF tags 33723/34377), JPEG comments,
  PNG text chunks, TIFF descriptive tags, extra frames of multi-frame files;
- kept: the ICC profile (it describes colour, not the person or the place; dropping it
  would shift colours), the pixel data, the mode and the size (after the EXIF orientation is
  applied, so the picture looks as it did);
- JPEG and WebP are lossy: re-encoding at quality 95 changes pixel values slightly. PNG and
  TIFF (LZW) are lossless.

Optional redaction detects frontal faces and licence plates with OpenCV's bundled Haar
cascades (``haarcascade_frontalface_default.xml``, ``haarcascade_russian_plate_number.xml``)
and blurs each region; the report lists the regions as canonical boxes
``{"x", "y", "w", "h"}`` in pixels of the output image. Haar cascades miss faces that are
turned, small or occluded: the report says what was found, not that nothing is left.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

from labelproof.errors import FileTooLarge, InvalidFile

__all__ = ["SUPPORTED_FORMATS", "PhotoDeidReport", "Region", "deidentify_photo", "detect_regions"]

SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP")
_TIFF_DESCRIPTIVE = {
    270: "ImageDescription",
    271: "Make",
    272: "Model",
    305: "Software",
    306: "DateTime",
    315: "Artist",
    316: "HostComputer",
    33432: "Copyright",
    700: "XMP",
    33723: "IPTC",
    34377: "Photoshop",
    34665: "ExifIFD",
    34853: "GPSInfo",
}
_TIFF_LAYOUT = frozenset(
    {
        256,
        257,
        258,
        259,
        262,
        273,
        274,
        277,
        278,
        279,
        282,
        283,
        284,
        296,
        317,
        320,
        322,
        323,
        324,
        325,
        338,
        339,
        530,
        531,
        532,
    }
)  # image layout tags of a TIFF file's IFD0: structure, not metadata
_CASCADES = {
    "face": "haarcascade_frontalface_default.xml",
    "plate": "haarcascade_russian_plate_number.xml",
}


@dataclass(frozen=True)
class Region:
    """A redacted area: ``kind`` ("face" or "plate") and a box in output pixels."""

    kind: str
    x: int
    y: int
    w: int
    h: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass
class PhotoDeidReport:
    format: str
    width: int = 0
    height: int = 0
    removed: list[str] = field(default_factory=list)
    exif_tags: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    orientation: int | None = None
    regions: list[Region] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "photo",
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "removed": self.removed,
            "exif_tags": self.exif_tags,
            "kept": self.kept,
            "orientation": self.orientation,
            "regions": [r.to_dict() for r in self.regions],
            "warnings": self.warnings,
        }


def _inventory_exif(im: Any, report: PhotoDeidReport) -> None:
    """Name what the EXIF block held (best effort: a broken block is reported, not fatal)."""
    from PIL import ExifTags

    try:
        exif = im.getexif()
        names = [ExifTags.TAGS.get(t, f"0x{t:04X}") for t in exif if t not in _TIFF_LAYOUT]
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        names += [ExifTags.TAGS.get(t, f"0x{t:04X}") for t in sub]
        if exif.get_ifd(ExifTags.IFD.GPSInfo) or ExifTags.IFD.GPSInfo in exif:
            report.removed.append("gps")
        if ExifTags.Base.MakerNote in sub:
            report.removed.append("maker_note")
        if exif.get_ifd(ExifTags.IFD.IFD1):
            report.removed.append("thumbnail")
    except Exception as exc:  # any parser failure only means "unreadable"
        report.warnings.append(f"EXIF present but unreadable ({type(exc).__name__}); removed")
        return
    report.exif_tags = sorted(set(names))


def _inventory(im: Any, report: PhotoDeidReport) -> None:
    info = im.info
    has_exif = bool(info.get("exif")) or (report.format == "TIFF" and 34665 in im.tag_v2)
    if has_exif:
        report.removed.append("exif")
    if has_exif or report.format == "TIFF":
        _inventory_exif(im, report)
    if info.get("xmp") or info.get("XML:com.adobe.xmp"):
        report.removed.append("xmp")
    if info.get("photoshop") or any(m == "APP13" for m, _ in getattr(im, "applist", [])):
        report.removed.append("iptc")
    if "comment" in info:
        report.removed.append("comment")
    text = getattr(im, "text", None) if report.format == "PNG" else None
    for key in text or {}:
        if key != "XML:com.adobe.xmp":
            report.removed.append(f"png_text:{key}")
    if report.format == "TIFF":
        for tag, name in _TIFF_DESCRIPTIVE.items():
            if tag in im.tag_v2 and f"tiff:{name}" not in report.removed:
                report.removed.append(f"tiff:{name}")
    if info.get("icc_profile"):
        report.kept.append("icc_profile")
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        report.removed.append(f"frames 2..{frames}")


def _open(data: bytes) -> Any:
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise InvalidFile("not an image Pillow can read", field="file") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise FileTooLarge(f"image is too large: {exc}", field="file") from None
    if im.format not in SUPPORTED_FORMATS:
        raise InvalidFile(
            f"{im.format} is not a supported photo format ({', '.join(SUPPORTED_FORMATS)})",
            field="file",
            format=im.format,
        )
    return im


def detect_regions(rgb: Any, kinds: tuple[str, ...]) -> list[Region]:
    """Faces and/or plates in an ``(H, W, 3)`` uint8 RGB array, as pixel boxes."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    gray = cv2.equalizeHist(gray)
    found: list[Region] = []
    for kind in kinds:
        folder = cv2.data.haarcascades  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(folder + _CASCADES[kind])
        if cascade.empty():
            raise InvalidFile(f"OpenCV cascade {_CASCADES[kind]} is missing", field=kind)
        neighbours = 5 if kind == "face" else 4
        boxes = cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=neighbours, minSize=(24, 24)
        )
        found += [Region(kind, int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]
    return found


def _blur(pixels: Any, regions: list[Region]) -> None:
    """Blur each region of ``pixels`` (``(H, W)`` or ``(H, W, C)`` uint8) in place."""
    import cv2

    height, width = pixels.shape[:2]
    for r in regions:
        x0, y0 = max(0, r.x), max(0, r.y)
        x1, y1 = min(width, r.x + r.w), min(height, r.y + r.h)
        if x1 <= x0 or y1 <= y0:
            continue
        roi = pixels[y0:y1, x0:x1]
        small = cv2.resize(
            roi, (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12)), interpolation=cv2.INTER_AREA
        )
        coarse = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        k = max(3, ((min(x1 - x0, y1 - y0) // 4) | 1))
        blurred = cv2.GaussianBlur(coarse, (k, k), 0)
        pixels[y0:y1, x0:x1] = blurred.reshape(roi.shape)


def deidentify_photo(
    data: bytes, *, blur_faces: bool = False, blur_plates: bool = False
) -> tuple[bytes, PhotoDeidReport]:
    """Re-encode ``data`` with pixels only (plus ICC); optionally blur faces and plates.

    Raises :class:`InvalidFile` for bytes that are not a readable JPEG/PNG/TIFF/WebP and
    :class:`FileTooLarge` past Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, report = _deidentify(data, blur_faces, blur_plates)
    report.warnings.extend(f"{w.category.__name__}: {w.message}" for w in caught)
    return out, report


def _deidentify(data: bytes, blur_faces: bool, blur_plates: bool) -> tuple[bytes, PhotoDeidReport]:
    import numpy as np
    from PIL import Image, ImageOps

    im = _open(data)
    report = PhotoDeidReport(format=str(im.format))
    try:
        im.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidFile(f"corrupt {im.format} image: {exc}", field="file") from None
    _inventory(im, report)
    icc = im.info.get("icc_profile")
    try:
        report.orientation = int(im.getexif().get(0x0112, 1))
        upright = ImageOps.exif_transpose(im)
    except Exception as exc:  # broken EXIF: keep the pixels as stored
        report.warnings.append(f"orientation not applied ({type(exc).__name__})")
        upright = im
    clean = upright.copy()
    clean.info = {}

    kinds = tuple(k for k, on in (("face", blur_faces), ("plate", blur_plates)) if on)
    if kinds:
        if clean.mode not in ("L", "RGB", "RGBA"):
            report.warnings.append(f"mode {clean.mode} converted to RGB for redaction")
            clean = clean.convert("RGB")
        pixels = np.array(clean)
        rgb = pixels if clean.mode == "RGB" else np.array(clean.convert("RGB"))
        report.regions = detect_regions(rgb, kinds)
        _blur(pixels, report.regions)
        clean = Image.fromarray(pixels, mode=clean.mode)

    report.width, report.height = clean.size
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    fmt = report.format
    if fmt == "JPEG":
        options.update(quality=95, exif=b"")
        if clean.mode not in ("L", "RGB", "CMYK"):
            clean = clean.convert("RGB")
    elif fmt == "WEBP":
        options.update(quality=95, exif=b"", xmp=b"")
    elif fmt == "TIFF":
        options.update(compression="tiff_lzw")
    out = io.BytesIO()
    clean.save(out, format=fmt, **options)
    return out.getvalue(), report
