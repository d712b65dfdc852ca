"""labelproof.metrics: evaluation, agreement and consensus as a pure library.

No server, no database, no project: everything here runs on annotations made anywhere.

- COCO detection, segmentation and keypoint evaluation equal to pycocotools:
  :class:`CocoEvaluator`, :func:`evaluate_coco_files` (``labelproof.metrics.coco``).
- Agreement: :func:`krippendorff_alpha`, :func:`cohen_kappa`, :func:`fleiss_kappa`,
  :func:`percent_agreement`, :class:`AgreementAccumulator` (``labelproof.metrics.agreement``).
- Similarity, matching and consensus per annotation type live in
  ``labelproof.metrics.similarity``, ``labelproof.metrics.matching`` and
  ``labelproof.metrics.consensus``.
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

__all__ = [
    "COCO_KPT_SIGMAS",
    "AgreementAccumulator",
    "AgreementResult",
    "AgreementUndefined",
    "CocoEvaluator",
    "CocoParams",
    "CocoResult",
    "IouAgreement",
    "cohen_kappa",
    "evaluate_coco_files",
    "fleiss_kappa",
    "krippendorff_alpha",
    "matched_iou_agreement",
    "percent_agreement",
]
