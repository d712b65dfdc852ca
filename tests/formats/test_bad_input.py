"""Hostile and broken input: precise InvalidDataset/InvalidFile errors, CLI exit 2, no
traceback, nothing left in OUT."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from labelproof.cli import app
from labelproof.errors import FileTooLarge, InvalidDataset, InvalidFile
from labelproof.formats import _io as fio
from labelproof.formats import convert, get_codec

runner = CliRunner()


def _coco(tmp: Path, anns: list[dict], cats=None, name: str = "c.json") -> Path:  # type: ignore[no-untyped-def,type-arg]
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}],
        "categories": cats if cats is not None else [{"id": 1, "name": "car"}],
        "annotations": anns,
    }
    p = tmp / name
    p.write_bytes(orjson.dumps(doc))
    return p


def _zip(tmp: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    p = tmp / "in.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return p


@pytest.mark.parametrize(
    "member", ["../evil.json", "/abs/evil.json", "a/../../evil.json", "C:/x.json"]
)
def test_zip_path_tricks_refused(member: str, tmp_path: Path) -> None:
    z = _zip(tmp_path, [(member, b"{}")])
    with pytest.raises(InvalidFile, match="refused"):
        fio.extract_zip(z, tmp_path / "x")
    assert not (tmp_path / "evil.json").exists()


def test_zip_symlink_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = _zip(tmp_path, [(info, b"/etc/passwd")])
    with pytest.raises(InvalidFile, match="symbolic link"):
        fio.extract_zip(z, tmp_path / "x")


def test_zip_bomb_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path, [("big.json", b"\0" * (20 << 20))])
    with pytest.raises(FileTooLarge, match="zip bomb"):
        fio.extract_zip(z, tmp_path / "x")


def test_zip_total_size_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fio, "MAX_UNZIPPED_BYTES", 1000)
    data = bytes(range(256)) * 8
    z = _zip(tmp_path, [("a.bin", data)])
    with pytest.raises(FileTooLarge, match="expands past"):
        fio.extract_zip(z, tmp_path / "x")


def test_zip_input_converts(tmp_path: Path) -> None:
    src = _coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}])
    z = _zip(tmp_path, [("ds/annotations/instances_train.json", src.read_bytes())])
    result = convert(z, tmp_path / "out", to="yolo")
    assert result.source_format == "coco" and result.confidence >= 0.9
    assert (tmp_path / "out" / "labels" / "train" / "a.txt").read_text() == (
        "0 0.025000 0.080000 0.030000 0.080000\n"
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotations><version>1.1</version>&lol2;</annotations>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotations><version>1.1</version><meta>&xxe;</meta></annotations>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL])
def test_xml_entities_refused(payload: bytes, tmp_path: Path) -> None:
    (tmp_path / "annotations.xml").write_bytes(payload)
    with pytest.raises(InvalidDataset, match="XML refused"):
        get_codec("cvat").read(tmp_path)


def test_malformed_xml_names_line(tmp_path: Path) -> None:
    (tmp_path / "annotations.xml").write_bytes(b"<annotations>\n<version>1.1\n</annotations>")
    with pytest.raises(InvalidDataset, match=r"annotations.xml: line 3"):
        get_codec("cvat").read(tmp_path)


def test_coco_unknown_category_names_record(tmp_path: Path) -> None:
    p = _coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 9, "bbox": [1, 2, 3, 4]}])
    with pytest.raises(InvalidDataset, match=r"annotations\[0\].category_id: unknown category 9"):
        get_codec("coco").read(p)


def test_coco_box_outside_image_names_record(tmp_path: Path) -> None:
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [90, 2, 30, 4]},
    ]
    with pytest.raises(InvalidDataset, match=r"annotations\[1\].bbox: .* outside the image 100x50"):
        get_codec("coco").read(_coco(tmp_path, anns))


def test_coco_box_slightly_outside_is_clipped_and_reported(tmp_path: Path) -> None:
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [90, 2, 10.5, 4]}]
    ds, report = get_codec("coco").read(_coco(tmp_path, anns))
    assert ds.boxes.xywh.tolist() == [[90.0, 2.0, 10.0, 4.0]]
    assert report.approximated["shape clipped to the image"] == 1


def test_coco_polygon_outside_image(tmp_path: Path) -> None:
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 500, 1, 3, 9]]}]
    with pytest.raises(InvalidDataset, match=r"segmentation\[0\]: lies outside"):
        get_codec("coco").read(_coco(tmp_path, anns))


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_bytes(b'{"images": [],\n "annotations": [,]}')
    with pytest.raises(InvalidDataset, match=r"c.json: not valid JSON: line 2"):
        get_codec("coco").read(p)


def test_file_that_says_json_but_is_xml(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_bytes(b"<annotations><version>1.1</version></annotations>")
    with pytest.raises(InvalidDataset, match="not valid JSON"):
        get_codec("coco").read(p)
    result = runner.invoke(app, ["convert", str(p), "--to", "yolo", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "no format recognised" in result.output


def test_yolo_non_utf8_and_unknown_class(tmp_path: Path) -> None:
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "data.yaml").write_text("names:\n  0: car\n")
    (tmp_path / "labelproof.images.json").write_bytes(
        orjson.dumps({"train": {"a.jpg": [10, 10, 1]}})
    )
    lab = tmp_path / "labels" / "train" / "a.txt"
    lab.write_bytes(b"0 0.5 0.5 0.1 0.1\n\xff\xfe\n")
    with pytest.raises(InvalidDataset, match=r"a.txt: line 2: not UTF-8"):
        get_codec("yolo").read(tmp_path)
    lab.write_bytes(b"0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(InvalidDataset, match=r"a.txt: line 2: class 3 is not in names"):
        get_codec("yolo").read(tmp_path)


def test_cli_bad_input_exit_2_no_traceback_nothing_written(tmp_path: Path) -> None:
    p = _coco(tmp_path, [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}])
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["convert", str(p), "--from", "coco", "--to", "cvat", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "unknown image id 7" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [q.name for q in tmp_path.iterdir()] == ["c.json"]


def test_cli_write_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}])
    from labelproof.formats import _cvat_write

    def boom(*args: object) -> None:
        raise InvalidDataset("simulated failure while writing")

    monkeypatch.setattr(_cvat_write, "_meta", boom)
    out = tmp_path / "out"
    result = runner.invoke(app, ["convert", str(p), "--to", "cvat", "--out", str(out)])
    assert result.exit_code == 2 and "simulated failure" in result.output
    assert not out.exists() and sorted(q.name for q in tmp_path.iterdir()) == ["c.json"]


def test_cli_refuses_non_empty_out(tmp_path: Path) -> None:
    p = _coco(tmp_path, [])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["convert", str(p), "--to", "voc", "--out", str(out)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert (out / "keep.txt").read_text() == "mine"


def test_cli_convert_prints_detection_and_report(tmp_path: Path) -> None:
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 20, 1, 20, 9]]},
    ]
    p = _coco(tmp_path, anns)
    out = tmp_path / "out"
    result = runner.invoke(app, ["convert", str(p), "--to", "voc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "detected coco (confidence 0.95)" in result.output
    assert "dropped: polygon: no place in VOC: 1" in result.output
    rep = orjson.loads((out / "labelproof-loss-report.json").read_bytes())
    assert rep["from"] == "coco" and rep["to"] == "voc"
    assert rep["read"]["by_type"] == {"box": 1, "polygon": 1}
    assert rep["write"]["by_type"] == {"box": 1}
    assert rep["write"]["dropped"]["polygon: no place in VOC"]["count"] == 1
    assert rep["write"]["dropped"]["polygon: no place in VOC"]["examples"] == [
        "image 1 (a.jpg), annotation 2"
    ]


def test_cli_formats_lists_codecs() -> None:
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    for name in ("coco", "yolo", "cvat", "voc", "labelstudio", "masks"):
        assert name in result.output


def test_cli_unknown_format(tmp_path: Path) -> None:
    p = _coco(tmp_path, [])
    result = runner.invoke(app, ["convert", str(p), "--to", "nope", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "unknown format 'nope'" in result.output
