"""labelproof.metrics: evaluation, agreement and consensus as a pure library.

No server, no database, no project: everything here runs on annotations made anywhere.

- COCO detection, segmentation and keypoint evaluation equal to pycocotools:
  :class:`CocoEvaluator`, :func:`evaluate_coco_files` (``labelproof.metrics.coco``).
- Agreement: :func:`krippendorff_alpha`, :func:`cohen_kappa`, :func:`fleiss_kappa`,
  :func:`percent_agreement`, :class:`AgreementAccumulator` (``labelproof.metrics.agreement``).
- Similarity, matching and consensus per annotation type live in
  ``labelproof.metrics.similarity``, ``labelproof.metrics.matching`` and
  ``labelproof.metrics.consensus``.
- Model suggestions (pre-labels): what annotators did with them and the edit rate, from
  revision histories: :func:`suggestion_outcomes`, :func:`suggestion_figures`
  (``labelproof.metrics.suggestions``).
"""

from labelproof.metrics.agreement import (
    AgreementAccumulator,
    AgreementResult,
    AgreementUndefined,
    IouAgreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    matched_iou_agreement,
    percent_agreement,
)
from labelproof.metrics.coco import (
    COCO_KPT_SIGMAS,
    CocoEvaluator,
    CocoParams,
    CocoResult,
    evaluate_coco_files,
)
from labelproof.metrics.consensus import (
    fuse_boxes,
    merge_keypoints,
    staple,
    vote_masks,
    vote_polygons,
    vote_tags,
)
from labelproof.metrics.matching import Annotation as MatchAnnotation
from labelproof.metrics.matching import MatchAccumulator, MatchResult, MatchSummary, match
from labelproof.metrics.similarity import (
    box_iou,
    cuboid_iou,
    keypoint_oks,
    mask_iou,
    paired_polygon_iou,
    polygon_iou,
    polyline_similarity,
    rotated_box_iou,
    similarity_for,
    tag_similarity,
)
from labelproof.metrics.suggestions import (
    SuggestionCounts,
    SuggestionFigures,
    SuggestionOutcome,
    count_outcomes,
    suggestion_figures,
    suggestion_outcomes,
)

__all__ = [
    "COCO_KPT_SIGMAS",
    "AgreementAccumulator",
    "AgreementResult",
    "AgreementUndefined",
    "CocoEvaluator",
    "CocoParams",
    "CocoResult",
    "IouAgreement",
    "MatchAccumulator",
    "MatchAnnotation",
    "MatchResult",
    "MatchSummary",
    "SuggestionCounts",
    "SuggestionFigures",
    "SuggestionOutcome",
    "box_iou",
    "cohen_kappa",
    "count_outcomes",
    "cuboid_iou",
    "evaluate_coco_files",
    "fleiss_kappa",
    "fuse_boxes",
    "keypoint_oks",
    "krippendorff_alpha",
    "mask_iou",
    "match",
    "matched_iou_agreement",
    "merge_keypoints",
    "paired_polygon_iou",
    "percent_agreement",
    "polygon_iou",
    "polyline_similarity",
    "rotated_box_iou",
    "similarity_for",
    "staple",
    "suggestion_figures",
    "suggestion_outcomes",
    "tag_similarity",
    "vote_masks",
    "vote_polygons",
    "vote_tags",
]
