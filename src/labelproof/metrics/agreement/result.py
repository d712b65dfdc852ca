"""The result of an agreement statistic and the error for an undefined one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from labelproof.errors import InvalidInput

Metric = Literal["alpha", "cohen", "fleiss", "percent"]
Level = Literal["nominal", "ordinal", "interval", "ratio"]

METRICS: tuple[Metric, ...] = ("alpha", "cohen", "fleiss", "percent")
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

DEFAULT_BOOTSTRAP = 1000
"""Bootstrap replicates used when a caller does not say (0 turns the interval off)."""


class AgreementUndefined(InvalidInput):
    """The statistic is 0/0 on this data (no variation, nothing pairable, ...).

    Raised instead of returning NaN; ``details["reason"]`` is a stable short word:
    ``"no_variation"``, ``"no_pairable"``, ``"no_units"``.
    """

    code = "agreement_undefined"


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """One agreement statistic with its bootstrap confidence interval.

    ``ci`` is the (low, high) percentile interval of ``confidence`` over ``n_bootstrap``
    resamples of units (``None`` when the bootstrap was turned off or no resample was
    defined). ``n_bootstrap_defined`` counts resamples whose statistic was defined (a resample
    may draw only units without variation); the interval uses those only.
    """

    value: float
    ci: tuple[float, float] | None
    n_units: int
    n_pairable: int
    n_raters: int
    metric: Metric
    level: Level
    definition: str
    confidence: float = 0.95
    n_bootstrap: int = 0
    n_bootstrap_defined: int = 0
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (floats, ints, strings, a list for ``ci``)."""
        return {
            "value": self.value,
            "ci": None if self.ci is None else [self.ci[0], self.ci[1]],
            "n_units": self.n_units,
            "n_pairable": self.n_pairable,
            "n_raters": self.n_raters,
            "metric": self.metric,
            "level": self.level,
            "definition": self.definition,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "n_bootstrap_defined": self.n_bootstrap_defined,
            "seed": self.seed,
        }


def undefined(message: str, *, reason: str, field: str = "matrix") -> AgreementUndefined:
    """Build the error for a statistic that is 0/0 on the given data."""
    return AgreementUndefined(message, field=field, reason=reason)


def check_level(level: str) -> Level:
    """Return ``level`` as a ``Level`` or raise ``InvalidInput`` naming the allowed ones."""
    for known in LEVELS:
        if level == known:
            return known
    raise InvalidInput(
        f"unknown level {level!r}; expected one of {', '.join(LEVELS)}", field="level"
    )


def check_metric(metric: str) -> Metric:
    """Return ``metric`` as a ``Metric`` or raise ``InvalidInput`` naming the allowed ones."""
    for known in METRICS:
        if metric == known:
            return known
    raise InvalidInput(
        f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}", field="metric"
    )


def check_bootstrap(n_bootstrap: int, confidence: float) -> None:
    """Validate the bootstrap settings shared by every statistic."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise InvalidInput(
            f"bootstrap must be a non-negative integer, got {n_bootstrap!r}", field="bootstrap"
        )
    if not (isinstance(confidence, float | int) and 0.0 < confidence < 1.0) or math.isnan(
        confidence
    ):
        raise InvalidInput(f"confidence must be in (0, 1), got {confidence!r}", field="confidence")
