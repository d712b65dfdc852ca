"""``AgreementAccumulator``: collect (unit, rater, value) ratings, then compute a statistic."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement.alpha import alpha_result
from labelproof.metrics.agreement.kappa import cohen_from_matrix, fleiss_counts, fleiss_kappa
from labelproof.metrics.agreement.percent import percent_from_matrix
from labelproof.metrics.agreement.ratings import FloatMatrix, category_index
from labelproof.metrics.agreement.result import (
    DEFAULT_BOOTSTRAP,
    AgreementResult,
    check_bootstrap,
    check_level,
    check_metric,
)

Rating = tuple[Hashable, Hashable, object]
"""(unit_id, rater_id, value); value ``None`` (or NaN) records the unit without a rating."""


class AgreementAccumulator:
    """Accumulates ratings and computes one agreement statistic over them.

    ``metric`` is ``"alpha"`` (any ``level``), or ``"cohen"``, ``"fleiss"``, ``"percent"``
    (nominal only). Values are checked on ``update``: at the nominal level any hashable label;
    with ``categories`` (nominal or ordinal) one of them; otherwise a finite real number. A
    (unit, rater) pair may be rated once; send the current rating, not its history.
    """

    def __init__(
        self,
        metric: str = "alpha",
        level: str = "nominal",
        *,
        categories: Sequence[Hashable] | None = None,
        bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int | None = 0,
        confidence: float = 0.95,
    ) -> None:
        self.metric = check_metric(metric)
        self.level = check_level(level)
        if self.metric != "alpha" and self.level != "nominal":
            raise InvalidInput(
                f"metric {self.metric!r} is nominal only; use metric 'alpha' for level "
                f"{self.level!r}",
                field="level",
            )
        check_bootstrap(bootstrap, confidence)
        self.bootstrap = bootstrap
        self.seed = seed
        self.confidence = confidence
        index = category_index(categories, self.level)
        self._categories = index or None
        self.reset()

    def reset(self) -> None:
        """Forget every rating."""
        self._units: dict[Hashable, int] = {}
        self._raters: dict[Hashable, int] = {}
        self._labels: dict[Hashable, int] = {}
        self._seen: dict[tuple[int, int], object] = {}
        self._unit_index: list[int] = []
        self._rater_index: list[int] = []
        self._values: list[float] = []

    def __len__(self) -> int:
        """Number of ratings recorded (missing values not counted)."""
        return len(self._values)

    def _code(self, unit_id: Hashable, rater_id: Hashable, value: object) -> float:
        where = f"rating of unit {unit_id!r} by rater {rater_id!r}"
        try:
            hash(value)
        except TypeError:
            raise InvalidInput(
                f"{where}: {value!r} is not a hashable label", field="value"
            ) from None
        if self._categories is not None:
            code = self._categories.get(value)
            if code is None:
                raise InvalidInput(
                    f"{where}: {value!r} is not one of the categories", field="value"
                )
            return float(code)
        if self.level == "nominal":
            return float(self._labels.setdefault(value, len(self._labels)))
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise InvalidInput(
                f"{where}: {value!r} is not a number; level {self.level!r} needs numbers",
                field="value",
            )
        number = float(value)
        if not math.isfinite(number):
            raise InvalidInput(f"{where}: {value!r} is not a finite number", field="value")
        return number

    def update(self, unit_id: Hashable, rater_id: Hashable, value: object) -> None:
        """Record that ``rater_id`` gave ``value`` to ``unit_id`` (None/NaN: unit, no rating)."""
        if isinstance(value, np.generic):
            value = value.item()
        u = self._units.setdefault(unit_id, len(self._units))
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return
        code = self._code(unit_id, rater_id, value)
        r = self._raters.setdefault(rater_id, len(self._raters))
        if (u, r) in self._seen:
            raise InvalidInput(
                f"unit {unit_id!r} already has a rating by rater {rater_id!r} "
                f"({self._seen[(u, r)]!r}); send each (unit, rater) once",
                field="value",
            )
        self._seen[(u, r)] = value
        self._unit_index.append(u)
        self._rater_index.append(r)
        self._values.append(code)

    def update_many(self, ratings: Iterable[Rating]) -> None:
        """``update`` for each (unit_id, rater_id, value) in ``ratings``."""
        for unit_id, rater_id, value in ratings:
            self.update(unit_id, rater_id, value)

    def matrix(self) -> FloatMatrix:
        """The reliability matrix (R raters, U units) so far, in first-seen order, NaN = missing."""
        x = np.full((len(self._raters), len(self._units)), np.nan)
        x[
            np.asarray(self._rater_index, dtype=np.intp),
            np.asarray(self._unit_index, dtype=np.intp),
        ] = self._values
        return x

    def compute(self) -> AgreementResult:
        """The statistic over every rating so far; raises ``AgreementUndefined`` when 0/0."""
        x = self.matrix()
        bootstrap, seed, confidence = self.bootstrap, self.seed, self.confidence
        if self.metric == "alpha":
            return alpha_result(
                x, self.level, bootstrap=bootstrap, seed=seed, confidence=confidence
            )
        if self.metric == "cohen":
            return cohen_from_matrix(x, bootstrap=bootstrap, seed=seed, confidence=confidence)
        if self.metric == "percent":
            return percent_from_matrix(x, bootstrap=bootstrap, seed=seed, confidence=confidence)
        per_unit = (~np.isnan(x)).sum(axis=0)
        units = list(self._units)
        if per_unit.size and (per_unit != per_unit[0]).any():
            u = int(np.flatnonzero(per_unit != per_unit[0])[0])
            raise InvalidInput(
                f"unit {units[u]!r} has {per_unit[u]} ratings but unit {units[0]!r} has "
                f"{per_unit[0]}; Fleiss' kappa needs the same number per unit (use alpha)",
                field="value",
            )
        return fleiss_kappa(
            fleiss_counts(x), bootstrap=self.bootstrap, seed=self.seed, confidence=self.confidence
        )
