"""Every registered type: a valid example that round-trips, and a documented section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import labelproof.annotypes as annotypes
from labelproof.annotypes import AnnotationType, ImageSize, get_type, type_names, validate
from labelproof.errors import InvalidInput

DOC = Path(__file__).resolve().parents[2] / "docs" / "annotation-types.md"
BUILTINS = ["box", "cuboid", "keypoints", "mask", "polygon", "polyline", "rotated_box", "tag"]


def _doc_sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## +(\S+)[ \t]*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _example(t: AnnotationType) -> dict[str, Any]:
    return t.validate(t.example(), skeleton=t.example_skeleton)


def test_builtins_are_registered() -> None:
    assert type_names() == BUILTINS
    for name in BUILTINS:
        t = get_type(name)
        assert t.name == name
        assert t.title
        assert t.needs_skeleton is (name == "keypoints")


def test_public_surface_is_locked() -> None:
    assert sorted(annotypes.__all__) == sorted(
        [
            "AnnotationType",
            "BUILTIN_MODULES",
            "ENTRY_POINT_GROUP",
            "ImageSize",
            "MAX_VERTICES",
            "Skeleton",
            "TypeRegistry",
            "get_type",
            "register_type",
            "type_names",
            "validate",
        ]
    )


@pytest.mark.parametrize("name", type_names())
def test_example_is_canonical_and_round_trips(name: str) -> None:
    t = get_type(name)
    example = t.example()
    canonical = _example(t)
    assert canonical == example  # examples are written in canonical form
    assert t.validate(canonical, skeleton=t.example_skeleton) == canonical  # idempotent
    text = t.to_json(canonical)
    assert " " not in text
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert t.from_json(text) == canonical
    assert t.from_json(text.encode()) == canonical
    assert validate(name, canonical, skeleton=t.example_skeleton) == canonical


@pytest.mark.parametrize("name", type_names())
def test_example_measures(name: str) -> None:
    t = get_type(name)
    g = _example(t)
    area = t.area(g)
    assert area >= 0.0
    b = t.bounds(g)
    if b is not None:
        assert b[0] <= b[2] and b[1] <= b[3]
    poly = t.to_polygon(g)
    if poly is not None:
        assert get_type("polygon").validate(poly) == poly
        assert get_type("polygon").area(poly) == pytest.approx(area, rel=1e-9)
        assert get_type("polygon").bounds(poly) == pytest.approx(b)
    image = ImageSize(5, 4) if name == "mask" else ImageSize(320, 240)
    mask = t.to_mask(g, image)
    if mask is not None:
        assert mask["rle"]["size"] == [image.height, image.width]
        assert get_type("mask").validate(mask, image=image) == mask


@pytest.mark.parametrize("name", type_names())
def test_type_is_documented_with_a_valid_example(name: str) -> None:
    sections = _doc_sections()
    assert name in sections, f"docs/annotation-types.md has no '## {name}' section"
    blocks = re.findall(r"```json\n(.*?)```", sections[name], flags=re.DOTALL)
    assert blocks, f"section {name!r} has no ```json example"
    t = get_type(name)
    doc_example = json.loads(blocks[-1])
    assert t.validate(doc_example, skeleton=t.example_skeleton) == doc_example
    assert doc_example == t.example()


def test_unknown_type_names_it_and_lists_known() -> None:
    with pytest.raises(InvalidInput) as info:
        get_type("ellipse")
    assert info.value.field == "type"
    assert "'ellipse'" in info.value.message
    assert "box, cuboid, keypoints, mask, polygon, polyline, rotated_box, tag" in str(info.value)


@pytest.mark.parametrize(
    ("name", "geometry", "canonical"),
    [
        ("box", {"x": 1, "y": -0.0, "h": 2, "w": 3}, {"x": 1.0, "y": 0.0, "w": 3.0, "h": 2.0}),
        (
            "rotated_box",
            {"cx": 0, "cy": 0, "w": 1, "h": 2, "angle": 540},
            {"cx": 0.0, "cy": 0.0, "w": 1.0, "h": 2.0, "angle": -180.0},
        ),
        (
            "rotated_box",
            {"cx": 0, "cy": 0, "w": 1, "h": 2, "angle": -190.5},
            {"cx": 0.0, "cy": 0.0, "w": 1.0, "h": 2.0, "angle": 169.5},
        ),
        (  # closing point dropped, consecutive duplicate dropped, reoriented, holes added
            "polygon",
            {"points": [[0, 0], [0, 4], [0, 4], [4, 4], [4, 0], [0, 0]]},
            {"points": [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]], "holes": []},
        ),
        (  # hole given positive becomes negative
            "polygon",
            {
                "points": [[0, 0], [4, 0], [4, 4], [0, 4]],
                "holes": [[[1, 1], [2, 1], [2, 2], [1, 2]]],
            },
            {
                "points": [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]],
                "holes": [[[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]],
            },
        ),
        (
            "polyline",
            {"points": [[0, 0], [0, 0], [3, 4], (3, 4), [0, 0]]},
            {"points": [[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]]},
        ),
        (
            "keypoints",
            {"points": [[5, 6, 2], [99, 99, 0], [1.5, 2, 1]]},
            {"points": [[5.0, 6.0, 2], [0.0, 0.0, 0], [1.5, 2.0, 1]]},
        ),
        (
            "mask",
            {"rle": {"size": [4, 5], "counts": [5, 0, 0, 2, 2, 2, 9]}},
            {"rle": {"size": [4, 5], "counts": "52207"}},
        ),
        (
            "mask",
            {"rle": {"size": [2, 2], "counts": b"04"}},
            {"rle": {"size": [2, 2], "counts": "04"}},
        ),
        (
            "cuboid",
            {"center": [0, 0, 0], "size": [1, 1, 1], "rotation": [7.0, -4.0, 3.5]},
            {
                "center": [0.0, 0.0, 0.0],
                "size": [1.0, 1.0, 1.0],
                "rotation": pytest.approx(
                    [7.0 - 6.283185307179586, -4.0 + 6.283185307179586, 3.5 - 6.283185307179586]
                ),
            },
        ),
        ("tag", {}, {}),
    ],
)
def test_canonical_forms(name: str, geometry: Any, canonical: dict[str, Any]) -> None:
    out = validate(name, geometry)
    assert out == canonical
    assert list(out) == list(canonical)  # canonical key order
    assert validate(name, out) == out
