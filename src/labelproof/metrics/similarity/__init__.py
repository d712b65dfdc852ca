"""Similarity kernels, one per annotation type, on lists of canonical geometries.

Every kernel takes ``a`` (N geometries) and ``b`` (M geometries) and returns an (N, M)
float64 matrix with ``out[i, j]`` the similarity of ``a[i]`` and ``b[j]`` in [0, 1]
((N, 0) / (0, M) on empty input). :func:`similarity_for` gives the kernel of a type by
name. Conventions: docs/decisions/0004-similarity-and-consensus.md.
"""

from __future__ import annotations

from labelproof.metrics.similarity.boxes import (
    box_iou,
    box_iou_array,
    convex_iou_pairs,
    rotated_box_iou,
)
from labelproof.metrics.similarity.cuboids import cuboid_iou
from labelproof.metrics.similarity.keypoints import (
    COCO_PERSON_SIGMAS,
    DEFAULT_SIGMA,
    keypoint_oks,
    keypoint_oks_array,
)
from labelproof.metrics.similarity.masks import mask_iou
from labelproof.metrics.similarity.polygons import (
    PackedPolygons,
    pack_polygons,
    pack_rings,
    paired_polygon_iou,
    polygon_iou,
)
from labelproof.metrics.similarity.polylines import (
    DEFAULT_TOLERANCE_PX,
    mean_symmetric_distance,
    polyline_similarity,
)
from labelproof.metrics.similarity.registry import (
    AREA_TYPES,
    BUILTIN_SIMILARITIES,
    SIMILARITY_NAMES,
    Similarity,
    similarity_for,
)
from labelproof.metrics.similarity.tags import tag_similarity

__all__ = [
    "AREA_TYPES",
    "BUILTIN_SIMILARITIES",
    "COCO_PERSON_SIGMAS",
    "DEFAULT_SIGMA",
    "DEFAULT_TOLERANCE_PX",
    "SIMILARITY_NAMES",
    "PackedPolygons",
    "Similarity",
    "box_iou",
    "box_iou_array",
    "convex_iou_pairs",
    "cuboid_iou",
    "keypoint_oks",
    "keypoint_oks_array",
    "mask_iou",
    "mean_symmetric_distance",
    "pack_polygons",
    "pack_rings",
    "paired_polygon_iou",
    "polygon_iou",
    "polyline_similarity",
    "rotated_box_iou",
    "similarity_for",
    "tag_similarity",
]
