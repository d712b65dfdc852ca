"""Agreement between raters: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha.

Every statistic returns an ``AgreementResult`` (value, seeded percentile bootstrap interval
over units, counts, and the formula used) or raises ``AgreementUndefined`` when the data make
it 0/0; it never returns NaN. Conventions: docs/decisions/0003-agreement.md.
"""

from __future__ import annotations

from labelproof.metrics.agreement.accumulator import AgreementAccumulator
from labelproof.metrics.agreement.alpha import krippendorff_alpha
from labelproof.metrics.agreement.geometry import IouAgreement, matched_iou_agreement
from labelproof.metrics.agreement.kappa import cohen_kappa, fleiss_counts, fleiss_kappa
from labelproof.metrics.agreement.percent import percent_agreement
from labelproof.metrics.agreement.ratings import reliability_matrix
from labelproof.metrics.agreement.result import (
    AgreementResult,
    AgreementUndefined,
    Level,
    Metric,
)

__all__ = [
    "AgreementAccumulator",
    "AgreementResult",
    "AgreementUndefined",
    "IouAgreement",
    "Level",
    "Metric",
    "cohen_kappa",
    "fleiss_counts",
    "fleiss_kappa",
    "krippendorff_alpha",
    "matched_iou_agreement",
    "percent_agreement",
    "reliability_matrix",
]
