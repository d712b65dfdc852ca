"""DICOM on the server: checks at upload, de-identification at ingest, viewer facts, thumbnails.

An upload whose bytes 128..131 are ``DICM`` comes here instead of the raster checks
(services/images.py). :func:`inspect_dicom` reads it as a hostile file: the header first
(without pixels), refusing a segmentation, an image without rows and columns, a
photometric interpretation, bit depth or transfer syntax this installation cannot decode,
and sizes over the pixel budget (``Rows * Columns * frames <= settings.max_pixels``); then
the pixel data is decoded (every frame up to :data:`FULL_DECODE_PIXELS` in all, else the
middle frame), so a truncated or corrupt file is refused before anything is stored. Every
error names the file.

With the project's policy ``dicom: basic_profile`` the file is de-identified by
:func:`labelproof.privacy.deidentify_dicom` (PS3.15 Annex E basic profile) *before* it is
hashed and stored, keyed by a per-project secret derived from the project's data key
(:func:`project_secret`: HMAC under the data key with its own purpose string, never
stored), so one input UID maps to one output UID within a project and to unrelated UIDs in
another. The asset keeps the report (paths of what was removed, replaced, remapped, and
flags such as burned-in annotation), and ``media_meta`` keeps technical facts only.

In an archive upload, the single-frame instances of one CT, MR or PET series become one
Legacy Converted Enhanced image (services/dicom_series.py), frames along the slice normal.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from labelproof.errors import ConfigurationError, FileTooLarge, InvalidFile
from labelproof.services.context import Runtime
from labelproof.services.images import ImageInfo, clean_filename

if TYPE_CHECKING:
    from labelproof.services.assets import CheckedUpload

__all__ = [
    "DICOM_MEDIA_TYPE",
    "DICOM_MODES",
    "FULL_DECODE_PIXELS",
    "DicomFacts",
    "check_dicom",
    "inspect_dicom",
    "project_secret",
    "thumbnail_jpeg",
]

DICOM_MEDIA_TYPE = "application/dicom"
DICOM_MODES = ("off", "basic_profile", "basic_profile_shift_dates")
#: Frames are all decoded at upload up to this many pixels in all; above, the middle one.
FULL_DECODE_PIXELS = 64_000_000
_EXTENSIONS = frozenset({"", ".dcm", ".dicom", ".dic", ".ima"})
_PHOTOMETRIC = frozenset(
    {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"}
)
_SEG_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"})
_SECRET_PURPOSE = "dicom de-identification secret"
_MAX_SIDE = 65_535  # Rows and Columns are US


@dataclass(frozen=True)
class DicomFacts:
    """What the upload checks learned: the image info, frames and the viewer's facts."""

    info: ImageInfo
    frames: int
    media_meta: dict[str, Any]


def project_secret(db: Session, rt: Runtime, project_id: int, *, create: bool) -> bytes | None:
    """The project's DICOM de-identification secret: 32 bytes of HMAC under its data key.

    ``None`` when the project has no data key yet and ``create`` is false (a read session
    cannot make one). Never stored: it is derived again whenever it is needed.
    """
    from labelproof.errors import NotFound
    from labelproof.services.custody.fields import digest

    try:
        key = rt.custody.data_key(db, project_id, create=create)
    except NotFound:
        return None
    return bytes.fromhex(digest(key, f"project {project_id}", purpose=_SECRET_PURPOSE))


def _fail(name: str, reason: str) -> InvalidFile:
    return InvalidFile(f"{name}: {reason}", field="file")


def _first(value: Any) -> float | None:
    """The first number of a (possibly multi-valued) DS/IS element, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        if len(value) == 0:
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _frames_of(ds: Any) -> int:
    value = ds.get("NumberOfFrames")
    if value in (None, ""):
        return 1
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _read(path: Path, name: str, *, pixels: bool) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=not pixels)
            if not pixels:  # parse every element now, so corruption surfaces here (once)
                for _ in ds.iterall():
                    pass
        except InvalidDicomError as exc:
            raise _fail(name, f"not a DICOM file ({exc})") from None
        except Exception as exc:  # pydicom raises many kinds on damaged input
            raise _fail(
                name, f"a corrupt or truncated DICOM file ({type(exc).__name__}: {exc})"
            ) from None
    return ds


def _check_header(ds: Any, name: str, max_pixels: int) -> tuple[int, int, int]:
    """(columns, rows, frames) after the header checks."""
    from pydicom.pixels.decoders.base import get_decoder

    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class in _SEG_CLASSES:
        raise _fail(
            name, "a DICOM Segmentation, not an image: import it as a dataset (format dicomseg)"
        )
    if "Rows" not in ds or "Columns" not in ds:
        raise _fail(name, "a DICOM file without an image (no Rows/Columns)")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (TypeError, ValueError):
        raise _fail(name, "Rows/Columns are not numbers") from None
    frames = _frames_of(ds)
    if not (0 < rows <= _MAX_SIDE and 0 < cols <= _MAX_SIDE) or frames < 1:
        raise _fail(name, f"absurd dimensions {cols}x{rows} with {frames} frames")
    if rows * cols * frames > max_pixels:
        raise FileTooLarge(
            f"{name}: {cols}x{rows} x {frames} frames = {rows * cols * frames} pixels is over "
            f"the pixel limit of {max_pixels}",
            field="file",
        )
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    if photometric not in _PHOTOMETRIC:
        raise _fail(
            name,
            f"photometric interpretation {photometric or '(none)'!s} is not supported "
            f"(supported: {', '.join(sorted(_PHOTOMETRIC))})",
        )
    bits = ds.get("BitsAllocated")
    samples = ds.get("SamplesPerPixel", 1)
    if bits not in (8, 16, 32) or samples not in (1, 3):
        raise _fail(name, f"BitsAllocated {bits} with SamplesPerPixel {samples} is not supported")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None:
        raise _fail(name, "no Transfer Syntax UID in the file meta information")
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise _fail(name, f"transfer syntax {syntax} ({syntax.name}) has no decoder") from None
    if not decoder.is_available:
        raise _fail(
            name,
            f"transfer syntax {syntax.name} cannot be decoded on this server "
            "(no installed pixel data handler)",
        )
    return cols, rows, frames


def _frame(ds: Any, index: int, frames: int) -> NDArray[Any]:
    from pydicom.pixels.utils import pixel_array

    arr = pixel_array(ds, index=index if frames > 1 else None)
    return np.asarray(arr)


def _decode(ds: Any, name: str, frames: int) -> NDArray[Any]:
    """Decode the pixels (all frames when small enough); returns the middle frame."""
    from pydicom.pixels.utils import iter_pixels

    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise _fail(name, "a DICOM file without pixel data")
    if "PixelData" not in ds:
        raise _fail(name, "float pixel data is not supported")
    middle = frames // 2
    total = int(ds.Rows) * int(ds.Columns) * frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if total <= FULL_DECODE_PIXELS:
                kept: NDArray[Any] | None = None
                count = 0
                for i, arr in enumerate(iter_pixels(ds)):
                    if i == middle:
                        kept = np.asarray(arr)
                    count += 1
                if kept is None or count != frames:
                    raise ValueError(f"{count} frames decoded, {frames} declared")
                return kept
            return _frame(ds, middle, frames)
        except InvalidFile:
            raise
        except Exception as exc:  # decoders raise many kinds on damaged data
            raise _fail(
                name, f"the pixel data cannot be decoded ({type(exc).__name__}: {exc})"
            ) from None


#: Where an enhanced (multi-frame) image keeps what a single-frame one has at the top level.
_FUNCTIONAL_GROUP = {
    "RescaleSlope": "PixelValueTransformationSequence",
    "RescaleIntercept": "PixelValueTransformationSequence",
    "WindowCenter": "FrameVOILUTSequence",
    "WindowWidth": "FrameVOILUTSequence",
    "PixelSpacing": "PixelMeasuresSequence",
}


def _attr(ds: Any, keyword: str) -> Any:
    """``keyword`` at the top level, else in the shared functional groups, else in the
    first frame's (enhanced CT/MR/PET keep rescale, window and spacing there)."""
    value = ds.get(keyword)
    if value not in (None, "") or keyword not in _FUNCTIONAL_GROUP:
        return value
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        try:
            item = ds.get(groups)[0].get(_FUNCTIONAL_GROUP[keyword])[0]
        except (TypeError, IndexError, KeyError, AttributeError):
            continue
        found = item.get(keyword)
        if found not in (None, ""):
            return found
    return value


def _modality(ds: Any, arr: NDArray[Any]) -> NDArray[np.float64]:
    slope = _first(_attr(ds, "RescaleSlope")) or 1.0
    intercept = _first(_attr(ds, "RescaleIntercept")) or 0.0
    return arr.astype(np.float64) * slope + intercept


def _window(ds: Any, frame: NDArray[Any]) -> dict[str, float] | None:
    """The first WindowCenter/Width, else one spanning the middle frame's values."""
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        return None
    center, width = _first(_attr(ds, "WindowCenter")), _first(_attr(ds, "WindowWidth"))
    if center is not None and width is not None and width >= 1:
        return {"center": center, "width": width}
    values = _modality(ds, frame)
    lo, hi = float(values.min()), float(values.max())
    return {"center": (lo + hi) / 2, "width": max(hi - lo, 1.0)}


def _meta(ds: Any, frames: int, frame: NDArray[Any]) -> dict[str, Any]:
    spacing = _attr(ds, "PixelSpacing")
    pixel_spacing = None
    if spacing is not None and len(spacing) == 2:
        values = [_first([v]) for v in spacing]
        if all(v is not None and v > 0 for v in values):
            pixel_spacing = values
    instance = ds.get("InstanceNumber")
    return {
        "kind": "dicom",
        "modality": str(ds.get("Modality", "")) or None,
        "photometric": str(ds.PhotometricInterpretation).strip(),
        "bits_stored": int(ds.get("BitsStored", ds.BitsAllocated)),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1)),
        "rescale": {
            "slope": _first(_attr(ds, "RescaleSlope")) or 1.0,
            "intercept": _first(_attr(ds, "RescaleIntercept")) or 0.0,
        },
        "window": _window(ds, frame),
        "pixel_spacing": pixel_spacing,
        "frames": frames,
        "series_uid": str(ds.get("SeriesInstanceUID", "")) or None,
        "instance_number": None if instance in (None, "") else int(_first(instance) or 0),
    }


def inspect_dicom(path: Path, *, filename: str, max_pixels: int) -> DicomFacts:
    """Check a staged DICOM upload as a hostile file; InvalidFile naming it on any problem."""
    name = clean_filename(filename)
    ext = Path(name).suffix.lower()
    if ext not in _EXTENSIONS:
        raise _fail(name, f"the extension says {ext} but the content is DICOM")
    header = _read(path, name, pixels=False)
    cols, rows, frames = _check_header(header, name, max_pixels)
    ds = _read(path, name, pixels=True)
    middle = _decode(ds, name, frames)
    meta = _meta(ds, frames, middle)
    info = ImageInfo(
        filename=name,
        format="DICOM",
        media_type=DICOM_MEDIA_TYPE,
        width=cols,
        height=rows,
        media_meta=meta,
    )
    return DicomFacts(info=info, frames=frames, media_meta=meta)


def dicom_mode(policy: dict[str, Any] | None) -> str:
    return "off" if policy is None else str(policy.get("dicom", "off"))


def check_dicom(
    rt: Runtime, staged: Any, filename: str | None, policy: dict[str, Any] | None
) -> CheckedUpload:
    """Inspect a staged DICOM upload and de-identify it by ``policy``.

    The caller discards ``staged`` on error; on success the returned upload owns the
    staging copy (``staged`` itself when nothing changed, else a new one and ``staged`` is
    discarded here).
    """
    from labelproof.privacy.dicom import deidentify_dicom, remap_uid
    from labelproof.services.assets import CheckedUpload

    facts = inspect_dicom(staged.path, filename=filename or "", max_pixels=rt.settings.max_pixels)
    upload = CheckedUpload(staged=staged, info=facts.info, frames=facts.frames)
    if dicom_mode(policy) == "off":
        return upload
    secret = _secret_for(rt, policy)
    name = facts.info.filename
    try:
        cleaned, report = deidentify_dicom(
            staged.path.read_bytes(),
            project_secret=secret,
            shift_dates=dicom_mode(policy) == "basic_profile_shift_dates",
        )
    except InvalidFile as exc:
        raise _fail(name, exc.message) from None
    new = rt.blobs.stage(
        io.BytesIO(cleaned), max_bytes=max(rt.settings.max_upload_bytes, len(cleaned))
    )
    meta = dict(facts.media_meta)
    if meta.get("series_uid"):
        meta["series_uid"] = remap_uid(secret, str(meta["series_uid"]))
    rt.blobs.discard(staged)
    doc = report.to_dict()
    doc["policy"] = {"dicom": dicom_mode(policy)}
    doc["counts"] = {
        key: len(doc[key])
        for key in ("removed", "emptied", "replaced", "uids_remapped", "private_removed")
    }
    doc["burned_in"] = any(
        flag.startswith(("BurnedInAnnotation", "Modality")) for flag in report.flags
    )
    return replace(upload, staged=new, info=replace(facts.info, media_meta=meta), deid=doc)


def _secret_for(rt: Runtime, policy: Any) -> bytes:
    secret = getattr(policy, "dicom_secret", None)
    if secret is not None:
        return bytes(secret)
    project_id = getattr(policy, "project_id", None)
    if project_id is None:
        raise ConfigurationError(
            "DICOM de-identification needs the project's policy from ingest_policy "
            "(it carries the project the secret is derived for)",
            field="policy",
        )
    with rt.write() as db:  # the project has no data key yet: make it, once, for everyone
        made = project_secret(db, rt, int(project_id), create=True)
    assert made is not None
    policy.dicom_secret = made
    return made


def _to_uint8(ds: Any, frame: NDArray[Any], meta: dict[str, Any] | None) -> NDArray[np.uint8]:
    """A displayable 8-bit frame: rescale, then the default window; colour kept as RGB."""
    if frame.ndim == 3:  # colour: pixel_array gives RGB
        arr = frame.astype(np.float64)
        top = float(2 ** int(ds.get("BitsStored", 8)) - 1) or 1.0
        return np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
    values = _modality(ds, frame)
    window = (meta or {}).get("window") or _window(ds, frame)
    assert window is not None
    center, width = float(window["center"]), max(float(window["width"]), 1.0)
    lo = center - width / 2
    out = np.clip((values - lo) / width * 255.0, 0, 255)
    if str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        out = 255.0 - out
    return out.astype(np.uint8)


def thumbnail_jpeg(data: bytes, size: int, meta: dict[str, Any] | None = None) -> bytes:
    """A JPEG of the middle frame, default window applied, no larger than ``size`` a side."""
    import pydicom
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
        frames = max(1, _frames_of(ds))
        frame = _frame(ds, frames // 2, frames)
    image = Image.fromarray(_to_uint8(ds, frame, meta))
    image.thumbnail((size, size))
    buf = io.BytesIO()
    image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(
        buf, format="JPEG", quality=80
    )
    return buf.getvalue()


# -- a series of single-frame instances becomes one multi-frame stack -------------------
