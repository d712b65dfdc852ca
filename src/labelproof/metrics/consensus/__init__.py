"""Consensus of k raters: one merge per annotation type, each with an agreement score.

- tags: :func:`vote_tags` (majority / weighted vote, ties reported);
- boxes: :func:`fuse_boxes` (weighted-boxes-fusion style clustering and averaging);
- masks: :func:`vote_masks` (pixel majority) and :func:`staple` (EM, Warfield et al. 2004);
- polygons: :func:`vote_polygons` (rasterised, then mask vote);
- keypoints: :func:`merge_keypoints` (visibility-weighted average, majority visibility).
"""

from __future__ import annotations

from labelproof.metrics.consensus.boxes import BoxConsensus, FusedBox, fuse_boxes
from labelproof.metrics.consensus.keypoints import KeypointConsensus, merge_keypoints
from labelproof.metrics.consensus.masks import (
    MaskConsensus,
    StapleResult,
    staple,
    vote_masks,
    vote_polygons,
)
from labelproof.metrics.consensus.tags import TagConsensus, vote_tags

__all__ = [
    "BoxConsensus",
    "FusedBox",
    "KeypointConsensus",
    "MaskConsensus",
    "StapleResult",
    "TagConsensus",
    "fuse_boxes",
    "merge_keypoints",
    "staple",
    "vote_masks",
    "vote_polygons",
    "vote_tags",
]
