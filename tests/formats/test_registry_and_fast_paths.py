"""The codec registry (plugins through entry points), the public surface, the docs, and the
vectorised fast paths against their one-by-one equivalents."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import types
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labelproof.formats as formats
from labelproof.errors import ConfigurationError
from labelproof.formats import CodecRegistry, Dataset, LossReport, get_codec
from labelproof.formats import _numfmt as nf
from labelproof.formats._coco_read import CHUNKED_ABOVE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _plugin_module() -> types.ModuleType:
    mod = types.ModuleType("lp_test_plugin_codec")
    mod.NAME = "toy"  # type: ignore[attr-defined]
    mod.READS = frozenset({"tag"})  # type: ignore[attr-defined]
    mod.WRITES = frozenset({"tag"})  # type: ignore[attr-defined]
    mod.detect = lambda path: 0.5  # type: ignore[attr-defined]
    mod.read = lambda path: (Dataset(), LossReport("toy", "read"))  # type: ignore[attr-defined]
    mod.write = lambda ds, out: LossReport("toy", "write")  # type: ignore[attr-defined]
    return mod


def _eps(name: str) -> list[importlib.metadata.EntryPoint]:
    return [importlib.metadata.EntryPoint(name, "lp_test_plugin_codec", "labelproof.formats")]


def test_plugin_entry_point_is_loaded_like_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lp_test_plugin_codec", _plugin_module())
    reg = CodecRegistry(entry_points=lambda: _eps("toy"))
    assert reg.names() == ["coco", "cvat", "dicomseg", "labelstudio", "masks", "toy", "voc", "yolo"]
    assert reg.get("toy").reads == frozenset({"tag"})
    assert ("toy", 0.5) in reg.detect(Path("."))


def test_plugin_named_wrongly_or_duplicate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lp_test_plugin_codec", _plugin_module())
    with pytest.raises(ConfigurationError, match="must be named after its codec"):
        CodecRegistry(entry_points=lambda: _eps("other")).names()
    reg = CodecRegistry(entry_points=lambda: [])
    with pytest.raises(ConfigurationError, match="registered twice"):
        reg.register(_Clone())


class _Clone:
    NAME = "voc"
    READS = WRITES = frozenset({"box"})

    def detect(self, path: Path) -> float:
        return 0.0

    def read(self, path: Path) -> tuple[Dataset, LossReport]:
        raise NotImplementedError

    def write(self, ds: Dataset, out: Path) -> LossReport:
        raise NotImplementedError


def test_not_a_codec() -> None:
    with pytest.raises(ConfigurationError, match="has no NAME"):
        CodecRegistry(entry_points=lambda: []).register(object())


def test_public_surface_is_locked() -> None:
    assert sorted(formats.__all__) == sorted(
        [
            "BUILTIN_MODULES",
            "DEFAULT_REGISTRY",
            "ENTRY_POINT_GROUP",
            "REPORT_NAME",
            "Annotation",
            "AttributeSpec",
            "BoxColumns",
            "Category",
            "Codec",
            "CodecRegistry",
            "Conversion",
            "Dataset",
            "Image",
            "LossReport",
            "codec_names",
            "convert",
            "detect_format",
            "get_codec",
            "read_dataset",
            "register_codec",
        ]
    )


def test_every_codec_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sections = set(re.findall(r"^## `([a-z0-9_]+)`", text, flags=re.M))
    assert set(formats.codec_names()) <= sections


@settings(deadline=None, max_examples=200)
@given(st.lists(st.floats(-1e7, 1e7, allow_nan=False), max_size=50), st.integers(0, 7))
def test_fixed_matches_python_formatting(values: list[float], decimals: int) -> None:
    text, ends = nf.join_lines(
        [nf.fixed(np.array(values, np.float64), decimals), b"\n"], len(values)
    )
    want = [f"{v:.{decimals}f}" for v in values]
    want = [w[1:] if w.startswith("-") and float(w) == 0 else w for w in want]
    assert text.decode().splitlines() == want
    assert ends.tolist() == list(np.cumsum([len(w) + 1 for w in want]))


def _python_fixed(values: np.ndarray, decimals: int) -> list[str]:
    want = [f"{v:.{decimals}f}" for v in values.tolist()]
    return [w[1:] if w.startswith("-") and float(w) == 0 else w for w in want]


@settings(deadline=None, max_examples=200)
@given(st.lists(st.floats(-1e7, 1e7, allow_nan=False), max_size=50), st.integers(0, 7))
def test_quoted_left_matches_python_formatting(values: list[float], decimals: int) -> None:
    v = np.array(values, np.float64)
    col = nf.quoted_left(v, decimals)
    rows = [bytes(r).rstrip(b" ").decode() for r in col]
    assert rows == [f'{w}"' for w in _python_fixed(v, decimals)]
    assert col.shape[0] == len(values)


@pytest.mark.parametrize("decimals", [0, 1, 2, 6])
def test_rounding_ties_match_python_exactly(decimals: int) -> None:
    """Doubles nearest to x.5 * 10**-d, and their neighbours, round as ``%.{d}f`` rounds."""
    m = np.random.default_rng(decimals).integers(0, 10**7, 20_000)
    ties = (m + 0.5) / 10**decimals
    v = np.concatenate([ties, np.nextafter(ties, 0), np.nextafter(ties, np.inf), -ties])
    got, _ = nf.join_lines([nf.fixed(v, decimals), b"\n"], len(v))
    assert got.decode().splitlines() == _python_fixed(v, decimals)


def test_numbers_too_large_or_not_finite_are_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        nf.fixed(np.array([1e15]), 6)
    with pytest.raises(ValueError, match="NaN"):
        nf.quoted_left(np.array([np.nan]), 2)


@settings(deadline=None, max_examples=100)
@given(st.lists(st.integers(-(10**12), 10**12), max_size=50))
def test_integers_match_str(values: list[int]) -> None:
    text, _ = nf.join_lines([nf.integers(np.array(values, np.int64)), b","], len(values))
    assert text.decode() == "".join(f"{v}," for v in values)


def _coco_boxes(n: int, seed: int) -> dict:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    images = [
        {"id": i + 1, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(20)
    ]
    anns = []
    for k in range(n):
        w, h = float(rng.uniform(1, 100)), float(rng.uniform(1, 100))
        anns.append(
            {
                "id": k + 1,
                "image_id": int(rng.integers(1, 21)),
                "category_id": int(rng.integers(1, 4)),
                "bbox": [
                    round(float(rng.uniform(0, 640 - w)), 3),
                    round(float(rng.uniform(0, 480 - h)), 3),
                    round(w, 3),
                    round(h, 3),
                ],
                "area": w * h,
                "iscrowd": int(rng.random() < 0.1),
                "segmentation": [],
            }
        )
    anns[n // 2] = {**anns[n // 2], "segmentation": [[1, 1, 30, 1, 30, 20]]}
    cats = [{"id": i, "name": f"c{i}"} for i in range(1, 4)]
    return {"images": images, "annotations": anns, "categories": cats}


def test_chunked_fast_reader_equals_whole_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _coco_boxes(3000, 1)
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    whole, _ = get_codec("coco").read(p)
    assert p.stat().st_size < CHUNKED_ABOVE
    from labelproof.formats import _coco_read, _json_stream

    monkeypatch.setattr(_coco_read, "CHUNKED_ABOVE", 0)
    real = _json_stream.split_array
    monkeypatch.setattr(
        _json_stream,
        "split_array",
        lambda raw, key, chunk_bytes=0, **kw: real(raw, key, 4096, **kw),
    )
    chunked, report = get_codec("coco").read(p)
    for field in ("image_id", "label", "ann_id", "crowd"):
        np.testing.assert_array_equal(getattr(whole.boxes, field), getattr(chunked.boxes, field))
    np.testing.assert_array_equal(whole.boxes.xywh, chunked.boxes.xywh)
    assert len(chunked.boxes) == 2999 and len(chunked.annotations) == 1
    assert chunked.annotations[0].type == "polygon"
    want = [a["bbox"] for a in doc["annotations"] if not a["segmentation"]]
    assert chunked.boxes.xywh.tolist() == want
    assert report.by_type == {"box": 2999, "polygon": 1}


def test_chunked_reader_with_annotations_before_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _coco_boxes(2000, 4)
    doc = {"annotations": doc["annotations"], "categories": doc["categories"], **doc}
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    assert p.read_bytes().startswith(b'{"annotations":[')
    whole, _ = get_codec("coco").read(p)
    from labelproof.formats import _coco_read, _json_stream

    monkeypatch.setattr(_coco_read, "CHUNKED_ABOVE", 0)
    spans: list[int] = []
    real = _json_stream.split_array

    def small_chunks(raw: bytes, key: str, chunk_bytes: int = 0, **kw: object) -> object:
        out = real(raw, key, 8192, **kw)  # type: ignore[arg-type]
        spans.append(len(out[1]))
        return out

    monkeypatch.setattr(_json_stream, "split_array", small_chunks)
    chunked, _ = get_codec("coco").read(p)
    assert spans and spans[0] > 10  # really read in chunks
    np.testing.assert_array_equal(whole.boxes.xywh, chunked.boxes.xywh)
    np.testing.assert_array_equal(whole.boxes.ann_id, chunked.boxes.ann_id)
    assert [im.id for im in chunked.images] == list(range(1, 21))


@pytest.mark.parametrize("batch", [250_000, 7])
def test_fast_yolo_lines_equal_slow_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    from labelproof.formats import _yolo_write

    monkeypatch.setattr(_yolo_write, "ROWS_PER_BATCH", batch)
    doc = _coco_boxes(500, 2)
    doc["annotations"] = [a for a in doc["annotations"] if not a["segmentation"]]
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    ds, _ = get_codec("coco").read(p)
    assert len(ds.boxes) == 499
    fast = tmp_path / "fast"
    fast.mkdir()
    get_codec("yolo").write(ds, fast)
    ds.materialize_boxes()
    slow = tmp_path / "slow"
    slow.mkdir()
    get_codec("yolo").write(ds, slow)
    files = sorted((fast / "labels" / "default").iterdir())
    assert len(files) == len({a["image_id"] for a in doc["annotations"]})
    for f in files:
        assert f.read_text() == (slow / "labels" / "default" / f.name).read_text()


@pytest.mark.parametrize("batch", [100_000, 7])
def test_fast_cvat_boxes_equal_slow_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    from labelproof.formats import _cvat_write

    monkeypatch.setattr(_cvat_write._BoxLines, "ROWS_PER_BATCH", batch)
    doc = _coco_boxes(300, 3)
    doc["annotations"] = [a for a in doc["annotations"] if not a["segmentation"]]
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    ds, _ = get_codec("coco").read(p)
    fast_dir = tmp_path / "fast"
    fast_dir.mkdir()
    get_codec("cvat").write(ds, fast_dir)
    fast_ds, _ = get_codec("cvat").read(fast_dir)
    ds.materialize_boxes()

    def key(d: Dataset) -> list[tuple[int, str, float, float, float, float]]:
        names = {c.id: c.name for c in d.categories}
        return sorted((a.image_id, names[a.label], *a.geometry.values()) for a in d.annotations)

    got, want = key(fast_ds), key(ds)
    assert len(got) == len(want) == 299
    slow_dir = tmp_path / "slow"
    slow_dir.mkdir()
    get_codec("cvat").write(ds, slow_dir)
    # the fast rows are padded with spaces between attributes: same elements, same values
    import xml.etree.ElementTree as ET

    def boxes(folder: Path) -> list[dict[str, str]]:
        root = ET.parse(folder / "annotations.xml").getroot()
        return [b.attrib for b in root.iter("box")]

    assert boxes(fast_dir) == boxes(slow_dir)
    assert [g[:2] for g in got] == [w[:2] for w in want]
    err = np.abs(np.array([g[2:] for g in got]) - np.array([w[2:] for w in want]))
    assert err.max() <= 0.01 + 1e-9  # 2 decimals, as CVAT writes them


@pytest.mark.parametrize("codec_name", ["yolo", "cvat"])
def test_columnar_box_of_a_missing_image_is_reported(tmp_path: Path, codec_name: str) -> None:
    doc = _coco_boxes(40, 5)
    doc["annotations"] = [a for a in doc["annotations"] if not a["segmentation"]]
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    ds, _ = get_codec("coco").read(p)
    gone = ds.images.pop(0).id
    lost = int((ds.boxes.image_id == gone).sum())
    assert lost > 0
    out = tmp_path / "out"
    out.mkdir()
    report = get_codec(codec_name).write(ds, out)
    assert report.dropped["box of an image not in the dataset"] == lost
    assert report.annotations == len(ds.boxes) - lost
    back, _ = get_codec(codec_name).read(out)
    assert len(back) == len(ds.boxes) - lost


@settings(deadline=None, max_examples=200)
@given(
    st.lists(st.floats(0, 99_999.99, allow_nan=False), min_size=1, max_size=60),
    st.integers(1, 6),
)
def test_word_formatting_matches_python(values: list[float], decimals: int) -> None:
    """The 64-bit word path (non-negative values whose text fits 8 bytes) gives exactly
    ``%.{d}f``, in both the left-aligned quoted and the right-aligned NUL-padded forms."""
    v = np.array(values, np.float64)
    v = v[np.round(v * 10**decimals) < 10**7]
    if not v.size:
        return
    k, _ = nf._rounded(v, decimals)
    assert nf._quoted_words(k, decimals) is not None  # the path under test
    want = [f"{x:.{decimals}f}" for x in v.tolist()]
    col = nf.quoted_left(v, decimals)
    assert [bytes(r).rstrip(b" ").decode() for r in col] == [w + '"' for w in want]
    assert col.shape[1] == max(map(len, want)) + 1
    right = nf.fixed(v, decimals)
    assert [bytes(r).lstrip(b"\0").decode() for r in right] == want
    assert right.shape[1] == max(map(len, want))


def test_coco_detected_when_the_images_array_fills_the_head(tmp_path: Path) -> None:
    """A big COCO file lists its images first (COCO's own instances_train2017.json):
    "annotations" and "categories" lie beyond the head that detection reads."""
    from labelproof.formats import detect_format

    images = [
        {"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in range(1, 3001)
    ]
    doc = {"info": {}, "licenses": [], "images": images, "annotations": [], "categories": []}
    (tmp_path / "annotations").mkdir()
    f = tmp_path / "annotations" / "instances_train.json"
    f.write_bytes(orjson.dumps(doc))
    assert f.read_bytes().find(b'"annotations"') > 1 << 16
    assert detect_format(tmp_path)[0] == ("coco", 0.95)
    assert detect_format(f)[0] == ("coco", 0.95)


def _read_in_small_chunks(
    p: Path, monkeypatch: pytest.MonkeyPatch, chunk: int = 4096, batch: int = 100
) -> tuple[Dataset, LossReport]:
    from labelproof.formats import _coco_read

    monkeypatch.setattr(_coco_read, "CHUNKED_ABOVE", 0)
    monkeypatch.setattr(_coco_read, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(_coco_read, "BOXES_PER_BATCH", batch)
    return get_codec("coco").read(p)


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("category_id", 99, "annotations[2345].category_id: unknown category 99"),
        ("image_id", 999, "annotations[2345].image_id: unknown image id 999"),
        ("image_id", 2.5, "annotations[2345].image_id: must be an integer, got 2.5"),
        ("id", 7.25, "annotations[2345].id: must be an integer, got 7.25"),
        ("iscrowd", 0.5, "annotations[2345].iscrowd: must be an integer, got 0.5"),
        ("bbox", [630.0, 10.0, 20.0, 5.0], "annotations[2345].bbox: [630.0, 10.0, 20.0, 5.0]"),
        ("bbox", [10.0, 10.0, 0.0, 5.0], "annotations[2345].bbox: w and h must be > 0"),
    ],
)
def test_chunked_read_names_the_bad_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: object, message: str
) -> None:
    """Fast-path rows are checked in batches of several chunks (and a polygon record sends
    one chunk through orjson): an error still names the record's index in the file."""
    from labelproof.errors import InvalidDataset

    doc = _coco_boxes(3000, 5)
    doc["annotations"][2345][key] = value
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    with pytest.raises(InvalidDataset, match=re.escape(message)):
        _read_in_small_chunks(p, monkeypatch)


def test_chunked_read_store_overflow_and_clipping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The columns reserved at the first chunk's density overflow when later records are
    shorter (the rest goes to separate blocks); a box 0.5 px outside is clipped in place.
    Both equal the whole parse."""
    doc = _coco_boxes(3000, 6)
    anns = doc["annotations"]
    for a in anns[:300]:  # long first records: a low density estimate
        a["bbox"] = [round(v, 3) + 0.000123 for v in a["bbox"]]
        a["area"] = 123456.123456789
    for a in anns[300:]:
        a.pop("area")
    anns[2000]["bbox"] = [-0.5, 10.0, 20.0, 5.0]
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    whole, whole_report = get_codec("coco").read(p)
    chunked, report = _read_in_small_chunks(p, monkeypatch, chunk=2048, batch=50)
    for field in ("image_id", "label", "ann_id", "crowd"):
        np.testing.assert_array_equal(getattr(whole.boxes, field), getattr(chunked.boxes, field))
    np.testing.assert_array_equal(whole.boxes.xywh, chunked.boxes.xywh)
    assert len(chunked.boxes) == 2999
    row = int(np.flatnonzero(chunked.boxes.ann_id == anns[2000]["id"])[0])
    assert chunked.boxes.xywh[row].tolist() == [0.0, 10.0, 19.5, 5.0]
    assert report.approximated["shape clipped to the image"] == 1
    assert report.by_label == whole_report.by_label


def test_clipping_one_box_leaves_the_others_bit_for_bit(tmp_path: Path) -> None:
    """Clipping recomputes w and h as (x + w) - x, which is not always w: only the boxes
    sticking out are recomputed (all of them were, 54.278123 became 54.27812300000002)."""
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "categories": [{"id": 1, "name": "c"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [219.351123, 0.2, 54.278123, 3]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [-0.5, 10.0, 20.0, 5.0]},
        ],
    }
    p = tmp_path / "c.json"
    p.write_bytes(orjson.dumps(doc))
    ds, report = get_codec("coco").read(p)
    assert ds.boxes.xywh.tolist() == [[219.351123, 0.2, 54.278123, 3.0], [0.0, 10.0, 19.5, 5.0]]
    assert report.approximated["shape clipped to the image"] == 1
