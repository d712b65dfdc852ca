"""The value types of the registry: image sizes, skeletons, and the AnnotationType base."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from labelproof.errors import InvalidGeometry, InvalidInput


@dataclass(frozen=True)
class ImageSize:
    """Full-resolution image size in px."""

    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidInput(
                    f"image.{name}: must be an integer > 0, got {value!r}", field=f"image.{name}"
                )


@dataclass(frozen=True)
class Skeleton:
    """A keypoint skeleton: named keypoints and edges between them (0-based indices).

    ``name`` is optional (usually the class label) and only used in error messages.
    """

    keypoints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    name: str = ""

    def __post_init__(self) -> None:
        _check_skeleton(self.keypoints, self.edges, "skeleton")

    @classmethod
    def from_json(cls, obj: Any, *, field: str = "skeleton") -> Skeleton:
        """Build from ``{"keypoints": [str, ...], "edges": [[i, j], ...]}`` (``name`` optional).

        Raises InvalidInput naming the field: duplicate or empty names, edges out of range,
        self-loops, wrong types.
        """
        if not isinstance(obj, Mapping):
            raise InvalidInput(f"{field}: must be a JSON object", field=field)
        unknown = sorted(str(k) for k in obj if k not in ("keypoints", "edges", "name"))
        if unknown:
            raise InvalidInput(
                f"{field}: unknown key(s) {', '.join(map(repr, unknown))}; "
                "allowed: edges, keypoints, name",
                field=field,
            )
        kps = obj.get("keypoints")
        if not isinstance(kps, list | tuple):
            raise InvalidInput(
                f"{field}.keypoints: must be a JSON array of names", field=f"{field}.keypoints"
            )
        raw_edges = obj.get("edges", [])
        if not isinstance(raw_edges, list | tuple):
            raise InvalidInput(
                f"{field}.edges: must be a JSON array of [i, j] pairs", field=f"{field}.edges"
            )
        edges: list[tuple[int, int]] = []
        for i, e in enumerate(raw_edges):
            ok = (
                isinstance(e, list | tuple)
                and len(e) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in e)
            )
            if not ok:
                path = f"{field}.edges[{i}]"
                raise InvalidInput(f"{path}: must be a pair of integers, got {e!r}", field=path)
            edges.append((int(e[0]), int(e[1])))
        name = obj.get("name", "")
        if not isinstance(name, str):
            raise InvalidInput(f"{field}.name: must be a string", field=f"{field}.name")
        _check_skeleton(tuple(kps), tuple(edges), field)
        return cls(keypoints=tuple(kps), edges=tuple(edges), name=name)

    def to_json(self) -> dict[str, Any]:
        """The JSON object form; ``name`` only when set."""
        out: dict[str, Any] = {
            "keypoints": list(self.keypoints),
            "edges": [list(e) for e in self.edges],
        }
        if self.name:
            out["name"] = self.name
        return out

    def describe(self) -> str:
        """``skeleton 'person'`` or ``skeleton`` when unnamed, for messages."""
        return f"skeleton {self.name!r}" if self.name else "skeleton"


def _check_skeleton(
    keypoints: tuple[Any, ...], edges: tuple[tuple[int, int], ...], field: str
) -> None:
    if not keypoints:
        path = f"{field}.keypoints"
        raise InvalidInput(f"{path}: must name at least one keypoint", field=path)
    seen: dict[str, int] = {}
    for i, kp in enumerate(keypoints):
        path = f"{field}.keypoints[{i}]"
        if not isinstance(kp, str) or not kp.strip():
            raise InvalidInput(f"{path}: must be a non-empty string, got {kp!r}", field=path)
        if kp in seen:
            raise InvalidInput(
                f"{path}: duplicate keypoint name {kp!r} (also at index {seen[kp]})", field=path
            )
        seen[kp] = i
    n = len(keypoints)
    for i, (a, b) in enumerate(edges):
        path = f"{field}.edges[{i}]"
        for v in (a, b):
            if not 0 <= v < n:
                raise InvalidInput(
                    f"{path}: index {v} is outside the {n} keypoints (0..{n - 1})", field=path
                )
        if a == b:
            raise InvalidInput(f"{path}: self-loop on keypoint {a}", field=path)


class AnnotationType(ABC):
    """One annotation type: validation, canonical form, measures and conversions.

    Subclasses set ``name``, ``title`` and ``needs_skeleton`` and implement ``validate``,
    ``bounds``, ``area`` and ``example``. ``bounds``, ``area``, ``to_json``, ``to_polygon``
    and ``to_mask`` accept any valid geometry (they canonicalise it first) and raise
    InvalidGeometry on an invalid one.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    needs_skeleton: ClassVar[bool] = False

    @abstractmethod
    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        """Check ``geometry`` and return its canonical form (floats, canonical key order).

        Raises InvalidGeometry naming the field path (prefixed by ``field``) and the value.
        With ``image``, geometry outside [0, width] x [0, height] is an error.
        """

    @abstractmethod
    def bounds(self, geometry: Any) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) in image px, or None when the shape has no image extent."""

    @abstractmethod
    def area(self, geometry: Any) -> float:
        """Area in px^2 (0.0 for shapes without area)."""

    @abstractmethod
    def example(self) -> dict[str, Any]:
        """A small valid geometry (canonical), for docs and tests."""

    example_skeleton: ClassVar[Skeleton | None] = None
    """The skeleton ``example()`` needs, for types with ``needs_skeleton``."""

    def to_json(self, geometry: Any) -> str:
        """Canonical JSON text: sorted keys, no spaces, floats that round-trip exactly."""
        from labelproof.annotypes._checks import canonical_json

        return canonical_json(self.validate(geometry))

    def from_json(self, text: str | bytes) -> dict[str, Any]:
        """Parse JSON text and validate it (without an image or skeleton)."""
        try:
            obj = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise InvalidGeometry(f"geometry: not valid JSON ({exc})", field="geometry") from exc
        return self.validate(obj)

    def to_polygon(self, geometry: Any) -> dict[str, Any] | None:
        """The shape as canonical ``polygon`` geometry, or None when not meaningful."""
        return None

    def to_mask(self, geometry: Any, image: ImageSize) -> dict[str, Any] | None:
        """The shape rasterised as canonical ``mask`` geometry of ``image``, or None."""
        polygon = self.to_polygon(geometry)
        if polygon is None:
            return None
        from labelproof.annotypes.polygon import polygon_to_mask

        return polygon_to_mask(polygon, image)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")
