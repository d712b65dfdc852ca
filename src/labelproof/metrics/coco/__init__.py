"""COCO evaluation equal to pycocotools 2.0 ``COCOeval``, fast and columnar.

``CocoEvaluator`` accumulates ground truth and detections; ``evaluate_coco_files`` reads two
JSON files. Both return a ``CocoResult``.
"""

from labelproof.metrics.coco.evaluator import (
    CocoEvaluator,
    CocoResult,
    evaluate_coco_files,
)
from labelproof.metrics.coco.params import COCO_KPT_SIGMAS, CocoParams

__all__ = [
    "COCO_KPT_SIGMAS",
    "CocoEvaluator",
    "CocoParams",
    "CocoResult",
    "evaluate_coco_files",
]
