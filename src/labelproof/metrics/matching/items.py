"""The annotations that matching and consensus take: label, type, geometry, id, score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelproof.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotation as the metrics see it.

    Attributes:
        label: class name.
        geometry: canonical geometry of the annotation's type (docs/annotation-types.md).
        type: annotation type name; None means "the type being matched".
        id: optional identifier, carried into results.
        score: optional confidence in [0, 1] (model predictions).
    """

    label: str
    geometry: Mapping[str, Any]
    type: str | None = None
    id: str | int | None = None
    score: float | None = None


_KEYS = ("label", "geometry", "type", "id", "score")


def as_annotation(item: Any, field: str) -> Annotation:
    """An :class:`Annotation` from itself or a mapping with the same keys."""
    if isinstance(item, Annotation):
        ann = item
    elif isinstance(item, Mapping):
        unknown = sorted(str(k) for k in item if k not in _KEYS)
        if unknown:
            raise InvalidInput(
                f"{field}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                + ", ".join(_KEYS),
                field=field,
            )
        if "label" not in item or "geometry" not in item:
            missing = "label" if "label" not in item else "geometry"
            raise InvalidInput(f"{field}.{missing}: missing", field=f"{field}.{missing}")
        ann = Annotation(
            label=item["label"],
            geometry=item["geometry"],
            type=item.get("type"),
            id=item.get("id"),
            score=item.get("score"),
        )
    else:
        raise InvalidInput(
            f"{field}: must be an Annotation or a mapping, got {type(item).__name__}",
            field=field,
        )
    if not isinstance(ann.label, str) or not ann.label:
        raise InvalidInput(
            f"{field}.label: must be a non-empty string, got {ann.label!r}", field=f"{field}.label"
        )
    if not isinstance(ann.geometry, Mapping):
        raise InvalidInput(
            f"{field}.geometry: must be a JSON object, got {type(ann.geometry).__name__}",
            field=f"{field}.geometry",
        )
    if ann.score is not None and not (
        isinstance(ann.score, int | float)
        and not isinstance(ann.score, bool)
        and 0.0 <= ann.score <= 1.0
    ):
        raise InvalidInput(
            f"{field}.score: must be a number in [0, 1], got {ann.score!r}", field=f"{field}.score"
        )
    return ann


def as_annotations(items: Any, field: str, type_name: str) -> list[Annotation]:
    """Coerce a sequence of annotations and check each one's type is ``type_name``."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
        raise InvalidInput(
            f"{field}: must be a sequence of annotations, got {type(items).__name__}",
            field=field,
        )
    out = [as_annotation(x, f"{field}[{i}]") for i, x in enumerate(items)]
    for i, a in enumerate(out):
        if a.type is not None and a.type != type_name:
            path = f"{field}[{i}].type"
            raise InvalidInput(
                f"{path}: is {a.type!r} but {type_name!r} annotations are being matched",
                field=path,
            )
    return out
