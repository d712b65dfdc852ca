"""The registry of annotation types: one module per type, one way to register.

Each type (``tag``, ``box``, ``rotated_box``, ``polygon``, ``polyline``, ``mask``,
``keypoints``, ``cuboid``) validates its geometry into a canonical form, measures it
(``bounds``, ``area``), serialises it (``to_json``/``from_json``) and converts it
(``to_polygon``, ``to_mask``). The geometry JSON of each type is documented in
``docs/annotation-types.md``. Third-party types register through the entry-point group
``labelproof.annotation_types`` or :func:`register_type`.
"""

from __future__ import annotations

from typing import Any

from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton
from labelproof.annotypes._checks import MAX_VERTICES
from labelproof.annotypes._registry import (
    BUILTIN_MODULES,
    DEFAULT_REGISTRY,
    ENTRY_POINT_GROUP,
    TypeRegistry,
)


def get_type(name: str) -> AnnotationType:
    """The annotation type called ``name``; InvalidInput listing the known ones otherwise."""
    return DEFAULT_REGISTRY.get(name)


def type_names() -> list[str]:
    """Names of every registered annotation type, sorted."""
    return DEFAULT_REGISTRY.names()


def register_type(t: AnnotationType) -> None:
    """Register a type (plugins); ConfigurationError on a bad or duplicate name."""
    DEFAULT_REGISTRY.register(t)


def validate(
    type_name: str,
    geometry: Any,
    *,
    image: ImageSize | None = None,
    skeleton: Skeleton | None = None,
) -> dict[str, Any]:
    """Validate ``geometry`` as ``type_name`` and return its canonical form."""
    return get_type(type_name).validate(geometry, image=image, skeleton=skeleton)


__all__ = [
    "BUILTIN_MODULES",
    "ENTRY_POINT_GROUP",
    "MAX_VERTICES",
    "AnnotationType",
    "ImageSize",
    "Skeleton",
    "TypeRegistry",
    "get_type",
    "register_type",
    "type_names",
    "validate",
]
