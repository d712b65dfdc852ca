"""Matching of ground truths to predictions, per image and accumulated.

:func:`match` pairs two sets of annotations of one type (Hungarian assignment within each
label, then leftovers across labels as confusions) and returns a :class:`MatchResult`;
:class:`MatchAccumulator` sums results per class and per annotator.
"""

from __future__ import annotations

from labelproof.metrics.matching.accumulator import MatchAccumulator, MatchStats, MatchSummary
from labelproof.metrics.matching.boundary import (
    boundary_distance,
    mask_boundary_distance,
    polygon_boundary_distance,
)
from labelproof.metrics.matching.items import Annotation
from labelproof.metrics.matching.match import assign, match
from labelproof.metrics.matching.result import MATCH_DEFINITION, MatchedPair, MatchResult

__all__ = [
    "MATCH_DEFINITION",
    "Annotation",
    "MatchAccumulator",
    "MatchResult",
    "MatchStats",
    "MatchSummary",
    "MatchedPair",
    "assign",
    "boundary_distance",
    "mask_boundary_distance",
    "match",
    "polygon_boundary_distance",
]
