"""One similarity per annotation type, looked up by the type's name.

Every kernel has the form ``similarity(a, b, **options) -> (N, M) float64`` on lists of
canonical geometries (``a`` N items, ``b`` M items). A third-party annotation type gets a
similarity by giving its ``AnnotationType`` a ``similarity`` method of that form; the
built-in types use the kernels below. There is no mutable registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput
from labelproof.metrics.similarity.boxes import box_iou, rotated_box_iou
from labelproof.metrics.similarity.cuboids import cuboid_iou
from labelproof.metrics.similarity.keypoints import keypoint_oks
from labelproof.metrics.similarity.masks import mask_iou
from labelproof.metrics.similarity.polygons import polygon_iou
from labelproof.metrics.similarity.polylines import polyline_similarity
from labelproof.metrics.similarity.tags import tag_similarity

Similarity = Callable[..., NDArray[np.float64]]

BUILTIN_SIMILARITIES: Mapping[str, Similarity] = MappingProxyType(
    {
        "tag": tag_similarity,
        "box": box_iou,
        "rotated_box": rotated_box_iou,
        "polygon": polygon_iou,
        "polyline": polyline_similarity,
        "mask": mask_iou,
        "keypoints": keypoint_oks,
        "cuboid": cuboid_iou,
    }
)

SIMILARITY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "tag": "label equality",
        "box": "IoU",
        "rotated_box": "IoU",
        "polygon": "IoU",
        "polyline": "mean symmetric distance similarity",
        "mask": "IoU",
        "keypoints": "OKS",
        "cuboid": "3D IoU",
    }
)
"""What each built-in similarity measures, for reports."""

AREA_TYPES = frozenset({"box", "rotated_box", "polygon", "mask", "cuboid"})
"""Types whose similarity is an IoU (so Dice = 2 IoU / (1 + IoU) is meaningful)."""


def similarity_for(type_name: str) -> Similarity:
    """The similarity kernel of annotation type ``type_name``.

    Raises InvalidInput for a name that is not a registered annotation type, or a
    registered plugin type without a ``similarity`` method.
    """
    if type_name in BUILTIN_SIMILARITIES:
        return BUILTIN_SIMILARITIES[type_name]
    from labelproof.annotypes import get_type

    annotation_type: Any = get_type(type_name)  # InvalidInput listing the known types
    method = getattr(annotation_type, "similarity", None)
    if not callable(method):
        raise InvalidInput(
            f"type_name: annotation type {type_name!r} defines no similarity "
            "(give its AnnotationType a similarity(a, b, **options) method)",
            field="type_name",
        )
    fn: Similarity = method
    return fn
