"""Agreement between annotators' geometries, summarised from matched-pair IoUs.

The matching (which shape of annotator A corresponds to which of annotator B) happens
elsewhere; this module only summarises the IoUs of the matched pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidInput

IOU_DEFINITION = (
    "Matched-IoU agreement: the mean IoU over the n matched shape pairs and the fraction of "
    "pairs whose IoU is >= the threshold."
)


@dataclass(frozen=True, slots=True)
class IouAgreement:
    """Summary of n matched-pair IoUs; ``mean_iou`` and ``fraction_above`` are None when n = 0."""

    mean_iou: float | None
    fraction_above: float | None
    threshold: float
    n: int
    definition: str = IOU_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "mean_iou": self.mean_iou,
            "fraction_above": self.fraction_above,
            "threshold": self.threshold,
            "n": self.n,
            "definition": self.definition,
        }


def matched_iou_agreement(
    ious: Sequence[float] | npt.NDArray[np.floating[Any]], threshold: float = 0.5
) -> IouAgreement:
    """Summarise IoUs (n,) in [0, 1] of matched shape pairs: mean and share >= ``threshold``.

    Raises ``InvalidInput`` naming the first IoU outside [0, 1] (or NaN) and for a threshold
    outside [0, 1]. An empty input gives n = 0 and None for both figures.
    """
    if not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
        raise InvalidInput(f"threshold must be in [0, 1], got {threshold!r}", field="threshold")
    values = np.asarray(ious, dtype=np.float64).reshape(-1)
    bad = ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidInput(f"ious[{i}] = {float(values[i])!r} is not in [0, 1]", field=f"ious[{i}]")
    if values.size == 0:
        return IouAgreement(None, None, float(threshold), 0)
    return IouAgreement(
        mean_iou=float(values.mean()),
        fraction_above=float(np.count_nonzero(values >= threshold)) / values.size,
        threshold=float(threshold),
        n=int(values.size),
    )
