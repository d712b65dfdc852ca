"""``_json_stream.split_array``: chunks of the annotations array, never a wrong split."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.formats import _json_stream
from labelproof.formats._json_stream import NotChunkable, parse_chunk, split_array


def _ann(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": i, "image_id": 1 + i % 3, "category_id": 1, "bbox": [i, 2.5, 3, 4], **extra}


IMAGES = [{"id": i, "file_name": f"{i}.jpg", "width": 9, "height": 9} for i in (1, 2, 3)]
CATS = [{"id": 1, "name": "a", "keypoints": ["x", "y"], "skeleton": [[1, 2]]}]


def _split(doc: dict[str, Any], chunk_bytes: int, indent: bool = False) -> tuple[Any, list[Any]]:
    raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    head, spans = split_array(raw, "annotations", chunk_bytes)
    elements = [e for a, b in spans for e in parse_chunk(raw[a:b])]
    return head, elements


@pytest.mark.parametrize("indent", [False, True])
@pytest.mark.parametrize(
    "order",
    [
        ("info", "images", "annotations", "categories"),  # the official COCO order
        ("annotations", "categories", "images"),
        ("images", "categories", "annotations"),
        ("categories", "annotations", "images", "info"),
    ],
)
@pytest.mark.parametrize("n,chunk_bytes", [(0, 64), (1, 64), (2, 64), (200, 300), (200, 1 << 20)])
def test_split_gives_every_element_once(
    order: tuple[str, ...], n: int, chunk_bytes: int, indent: bool
) -> None:
    parts = {
        "info": {"description": "x"},
        "images": IMAGES,
        "annotations": [_ann(i) for i in range(n)],
        "categories": CATS,
    }
    doc = {k: parts[k] for k in order}
    head, elements = _split(doc, chunk_bytes, indent)
    assert elements == doc["annotations"]
    assert head == {**doc, "annotations": []}


def test_the_end_is_found_from_the_tail_without_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> object:
        raise AssertionError("scanned the array")

    monkeypatch.setattr(_json_stream, "_split_scanning", fail)
    doc = {"images": IMAGES, "annotations": [_ann(i) for i in range(50)], "categories": CATS}
    assert _split(doc, 200)[1] == doc["annotations"]


def test_an_unrecognised_tail_falls_back_to_scanning() -> None:
    # the last element has no image_id: the tail search gives up, the scan finds the end
    anns = [_ann(i) for i in range(30)] + [{"id": 99, "bbox": [1, 1, 1, 1]}]
    doc = {"images": IMAGES, "annotations": anns, "categories": CATS}
    assert _split(doc, 100)[1] == anns


def test_a_second_array_of_records_after_the_annotations_is_not_mistaken() -> None:
    anns = [_ann(i) for i in range(20)]
    doc = {"images": IMAGES, "annotations": anns, "predictions": [_ann(50), _ann(51)]}
    try:
        head, elements = _split(doc, 100)
    except NotChunkable:
        return  # parsing the whole file instead is also right
    assert elements == anns and head["predictions"] == doc["predictions"]


@pytest.mark.parametrize(
    "doc",
    [
        # the first "annotations" key is nested: refused, not read as the top-level one
        {"info": {"annotations": [_ann(1), _ann(2)]}, "images": IMAGES, "annotations": []},
        {"info": {"annotations": [_ann(1)]}, "images": IMAGES, "annotations": [_ann(3)]},
        {"images": IMAGES, "annotations": [_ann(1)], "x": {"annotations": [_ann(2)]}},
    ],
)
def test_nested_or_repeated_keys_are_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(NotChunkable):
        _split(doc, 64)


def test_no_array_and_non_object_elements() -> None:
    with pytest.raises(NotChunkable):
        split_array(b'{"images": []}', "annotations")
    with pytest.raises(NotChunkable):
        split_array(b'{"annotations": [1, 2]}', "annotations")
    assert split_array(b'{"a": "\\"annotations\\": [", "annotations": []}', "annotations") == (
        {"a": '"annotations": [', "annotations": []},
        [],
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.integers(0, 10**6), "image_id": st.integers(1, 3)},
            optional={
                "note": st.text(alphabet='{}[],:" \\ab', max_size=8),
                "segmentation": st.lists(st.lists(st.integers(0, 9), max_size=4), max_size=2),
            },
        ),
        max_size=25,
    ),
    st.integers(16, 400),
    st.booleans(),
)
def test_split_never_loses_or_invents_elements(
    anns: list[dict[str, Any]], chunk_bytes: int, indent: bool
) -> None:
    doc = {"images": IMAGES, "annotations": anns, "categories": CATS}
    try:
        head, elements = _split(doc, chunk_bytes, indent)
    except NotChunkable:
        return
    assert elements == anns
    assert head == {**doc, "annotations": []}
