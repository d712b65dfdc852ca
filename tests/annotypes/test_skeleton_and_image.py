"""Skeleton and ImageSize value types."""

from __future__ import annotations

from typing import Any

import pytest

from labelproof.annotypes import ImageSize, Skeleton
from labelproof.errors import InvalidInput


def test_skeleton_round_trips() -> None:
    obj = {"keypoints": ["nose", "l_eye", "r_eye"], "edges": [[0, 1], [0, 2]]}
    sk = Skeleton.from_json(obj)
    assert sk == Skeleton(keypoints=("nose", "l_eye", "r_eye"), edges=((0, 1), (0, 2)))
    assert sk.to_json() == obj
    named = Skeleton.from_json({**obj, "name": "face"})
    assert named.to_json() == {**obj, "name": "face"}
    assert named.describe() == "skeleton 'face'"
    assert Skeleton.from_json({"keypoints": ["a"]}).edges == ()


@pytest.mark.parametrize(
    ("obj", "field", "fragment"),
    [
        ([], "skeleton", "must be a JSON object"),
        ({"keypoints": ["a"], "bones": []}, "skeleton", "unknown key(s) 'bones'"),
        ({"keypoints": "a,b"}, "skeleton.keypoints", "must be a JSON array"),
        ({"keypoints": []}, "skeleton.keypoints", "at least one keypoint"),
        ({"keypoints": ["a", ""]}, "skeleton.keypoints[1]", "non-empty string, got ''"),
        ({"keypoints": ["a", 3]}, "skeleton.keypoints[1]", "non-empty string, got 3"),
        ({"keypoints": ["a", "b", "a"]}, "skeleton.keypoints[2]", "duplicate keypoint name 'a'"),
        ({"keypoints": ["a", "b"], "edges": [[0, 2]]}, "skeleton.edges[0]", "index 2 is outside"),
        ({"keypoints": ["a", "b"], "edges": [[-1, 0]]}, "skeleton.edges[0]", "index -1"),
        (
            {"keypoints": ["a", "b"], "edges": [[1, 1]]},
            "skeleton.edges[0]",
            "self-loop on keypoint 1",
        ),
        ({"keypoints": ["a", "b"], "edges": [[0, True]]}, "skeleton.edges[0]", "pair of integers"),
        ({"keypoints": ["a", "b"], "edges": [[0, 1, 1]]}, "skeleton.edges[0]", "pair of integers"),
        ({"keypoints": ["a"], "name": 5}, "skeleton.name", "must be a string"),
    ],
)
def test_bad_skeletons(obj: Any, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Skeleton.from_json(obj)
    assert info.value.field == field
    assert fragment.replace("pair of integers", "pair of integers") in info.value.message


def test_skeleton_constructor_validates_too() -> None:
    with pytest.raises(InvalidInput, match="self-loop"):
        Skeleton(keypoints=("a", "b"), edges=((0, 0),))


@pytest.mark.parametrize(("w", "h"), [(0, 10), (10, -1), (True, 10), (10.0, 10)])
def test_bad_image_sizes(w: Any, h: Any) -> None:
    with pytest.raises(InvalidInput, match=r"image\.(width|height): must be an integer > 0"):
        ImageSize(w, h)
