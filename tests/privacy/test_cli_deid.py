"""``labelproof deid`` on a file and on a folder of DICOM files and photos."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pydicom
import skimage.data
from PIL import ExifTags, Image
from pydicom.data import get_testdata_file
from typer.testing import CliRunner

from labelproof.cli import app
from labelproof.privacy.batch import sniff
from labelproof.privacy.dicom import remap_uid

runner = CliRunner()


def _photo(path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    Image.fromarray(skimage.data.astronaut()).save(path, format="JPEG", exif=exif.tobytes())


def _tree(root: Path) -> None:
    (root / "scans" / "ct").mkdir(parents=True)
    for name in ("CT_small.dcm", "MR_small.dcm"):
        src = get_testdata_file(name, download=False)
        assert src is not None
        shutil.copy(src, root / "scans" / "ct" / name)
    _photo(root / "street.jpg")
    (root / "notes.txt").write_text("not an image")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)


def test_folder_run_with_report(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    _tree(src)
    secret = tmp_path / "secret"
    secret.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    report = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "deid",
            str(src),
            "--out",
            str(out),
            "--report",
            str(report),
            "--blur-faces",
            "--project-secret-file",
            str(secret),
        ],
    )
    assert result.exit_code == 2, result.output  # broken.png failed; the rest went through
    assert "3 de-identified, 1 skipped, 1 failed" in result.output
    doc = json.loads(report.read_text())
    assert doc["uid_key"] == "project"
    by_input = {f["input"]: f for f in doc["files"]}
    assert by_input["notes.txt"]["skipped"]
    assert "not an image" in by_input["broken.png"]["error"]
    assert by_input["street.jpg"]["report"]["regions"][0]["kind"] == "face"
    ct = pydicom.dcmread(out / "scans" / "ct" / "CT_small.dcm")
    original = pydicom.dcmread(src / "scans" / "ct" / "CT_small.dcm")
    assert ct.PatientName == "" and ct.PatientIdentityRemoved == "YES"
    assert ct.StudyInstanceUID == remap_uid(
        b"0123456789abcdef0123456789abcdef", original.StudyInstanceUID
    )
    assert not (out / "notes.txt").exists()
    photo = (out / "street.jpg").read_bytes()
    assert b"SecretCam" not in photo and sniff(photo) == "photo"


def test_single_file_and_errors(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    _photo(photo)
    result = runner.invoke(app, ["deid", str(photo), "--out", str(tmp_path / "clean.jpg")])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "clean.jpg").getexif() == {}
    result = runner.invoke(app, ["deid", str(photo), "--out", str(photo)])
    assert result.exit_code == 2 and "must not be the input" in result.output
    short = tmp_path / "short"
    short.write_text("tiny")
    result = runner.invoke(
        app,
        ["deid", str(photo), "--out", str(tmp_path / "o.jpg"), "--project-secret-file", str(short)],
    )
    assert result.exit_code == 2 and "at least 16" in result.output
    result = runner.invoke(app, ["deid", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_ephemeral_secret_note(tmp_path: Path) -> None:
    src = get_testdata_file("MR_small.dcm", download=False)
    assert src is not None
    result = runner.invoke(app, ["deid", src, "--out", str(tmp_path / "mr.dcm"), "--shift-dates"])
    assert result.exit_code == 0, result.output
    assert "agree only in this run" in result.output
    ds = pydicom.dcmread(io.BytesIO((tmp_path / "mr.dcm").read_bytes()))
    assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113107"]
