"""The columnar box writers (YOLO label files, CVAT ``<box>`` rows): names and text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.errors import InvalidDataset
from labelproof.formats import get_codec
from labelproof.formats.model import BoxColumns, Category, Dataset, Image


def _dataset(names: list[str]) -> Dataset:
    ds = Dataset(name="t")
    ds.categories = [Category(3, "cat"), Category(12, "dog")]
    ds.images = [Image(i + 1, n, 640, 480, "train", None) for i, n in enumerate(names)]
    k = len(names)
    ds.boxes = BoxColumns(
        np.arange(1, k + 1, dtype=np.int64),
        np.array([3, 12] * k, np.int64)[:k],
        np.tile(np.array([[10.0, 20.0, 64.0, 48.0]]), (k, 1)),
        np.arange(k, dtype=np.int64),
        np.full(k, np.nan),
        np.zeros(k, bool),
    )
    return ds


def test_yolo_label_file_names(tmp_path: Path) -> None:
    names = ["a.jpg", "x.y.png", "noext", ".hidden.jpg", "sub/dir/b.jpeg", "back\\slash.jpg"]
    get_codec("yolo").write(_dataset(names), tmp_path)
    labels = tmp_path / "labels" / "train"
    got = sorted(str(p.relative_to(labels)) for p in labels.rglob("*.txt"))
    want = ["a.txt", "x.y.txt", "noext.txt", ".hidden.txt", "sub/dir/b.txt", "back/slash.txt"]
    assert got == sorted(want)
    assert (labels / "a.txt").read_text() == "0 0.065625 0.091667 0.100000 0.100000\n"
    assert (labels / "x.y.txt").read_text() == "1 0.065625 0.091667 0.100000 0.100000\n"


@pytest.mark.parametrize("bad", ["../up.jpg", "/abs.jpg", "C:/x.jpg", ".."])
def test_yolo_refuses_names_leaving_the_folder(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidDataset, match="relative path"):
        get_codec("yolo").write(_dataset(["ok.jpg", bad]), tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab&<>\"\n\t\r' é", max_size=20))
def test_cvat_escape_equals_saxutils(text: str) -> None:
    from xml.sax.saxutils import escape as sax_escape

    from labelproof.formats._cvat_write import _ATTR, escape, q

    assert escape(text) == sax_escape(text)
    assert q(text) == sax_escape(text, _ATTR)


def test_cvat_image_names_are_escaped_only_when_needed(tmp_path: Path) -> None:
    from defusedxml import ElementTree

    names = ["plain.jpg", 'a&b "c" <d>.jpg']
    for ds_names in (names[:1], names):
        out = tmp_path / str(len(ds_names))
        out.mkdir()
        get_codec("cvat").write(_dataset(ds_names), out)
        root = ElementTree.parse(out / "annotations.xml").getroot()
        assert [im.get("name") for im in root.iter("image")] == ds_names
        assert [len(im.findall("box")) for im in root.iter("image")] == [1] * len(ds_names)
