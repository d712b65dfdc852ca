"""Per-type tables of bad geometry: the error names the field path and the bad value."""

from __future__ import annotations

from typing import Any

import pytest

from labelproof.annotypes import MAX_VERTICES, ImageSize, Skeleton, validate
from labelproof.errors import InvalidGeometry

NAN = float("nan")
INF = float("inf")
IMG = ImageSize(640, 480)
PERSON = Skeleton(keypoints=("a", "b", "c", "d", "e"), edges=((0, 1), (1, 2)), name="person")
SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]


def case(
    name: str,
    geometry: Any,
    field: str,
    fragment: str,
    image: ImageSize | None = None,
    skeleton: Skeleton | None = None,
) -> Any:
    return pytest.param(name, geometry, image, skeleton, field, fragment, id=f"{name}:{fragment}")


BAD = [
    # tag
    case("tag", [], "geometry", "must be a JSON object, got list"),
    case("tag", {"x": 1}, "geometry", "unknown key(s) 'x'; allowed: none"),
    # box
    case("box", {"x": 0, "y": 0, "w": -3, "h": 1}, "geometry.w", "must be > 0, got -3"),
    case("box", {"x": 0, "y": 0, "w": 3, "h": 0}, "geometry.h", "must be > 0, got 0"),
    case("box", {"x": True, "y": 0, "w": 3, "h": 1}, "geometry.x", "must be a number, got bool"),
    case("box", {"x": "1", "y": 0, "w": 3, "h": 1}, "geometry.x", "must be a number, got str"),
    case("box", {"x": 0, "y": NAN, "w": 3, "h": 1}, "geometry.y", "nan is not a finite number"),
    case("box", {"x": 0, "y": 0, "w": INF, "h": 1}, "geometry.w", "inf is not a finite number"),
    case("box", {"x": 10**400, "y": 0, "w": 1, "h": 1}, "geometry.x", "is not a finite number"),
    case("box", {"x": 0, "y": 0, "w": 3}, "geometry", "missing key(s) 'h'"),
    case(
        "box",
        {"x": 0, "y": 0, "w": 3, "h": 1, "z": 1, "a": 2},
        "geometry",
        "unknown key(s) 'a', 'z'",
    ),
    case(
        "box",
        {"x": 630, "y": 0, "w": 30, "h": 1},
        "geometry.w",
        "x + w = 660.0 is beyond the image width 640",
        image=IMG,
    ),
    case(
        "box",
        {"x": -1, "y": 0, "w": 3, "h": 1},
        "geometry.x",
        "-1.0 is outside the image width 640",
        image=IMG,
    ),
    case(
        "box",
        {"x": 0, "y": 470, "w": 3, "h": 11},
        "geometry.h",
        "y + h = 481.0 is beyond the image height 480",
        image=IMG,
    ),
    # rotated_box
    case(
        "rotated_box",
        {"cx": 0, "cy": 0, "w": 1, "h": 1},
        "geometry",
        "missing key(s) 'angle'",
    ),
    case(
        "rotated_box",
        {"cx": 0, "cy": 0, "w": 1, "h": 1, "angle": NAN},
        "geometry.angle",
        "nan is not a finite number",
    ),
    case(
        "rotated_box",
        {"cx": 5, "cy": 5, "w": 10, "h": 10, "angle": 45},
        "geometry",
        "corner 0 (5.0, -2.0710678118654755) is outside the image 640x480",
        image=IMG,
    ),
    # polygon
    case(
        "polygon",
        {"points": [[0, 0], [24, 81], [24, 0], [0, 81]]},
        "geometry.points",
        "polygon self-intersects at (12.0, 40.5)",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [NAN, 2]]},
        "geometry.points[2][0]",
        "nan is not a finite number",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [2, False]]},
        "geometry.points[2][1]",
        "must be a number, got bool False",
    ),
    case("polygon", {"points": [[0, 0], [1, 1]]}, "geometry.points", "at least 3 points, got 2"),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [0, 0], [1, 1]]},
        "geometry.points",
        "at least 3 distinct points, got 2",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [2, 2]]},
        "geometry.points",
        "zero area (its points are collinear)",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [2, 10**400]]},
        "geometry.points[2][1]",
        "is not a finite number",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [1, 1], [2, "3"]]},
        "geometry.points[2][1]",
        "must be a number, got str '3'",
    ),
    case("polygon", {"points": [[0, 0], [1, 1], [2]]}, "geometry.points[2]", "must have 2"),
    case("polygon", {"points": "0,0 1,1 2,2"}, "geometry.points", "must be a JSON array, got str"),
    case("polygon", {"pts": SQUARE}, "geometry", "unknown key(s) 'pts'"),
    case(
        "polygon",
        {"points": [[0.5, 0.5]] * (MAX_VERTICES + 1)},
        "geometry.points",
        f"has {MAX_VERTICES + 1} points, more than the limit of {MAX_VERTICES}",
    ),
    case(
        "polygon",
        {"points": [[0, 0], [700, 0], [0, 10]]},
        "geometry.points[1]",
        "(700.0, 0.0) is outside the image 640x480",
        image=IMG,
    ),
    case(
        "polygon",
        {"points": SQUARE, "holes": [[[20, 20], [30, 20], [30, 30]]]},
        "geometry.holes[0]",
        "hole is not inside the shell",
    ),
    case(
        "polygon",
        {"points": SQUARE, "holes": [[[1, 1], [3, 3], [3, 1], [1, 3]]]},
        "geometry.holes[0]",
        "hole self-intersects at (2.0, 2.0)",
    ),
    case(
        "polygon",
        {
            "points": SQUARE,
            "holes": [[[1, 1], [5, 1], [5, 5], [1, 5]], [[3, 3], [7, 3], [7, 7], [3, 7]]],
        },
        "geometry.holes",
        "holes overlap or cut the shell",
    ),
    case("polygon", {"points": SQUARE, "holes": {}}, "geometry.holes", "must be a JSON array"),
    # polyline
    case("polyline", {"points": [[0, 0]]}, "geometry.points", "at least 2 points, got 1"),
    case(
        "polyline",
        {"points": [[3, 4], [3, 4]]},
        "geometry.points",
        "at least 2 distinct points, got 1",
    ),
    case(
        "polyline",
        {"points": [[0, 0], [1, -INF]]},
        "geometry.points[1][1]",
        "-inf is not a finite number",
    ),
    case(
        "polyline",
        {"points": [[0, 0], [1, 481]]},
        "geometry.points[1]",
        "(1.0, 481.0) is outside the image 640x480",
        image=IMG,
    ),
    # mask
    case(
        "mask",
        {"rle": {"size": [640, 480], "counts": "0"}},
        "geometry.rle.size",
        "[640, 480] disagrees with the image 640x480 (expects [480, 640])",
        image=IMG,
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": "52209"}},
        "geometry.rle.counts",
        "runs cover 22 pixels but the mask 4x5 (h x w) has 20",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": "52~07"}},
        "geometry.rle.counts",
        "invalid character '~' at position 2",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": "5220h"}},
        "geometry.rle.counts",
        "truncated",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": "5K"}},
        "geometry.rle.counts",
        "run 1 has negative length -5",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": [5, -2, 17]}},
        "geometry.rle.counts",
        "run 1 has negative length -2",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": [5, 2.0, 13]}},
        "geometry.rle.counts[1]",
        "must be an integer, got float",
    ),
    case(
        "mask",
        {"rle": {"size": [4, 5], "counts": {"a": 1}}},
        "geometry.rle.counts",
        "must be a string or an array of integers, got dict",
    ),
    case(
        "mask",
        {"rle": {"size": [1, 1], "counts": [0, 0, 0, 0, 1]}},
        "geometry.rle.counts",
        "has 5 runs, too many for 1 pixels",
    ),
    case("mask", {"rle": {"size": [4], "counts": "0"}}, "geometry.rle.size", "[height, width]"),
    case(
        "mask",
        {"rle": {"size": [0, 5], "counts": ""}},
        "geometry.rle.size",
        "height and width must be > 0",
    ),
    case(
        "mask",
        {"rle": {"size": [4, True], "counts": "0"}},
        "geometry.rle.size[1]",
        "must be an integer, got bool",
    ),
    case(
        "mask",
        {"rle": {"size": [70000, 70000], "counts": "0"}},
        "geometry.rle.size",
        "more than the limit of 4294967295",
    ),
    case("mask", {"rle": {"counts": "0"}}, "geometry.rle", "missing key(s) 'size'"),
    case("mask", {"counts": "0", "size": [1, 1]}, "geometry", "unknown key(s) 'counts', 'size'"),
    # keypoints
    case(
        "keypoints",
        {"points": [[1, 1, 2]] * 7},
        "geometry.points[5]",
        "keypoint index 5 is outside the skeleton 'person' of 5 keypoints (7 points given)",
        skeleton=PERSON,
    ),
    case(
        "keypoints",
        {"points": [[1, 1, 2]] * 3},
        "geometry.points",
        "3 points given but the skeleton 'person' has 5 keypoints",
        skeleton=PERSON,
    ),
    case(
        "keypoints",
        {"points": [[1, 1, 3]]},
        "geometry.points[0][2]",
        "visibility must be 0, 1 or 2, got 3",
    ),
    case(
        "keypoints",
        {"points": [[1, 1, 2.0]]},
        "geometry.points[0][2]",
        "must be an integer, got float",
    ),
    case("keypoints", {"points": [[1, 1]]}, "geometry.points[0]", "must be [x, y, v]"),
    case("keypoints", {"points": []}, "geometry.points", "needs at least 1 point"),
    case(
        "keypoints",
        {"points": [[0, 0, 0], [650, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]},
        "geometry.points[1]",
        "keypoint ('b') (650.0, 1.0) is outside the image 640x480",
        image=IMG,
        skeleton=PERSON,
    ),
    # cuboid
    case(
        "cuboid",
        {"center": [0, 0, 0], "size": [1, -3, 1], "rotation": [0, 0, 0]},
        "geometry.size[1]",
        "must be > 0, got -3",
    ),
    case(
        "cuboid",
        {"center": [0, 0], "size": [1, 1, 1], "rotation": [0, 0, 0]},
        "geometry.center",
        "must have 3 numbers, got 2",
    ),
    case(
        "cuboid",
        {"center": [0, 0, 0], "size": [1, 1, 1], "rotation": [0, NAN, 0]},
        "geometry.rotation[1]",
        "nan is not a finite number",
    ),
    case(
        "cuboid",
        {"center": [0, 0, 0], "size": [1, 1, 1], "rotation": [0, 0, 0], "projection": [[0, 0]]},
        "geometry.projection",
        "at least 8 points, got 1",
    ),
    case(
        "cuboid",
        {
            "center": [0, 0, 0],
            "size": [1, 1, 1],
            "rotation": [0, 0, 0],
            "projection": [[0, 0]] * 7 + [[-5, 3]],
        },
        "geometry.projection[7]",
        "(-5.0, 3.0) is outside the image 640x480",
        image=IMG,
    ),
]


@pytest.mark.parametrize(("name", "geometry", "image", "skeleton", "field", "fragment"), BAD)
def test_bad_geometry(
    name: str,
    geometry: Any,
    image: ImageSize | None,
    skeleton: Skeleton | None,
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(InvalidGeometry) as info:
        validate(name, geometry, image=image, skeleton=skeleton)
    err = info.value
    assert err.field == field
    assert fragment in err.message
    assert str(err).startswith(f"{field}: ")


def test_field_prefix_is_used() -> None:
    from labelproof.annotypes import get_type

    with pytest.raises(InvalidGeometry) as info:
        get_type("box").validate({"x": 0, "y": 0, "w": 0, "h": 1}, field="annotations[3].geom")
    assert info.value.field == "annotations[3].geom.w"


def test_cuboid_is_not_image_bounded_without_projection() -> None:
    g = {"center": [-1e6, 5e6, 3], "size": [1, 1, 1], "rotation": [0, 0, 0]}
    assert validate("cuboid", g, image=IMG)["center"] == [-1e6, 5e6, 3.0]


def test_unlabelled_keypoints_are_not_image_bounded() -> None:
    g = {"points": [[-50, 9999, 0]] + [[1, 1, 2]] * 4}
    out = validate("keypoints", g, image=IMG, skeleton=PERSON)
    assert out["points"][0] == [0.0, 0.0, 0]


@pytest.mark.parametrize(
    "text", ["{", '{"x": NaN, "y": 0, "w": 1, "h": 1}', '{"x": Infinity}', "[" * 100_000]
)
def test_from_json_rejects_bad_text(text: str) -> None:
    from labelproof.annotypes import get_type

    with pytest.raises(InvalidGeometry) as info:
        get_type("box").from_json(text)
    assert info.value.field == "geometry"
    assert "not valid JSON" in info.value.message
