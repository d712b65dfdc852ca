"""Photo de-identification: planted EXIF/GPS/XMP/IPTC/thumbnails are gone; faces are blurred."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import skimage.data
from PIL import ExifTags, Image, PngImagePlugin

from labelproof.errors import FileTooLarge, InvalidFile
from labelproof.privacy.photo import Region, _blur, deidentify_photo

SECRET_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-XMP-CREATOR</x:xmpmeta>'


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model-X100"
    exif[ExifTags.Base.Artist] = "Jane Photographer"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.BodySerialNumber] = "SERIAL-998877"
    sub[ExifTags.Base.MakerNote] = b"MAKERNOTE-SECRET-BLOB"
    sub[ExifTags.Base.DateTimeOriginal] = "2024:05:06 07:08:09"
    return exif


def _exif_with_thumbnail(thumb: bytes) -> bytes:
    """A hand-built little-endian EXIF block: IFD0 (Make) -> IFD1 (JPEG thumbnail)."""
    make = b"ThumbCam\x00"
    ifd0 = 8
    ifd1 = ifd0 + 2 + 12 + 4
    data = ifd1 + 2 + 2 * 12 + 4
    thumb_at = data + len(make)
    out = b"II*\x00" + struct.pack("<I", ifd0)
    out += struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2, len(make), data)
    out += struct.pack("<I", ifd1)
    out += struct.pack("<H", 2)
    out += struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    out += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    out += struct.pack("<I", 0)
    return b"Exif\x00\x00" + out + make + thumb


def _astronaut() -> Image.Image:
    return Image.fromarray(skimage.data.astronaut())


def _encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def _assert_clean(out: bytes, fmt: str) -> Image.Image:
    for secret in (
        b"SecretCam",
        b"Model-X100",
        b"Jane",
        b"SERIAL-998877",
        b"MAKERNOTE",
        b"SECRET-XMP",
        b"ThumbCam",
        b"2024:05:06",
        b"IPTC-SECRET",
        b"PNG-SECRET",
    ):
        assert secret not in out, secret
    again = Image.open(io.BytesIO(out))
    assert again.format == fmt
    exif = again.getexif()
    assert ExifTags.IFD.GPSInfo not in exif and ExifTags.Base.Make not in exif
    assert not exif.get_ifd(ExifTags.IFD.Exif)
    assert "xmp" not in again.info and "exif" not in again.info
    return again


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
def test_metadata_is_stripped(fmt: str) -> None:
    options: dict[str, object] = {"exif": _exif().tobytes()}
    if fmt in ("JPEG", "WEBP"):
        options["xmp"] = SECRET_XMP
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", SECRET_XMP.decode())
        info.add_text("Comment", "PNG-SECRET comment")
        options["pnginfo"] = info
    data = _encode(_astronaut(), fmt, **options)
    assert b"SecretCam" in data  # the planted metadata is really there before
    out, report = deidentify_photo(data)
    again = _assert_clean(out, fmt)
    assert again.size == (512, 512)
    assert {"exif", "gps", "maker_note"} <= set(report.removed)
    assert {"Make", "Model", "BodySerialNumber", "GPSInfo"} <= set(report.exif_tags)
    if fmt in ("JPEG", "WEBP", "PNG"):
        assert "xmp" in report.removed
    if fmt == "PNG":
        assert "png_text:Comment" in report.removed
        assert np.array_equal(np.array(again), skimage.data.astronaut())  # lossless


def test_orientation_is_applied_then_dropped() -> None:
    im = Image.fromarray(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10)
    data = _encode(im, "PNG", exif=_exif(orientation=6).tobytes())
    out, report = deidentify_photo(data)
    again = Image.open(io.BytesIO(out))
    assert report.orientation == 6
    assert again.size == (2, 3)  # rotated 90 degrees: width and height swap
    assert np.array_equal(np.array(again), np.array(im.transpose(Image.Transpose.ROTATE_270)))
    assert ExifTags.Base.Orientation not in again.getexif()


def test_thumbnail_and_iptc_in_jpeg() -> None:
    thumb = _encode(Image.new("RGB", (16, 16), "red"), "JPEG")
    iptc = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x0bIPTC-SECRET\x00"
    data = _encode(_astronaut(), "JPEG", exif=_exif_with_thumbnail(thumb))
    # Splice an APP13 Photoshop/IPTC segment after SOI.
    app13 = b"Photoshop 3.0\x00" + iptc
    data = data[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + data[2:]
    out, report = deidentify_photo(data)
    _assert_clean(out, "JPEG")
    assert "thumbnail" in report.removed and "iptc" in report.removed
    assert thumb[:64] not in out


def test_icc_profile_is_kept() -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_astronaut(), "JPEG", icc_profile=icc, exif=_exif().tobytes())
    out, report = deidentify_photo(data)
    assert Image.open(io.BytesIO(out)).info.get("icc_profile") == icc
    assert report.kept == ["icc_profile"]


def test_odd_exif_blocks() -> None:
    big = _exif()
    big.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = b"ASCII\x00\x00\x00" + b"Z" * 60000
    out, report = deidentify_photo(_encode(_astronaut(), "JPEG", exif=big.tobytes()))
    assert b"Z" * 100 not in out and "UserComment" in report.exif_tags
    # A broken EXIF block: stripped all the same, and said so.
    broken = b"Exif\x00\x00II*\x00" + b"\xff" * 40
    out, report = deidentify_photo(_encode(_astronaut(), "JPEG", exif=broken))
    assert "exif" in report.removed
    assert any("EXIF" in w for w in report.warnings)
    assert b"\xff" * 40 not in out
    assert Image.open(io.BytesIO(out)).getexif() == {}
    # Nested IFDs (Exif -> Interop) are dropped with their parent.
    nested = _exif()
    nested.get_ifd(ExifTags.IFD.Interop)[0x0001] = "R98"
    out, _ = deidentify_photo(_encode(_astronaut(), "TIFF", exif=nested.tobytes()))
    _assert_clean(out, "TIFF")


def test_bad_inputs_give_clear_errors() -> None:
    with pytest.raises(InvalidFile, match="not an image"):
        deidentify_photo(b"definitely not an image")
    with pytest.raises(InvalidFile, match="GIF is not a supported"):
        deidentify_photo(_encode(Image.new("P", (4, 4)), "GIF"))
    truncated = _encode(_astronaut(), "PNG")[:5000]
    with pytest.raises(InvalidFile, match="corrupt PNG"):
        deidentify_photo(truncated)


def test_decompression_bomb_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _encode(_astronaut(), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(FileTooLarge):
        deidentify_photo(data)


def test_astronaut_face_is_found_and_blurred() -> None:
    original = skimage.data.astronaut()
    out, report = deidentify_photo(_encode(_astronaut(), "PNG"), blur_faces=True)
    faces = [r for r in report.regions if r.kind == "face"]
    assert len(faces) == 1
    face = faces[0]
    # The face of the astronaut sits around x 180..270, y 70..160.
    assert 150 < face.x + face.w / 2 < 300 and 60 < face.y + face.h / 2 < 180
    result = np.array(Image.open(io.BytesIO(out))).astype(int)
    inside = np.s_[face.y : face.y + face.h, face.x : face.x + face.w]
    assert np.abs(result[inside] - original[inside]).mean() > 10
    outside = np.s_[400:, :100]
    assert np.array_equal(result[outside], original[outside])
    assert report.to_dict()["regions"][0] == {
        "kind": "face",
        "x": face.x,
        "y": face.y,
        "w": face.w,
        "h": face.h,
    }


def test_plate_detection_runs_and_blur_helper_blurs() -> None:
    _, report = deidentify_photo(_encode(_astronaut(), "PNG"), blur_plates=True)
    assert all(r.kind == "plate" for r in report.regions)
    pixels = np.zeros((40, 60, 3), dtype=np.uint8)
    pixels[:, ::2] = 255  # stripes: a blur flattens them
    _blur(pixels, [Region("plate", 10, 5, 30, 20), Region("plate", 100, 100, 5, 5)])
    assert pixels[5:25, 10:40].std() < 60
    assert pixels[30:, :].std() > 100
