"""DICOM SEG codec on real DICOM files made at test time from pydicom's bundled data.

Every written SEG is read back twice, with highdicom (the reference) and with our
pydicom-only reader, and the pixel masks must be identical.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelproof.annotypes import get_type
from labelproof.cli import app
from labelproof.errors import InvalidDataset
from labelproof.formats import (
    Annotation,
    Category,
    Dataset,
    Image,
    detect_format,
    get_codec,
    read_dataset,
)
from labelproof.formats import dicomseg as codec
from labelproof.formats._cvat_rle import decode_coco, encode_coco
from labelproof.formats._dicomseg_codes import ABNORMAL, ANATOMY, property_codes

from .roundtrip import assert_round_trip

pydicom = pytest.importorskip("pydicom")
hd = pytest.importorskip("highdicom")
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

runner = CliRunner()
SEG_UID = "1.2.840.10008.5.1.4.1.1.66.4"


def _series(folder: Path, name: str, n: int, prefix: str) -> list[Path]:
    """``n`` copies of a bundled slice as one series: new UIDs, 5 mm position steps."""
    base = pydicom.dcmread(get_testdata_file(name))
    folder.mkdir(parents=True, exist_ok=True)
    series, paths = generate_uid(), []
    for i in range(n):
        d = copy.deepcopy(base)
        d.SOPInstanceUID = generate_uid()
        d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
        d.SeriesInstanceUID = series
        x, y, z = (float(v) for v in base.ImagePositionPatient)
        d.ImagePositionPatient = [x, y, z + 5.0 * i]
        d.InstanceNumber = i + 1
        p = folder / f"{prefix}_{i:03d}.dcm"
        d.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def _masks(n: int, h: int, w: int) -> np.ndarray[Any, Any]:
    """(n, h, w, 2) expected pixels: class 0 'liver' and class 1 'liver lesion'."""
    m = np.zeros((n, h, w, 2), bool)
    yy, xx = np.mgrid[:h, :w]
    m[0, 10:60, 20:90, 0] = True
    m[0, :, :, 1] = (yy - 30) ** 2 + (xx - 50) ** 2 < 100
    if n > 2:
        m[2, 40:100, 5:70, 0] = True
        m[2, 45:50, 10:15, 0] = False
    return m


def _dataset(images: list[Image], m: np.ndarray[Any, Any]) -> Dataset:
    ds = Dataset(name="ct", images=images)
    ds.categories = [Category(1, "liver"), Category(2, "liver lesion")]
    for i, im in enumerate(images):
        for k in range(m.shape[3]):
            if m[i, :, :, k].any():
                g = {"rle": encode_coco(m[i, :, :, k])}
                ds.annotations.append(Annotation(im.id, "mask", k + 1, g, id=len(ds) + 1))
    return ds


def _ct_dataset(tmp: Path, n: int = 3) -> tuple[Dataset, list[Path], np.ndarray[Any, Any]]:
    paths = _series(tmp / "src", "CT_small.dcm", n, "ct")
    images = [Image(i + 1, p.name, 128, 128, path=p) for i, p in enumerate(paths)]
    m = _masks(n, 128, 128)
    return _dataset(images, m), paths, m


def _ours(ds: Dataset, m: np.ndarray[Any, Any], order: list[str]) -> np.ndarray[Any, Any]:
    """The read-back masks as an array shaped like ``m``, images in ``order`` of names."""
    got = np.zeros_like(m)
    by_name = {im.file_name: i for i, im in enumerate(ds.images)}
    cats = {c.id: ["liver", "liver lesion"].index(c.name) for c in ds.categories}
    for a in ds.annotations:
        im = ds.images[by_name[ds.image_by_id()[a.image_id].file_name]]
        got[order.index(im.file_name), :, :, cats[a.label]] |= decode_coco(a.geometry["rle"])
    return got


def test_ct_series_matches_highdicom_and_our_reader(tmp_path: Path) -> None:
    ds, paths, m = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    wrep = codec.write(ds, out)
    assert wrep.lossless and wrep.by_type["mask"] == 3 and wrep.images == 3
    seg = hd.seg.segread(out / "segmentation.dcm")
    assert seg.SOPClassUID == SEG_UID and seg.SegmentationType == "BINARY"
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["liver", "liver lesion"]
    types = [s.SegmentedPropertyTypeCodeSequence[0].CodeValue for s in seg.SegmentSequence]
    assert types == ["10200004", "52988006"]  # SCT Liver, SCT Lesion
    uids = [str(pydicom.dcmread(p).SOPInstanceUID) for p in paths]
    refs = [
        str(i.ReferencedSOPInstanceUID)
        for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    ]
    assert refs == uids
    ref = seg.get_pixels_by_source_instance(uids, combine_segments=False).astype(bool)
    assert np.array_equal(ref, m)
    back, rrep = codec.read(out)
    assert [im.file_name for im in back.images] == [p.name for p in paths]
    assert all(im.path is not None and im.path.parent == out for im in back.images)
    assert np.array_equal(_ours(back, m, [p.name for p in paths]), ref)
    assert rrep.annotations == 3 and rrep.lossless
    # the SEG file alone, without sidecar or sources: names from the SOP Instance UIDs
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(out / "segmentation.dcm", alone / "s.dcm")
    back2, _ = codec.read(alone / "s.dcm")
    assert [im.file_name for im in back2.images] == [f"{u}.dcm" for u in uids]
    assert [(im.width, im.height) for im in back2.images] == [(128, 128)] * 3
    assert np.array_equal(_ours(back2, m, [f"{u}.dcm" for u in uids]), ref)


def test_sources_without_sidecar_give_file_names(tmp_path: Path) -> None:
    ds, paths, m = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    (out / "labelproof-dicomseg.json").unlink()
    back, _ = codec.read(out)
    assert sorted(c.name for c in back.categories) == ["liver", "liver lesion"]
    assert [im.file_name for im in back.images] == [p.name for p in paths]
    assert np.array_equal(_ours(back, m, [p.name for p in paths]), m)


def test_multi_frame_source_frames_are_referenced(tmp_path: Path) -> None:
    paths = _series(tmp_path / "slices", "MR_small.dcm", 3, "mr")
    slices = [pydicom.dcmread(p) for p in paths]
    enhanced = hd.legacy.LegacyConvertedEnhancedMRImage(
        slices, generate_uid(), 5, generate_uid(), 1
    )
    src = tmp_path / "mr_enhanced.dcm"
    enhanced.save_as(src)
    images = [Image(f, f"mr_enhanced.dcm#{f}", 64, 64, path=src) for f in (1, 2, 3)]
    m = _masks(3, 64, 64)
    ds = _dataset(images, m)
    out = tmp_path / "out"
    out.mkdir()
    assert codec.write(ds, out).lossless
    seg = hd.seg.segread(out / "segmentation.dcm")
    frames = {
        int(f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber)
        for f in seg.PerFrameFunctionalGroupsSequence
    }
    assert frames == {1, 3}
    ref = seg.get_pixels_by_source_frame(
        str(enhanced.SOPInstanceUID), [1, 2, 3], combine_segments=False
    ).astype(bool)
    assert np.array_equal(ref, m)
    names = [im.file_name for im in images]
    back, _ = codec.read(out)
    assert [im.file_name for im in back.images] == names
    assert np.array_equal(_ours(back, m, names), ref)
    (out / "labelproof-dicomseg.json").unlink()  # names now from the source's frames
    back, _ = codec.read(out)
    assert [im.file_name for im in back.images] == names
    assert np.array_equal(_ours(back, m, names), ref)


def test_polygons_rasterised_other_types_reported(tmp_path: Path) -> None:
    ds, _, _ = _ct_dataset(tmp_path)
    poly = {"points": [[10.0, 70.0], [60.0, 72.0], [50.0, 120.0]], "holes": []}
    ds.annotations.append(Annotation(2, "polygon", 1, poly, id=90))
    kp = get_type("tag").validate({})
    ds.annotations.append(Annotation(2, "tag", 2, kp, id=91))
    dup = {"rle": encode_coco(np.pad(np.ones((5, 5), bool), ((0, 123), (0, 123))))}
    ds.annotations.append(Annotation(1, "mask", 1, dup, id=92, score=0.5))
    out = tmp_path / "out"
    out.mkdir()
    wrep = codec.write(ds, out)
    assert wrep.approximated["polygon rasterised into a mask"] == 1
    assert wrep.approximated["merged with a mask of the same class on the same image"] == 1
    assert wrep.dropped["tag: no place in a DICOM SEG"] == 1
    assert wrep.dropped["score: no place in a DICOM SEG"] == 1
    back, _ = codec.read(out)
    want = decode_coco(get_type("polygon").to_mask(poly, ds.images[1].size)["rle"])  # type: ignore[index]
    got = [a for a in back.annotations if a.image_id == 2]
    assert len(got) == 1 and np.array_equal(decode_coco(got[0].geometry["rle"]), want)


def test_segment_codes_match_pydicom_dictionary() -> None:
    from pydicom.sr.codedict import codes

    for table in (ABNORMAL, ANATOMY):
        for value, meaning in table.values():
            code = getattr(codes.SCT, meaning.replace(" ", ""))
            assert (code.value, code.meaning) == (value, meaning)
    assert property_codes("Left Kidney")[1] == ("64033007", "Kidney")
    assert property_codes("lung nodule") == (
        ("49755003", "Morphologically Abnormal Structure"),
        ("27925004", "Nodule"),
    )
    assert property_codes("car") == (("85756007", "Tissue"), ("85756007", "Tissue"))


def test_detect(tmp_path: Path) -> None:
    ds, paths, _ = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    assert codec.detect(out / "segmentation.dcm") == 0.95
    assert codec.detect(out) == 0.95
    assert codec.detect(paths[0]) == 0.1
    assert codec.detect(paths[0].parent) == 0.1
    assert codec.detect(out / "labelproof-dicomseg.json") == 0.0
    assert detect_format(out / "segmentation.dcm")[0] == ("dicomseg", 0.95)


def test_seg_referencing_frames_not_in_the_series(tmp_path: Path) -> None:
    ds, paths, _ = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    missing = str(pydicom.dcmread(paths[2]).SOPInstanceUID)
    (out / paths[2].name).unlink()
    with pytest.raises(
        InvalidDataset,
        match=rf"segmentation\.dcm: frame \d+ references SOP Instance UID {missing}, "
        "which is not in series",
    ):
        codec.read(out)


def test_frame_number_beyond_the_source(tmp_path: Path) -> None:
    ds, _, _ = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    seg = pydicom.dcmread(out / "segmentation.dcm")
    other = str(generate_uid())
    seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[
        0
    ].ReferencedSOPInstanceUID = other
    seg.save_as(out / "segmentation.dcm")
    with pytest.raises(
        InvalidDataset,
        match=rf"frame 1 references SOP Instance UID {other}, which the "
        "segmentation's ReferencedSeriesSequence does not list",
    ):
        codec.read(out / "segmentation.dcm")


def test_corrupt_and_truncated_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00garbage")
    with pytest.raises(InvalidDataset, match=r"bad\.dcm: not a readable DICOM file"):
        codec.read(bad)
    ds, _, _ = _ct_dataset(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    raw = (out / "segmentation.dcm").read_bytes()
    (out / "segmentation.dcm").write_bytes(raw[: len(raw) - 2000])
    with pytest.raises(InvalidDataset, match=r"segmentation\.dcm: "):
        codec.read(out)
    (out / "segmentation.dcm").write_bytes(b"not dicom at all")
    with pytest.raises(InvalidDataset, match=r"segmentation\.dcm: not a readable DICOM file"):
        codec.read(out)


def test_non_seg_dicom_given_as_dicomseg(tmp_path: Path) -> None:
    paths = _series(tmp_path / "src", "CT_small.dcm", 2, "ct")
    with pytest.raises(
        InvalidDataset,
        match=r"ct_000\.dcm: not a DICOM Segmentation: SOP Class UID is "
        r"1\.2\.840\.10008\.5\.1\.4\.1\.1\.2 \(CT Image Storage\)",
    ):
        read_dataset(paths[0], "dicomseg")
    with pytest.raises(
        InvalidDataset, match=r"src: no DICOM Segmentation file .*2 other DICOM images"
    ):
        read_dataset(paths[0].parent, "dicomseg")
    result = runner.invoke(
        app,
        [
            "convert",
            str(paths[0]),
            "--from",
            "dicomseg",
            "--to",
            "coco",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "not a DICOM Segmentation" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_placeholders_for_non_dicom_images_of_two_sizes(tmp_path: Path) -> None:
    a = np.zeros((20, 30), bool)
    a[2:9, 3:17] = True
    b = np.zeros((40, 10), bool)
    b[30:39, 1:4] = True
    ds = Dataset(
        images=[Image(7, "a.png", 30, 20, "train"), Image(9, "b.png", 10, 40, "val")],
        categories=[Category(3, "car")],
        annotations=[
            Annotation(7, "mask", 3, {"rle": encode_coco(a)}),
            Annotation(9, "mask", 3, {"rle": encode_coco(b)}),
        ],
    )
    out = tmp_path / "out"
    out.mkdir()
    codec.write(ds, out)
    assert sorted(p.name for p in out.glob("*.dcm")) == ["segmentation-1.dcm", "segmentation-2.dcm"]
    back, _ = codec.read(out)
    assert [(im.id, im.file_name, im.width, im.height, im.split) for im in back.images] == [
        (7, "a.png", 30, 20, "train"),
        (9, "b.png", 10, 40, "val"),
    ]
    got = {x.image_id: decode_coco(x.geometry["rle"]) for x in back.annotations}
    assert np.array_equal(got[7], a) and np.array_equal(got[9], b)
    for p in sorted(out.glob("*.dcm")):
        seg = hd.seg.segread(p)
        assert seg.SegmentSequence[0].SegmentLabel == "car"


def test_convert_seg_to_masks(tmp_path: Path) -> None:
    ds, _, _ = _ct_dataset(tmp_path)
    out = tmp_path / "seg"
    out.mkdir()
    codec.write(ds, out)
    result = runner.invoke(
        app, ["convert", str(out), "--to", "masks", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    assert "detected dicomseg (confidence 0.95)" in result.output


def test_generic_round_trip_on_a_ct_series(tmp_path: Path) -> None:
    ds, _, _ = _ct_dataset(tmp_path)
    back, wrep = assert_round_trip(get_codec("dicomseg"), ds, tmp_path)
    assert wrep.lossless and len(back) == len(ds)


@settings(
    deadline=None, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_random_masks_round_trip_exactly(tmp_path_factory: Any, data: Any) -> None:
    h, w = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    n_img, n_cls = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    bits = data.draw(
        st.lists(st.booleans(), min_size=n_img * n_cls * h * w, max_size=n_img * n_cls * h * w)
    )
    m = np.array(bits, bool).reshape(n_img, h, w, n_cls)
    ds = Dataset(
        images=[Image(i + 1, f"i{i}.jpg", w, h) for i in range(n_img)],
        categories=[Category(k + 1, f"class {k}") for k in range(n_cls)],
    )
    for i in range(n_img):
        for k in range(n_cls):
            if m[i, :, :, k].any():
                ds.annotations.append(
                    Annotation(i + 1, "mask", k + 1, {"rle": encode_coco(m[i, :, :, k])})
                )
    out = tmp_path_factory.mktemp("rt")
    codec.write(ds, out)
    back, _ = codec.read(out)
    want = {(a.image_id, a.label): a.geometry["rle"]["counts"] for a in ds.annotations}
    got = {(a.image_id, a.label): a.geometry["rle"]["counts"] for a in back.annotations}
    assert got == want


def _hd_seg(tmp: Path, kind: str) -> tuple[Path, np.ndarray[Any, Any]]:
    """A LABELMAP or FRACTIONAL SEG written by highdicom itself over a 3-slice CT series."""
    paths = _series(tmp / "src", "CT_small.dcm", 3, "ct")
    sources = [pydicom.dcmread(p) for p in paths]
    m = _masks(3, 128, 128)
    m[0, :, :, 1] &= ~m[0, :, :, 0]  # a label map holds one segment per pixel
    descs = [
        hd.seg.SegmentDescription(
            k + 1,
            name,
            hd.sr.CodedConcept("85756007", "SCT", "Tissue"),
            hd.sr.CodedConcept("85756007", "SCT", "Tissue"),
            "MANUAL",
        )
        for k, name in enumerate(["liver", "liver lesion"])
    ]
    if kind == "LABELMAP":
        arr: np.ndarray[Any, Any] = m.astype(np.uint8)[..., 0] + 2 * m.astype(np.uint8)[..., 1]
    else:
        arr = np.where(m, 0.8, 0.0).astype(np.float32)
        arr[0, 0, 0, 0] = 0.3  # below half: not in the mask
    seg = hd.seg.Segmentation(
        sources,
        arr,
        kind,
        descs,
        generate_uid(),
        1,
        generate_uid(),
        1,
        "t",
        "t",
        "0",
        "0",
        **({"max_fractional_value": 200} if kind == "FRACTIONAL" else {}),
    )
    seg.save_as(tmp / "src" / "seg.dcm")
    return tmp / "src", m


@pytest.mark.parametrize("kind", ["LABELMAP", "FRACTIONAL"])
def test_highdicom_labelmap_and_fractional_segs_are_read(tmp_path: Path, kind: str) -> None:
    folder, m = _hd_seg(tmp_path, kind)
    back, rrep = codec.read(folder)
    names = [f"ct_{i:03d}.dcm" for i in range(3)]
    assert [im.file_name for im in back.images] == names
    assert np.array_equal(_ours(back, m, names), m)
    assert (
        "FRACTIONAL segmentation thresholded at half the maximum value" in rrep.approximated
    ) == (kind == "FRACTIONAL")
