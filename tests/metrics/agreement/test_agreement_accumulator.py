"""AgreementAccumulator, input normalisation and the matched-IoU summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement import (
    AgreementAccumulator,
    AgreementUndefined,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    matched_iou_agreement,
    percent_agreement,
    reliability_matrix,
)

from .test_agreement_alpha import KRIPPENDORFF_2011


def _records(matrix: np.ndarray) -> list[tuple[str, str, object]]:
    return [
        (f"unit{u}", f"rater{r}", None if math.isnan(v) else v)
        for r, row in enumerate(matrix)
        for u, v in enumerate(row)
    ]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_accumulator_matches_function(level: str) -> None:
    acc = AgreementAccumulator("alpha", level, bootstrap=100, seed=3)
    acc.update_many(reversed(_records(KRIPPENDORFF_2011)))  # order does not matter
    result = acc.compute()
    direct = krippendorff_alpha(KRIPPENDORFF_2011, level=level, bootstrap=0)  # type: ignore[arg-type]
    assert result.value == pytest.approx(direct.value, abs=1e-12)
    assert (result.n_units, result.n_pairable, result.n_raters) == (15, 26, 3)
    assert result.ci is not None and result.seed == 3
    assert len(acc) == 27  # 26 pairable values and one alone in its unit


def test_accumulator_other_metrics() -> None:
    a = ["x", "y", "x", "x", "y", "z"]
    b = ["x", "y", "y", "x", "y", "z"]
    c = ["x", "y", "x", "z", "y", "z"]
    for metric, expected in [
        ("cohen", cohen_kappa(a, b, bootstrap=0).value),
        ("percent", percent_agreement([a, b], bootstrap=0).value),
    ]:
        acc = AgreementAccumulator(metric, bootstrap=0)
        for u in range(6):
            acc.update(u, "ann", a[u])
            acc.update(u, "bob", b[u])
        assert acc.compute().value == pytest.approx(expected, abs=1e-12)
    acc = AgreementAccumulator("fleiss", bootstrap=0)
    for u in range(6):
        # Fleiss allows different raters per unit as long as each unit has 3 ratings.
        for rater, labels in zip(
            ("p", "q", "r") if u % 2 else ("s", "t", "v"), (a, b, c), strict=True
        ):
            acc.update(u, rater, labels[u])
    counts = [[sum(lab[u] == k for lab in (a, b, c)) for k in "xyz"] for u in range(6)]
    assert acc.compute().value == pytest.approx(fleiss_kappa(counts, bootstrap=0).value)


def test_accumulator_errors_and_reset() -> None:
    acc = AgreementAccumulator("alpha", "interval")
    with pytest.raises(InvalidInput, match="'high' is not a number"):
        acc.update("u1", "ann", "high")
    acc.update("u1", "ann", 2)
    with pytest.raises(InvalidInput, match="already has a rating by rater 'ann'"):
        acc.update("u1", "ann", 3)
    with pytest.raises(AgreementUndefined):
        acc.compute()
    acc.update("u1", "bob", 4)
    acc.update("u2", "bob", 1)
    acc.update("u2", "ann", None)  # the unit exists, the rating is missing
    assert acc.compute().n_units == 2
    acc.reset()
    assert len(acc) == 0
    with pytest.raises(InvalidInput, match="nominal only"):
        AgreementAccumulator("cohen", "ordinal")
    with pytest.raises(InvalidInput, match="unknown metric"):
        AgreementAccumulator("kappa")
    with pytest.raises(InvalidInput, match="bootstrap"):
        AgreementAccumulator(bootstrap=-1)
    fleiss = AgreementAccumulator("fleiss", bootstrap=0)
    fleiss.update_many([("a", 1, "x"), ("a", 2, "y"), ("b", 1, "x")])
    with pytest.raises(InvalidInput, match="unit 'b' has 1 ratings but unit 'a' has 2"):
        fleiss.compute()
    cohen = AgreementAccumulator("cohen", bootstrap=0)
    cohen.update_many([("a", 1, "x"), ("a", 2, "y"), ("a", 3, "x")])
    with pytest.raises(InvalidInput, match="exactly 2 raters, got 3"):
        cohen.compute()


def test_accumulator_ordinal_categories() -> None:
    order = ["low", "mid", "high"]
    acc = AgreementAccumulator("alpha", "ordinal", categories=order, bootstrap=0)
    acc.update_many([(1, "a", "low"), (1, "b", "mid"), (2, "a", "high"), (2, "b", "high")])
    acc.update_many([(3, "a", "low"), (3, "b", "low")])
    expected = krippendorff_alpha([[0, 2, 0], [1, 2, 0]], level="ordinal", bootstrap=0)
    assert acc.compute().value == pytest.approx(expected.value, abs=1e-12)
    with pytest.raises(InvalidInput, match="'top' is not one of the categories"):
        acc.update(4, "a", "top")


def test_reliability_matrix_normalisation() -> None:
    x = reliability_matrix([["a", None, 1], ["a", float("nan"), 1.0]])
    assert x[0, 0] == x[1, 0] and x[0, 2] == x[1, 2] and x[0, 0] != x[0, 2]
    assert np.isnan(x[:, 1]).all()
    numeric = reliability_matrix([[1, 2.5], [None, 3]], level="interval")
    np.testing.assert_array_equal(numeric, [[1.0, 2.5], [np.nan, 3.0]])


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ([[1, 2], [1]], {}, r"matrix\[1\] has 1 ratings but matrix\[0\] has 2"),
        ([[1, "x"]], {"level": "interval"}, r"matrix\[0\]\[1\] = 'x' is not a number"),
        ([[1, "x"]], {"level": "ordinal"}, "pass an ordered categories"),
        ([[1, [2]]], {}, "not a hashable label"),
        (np.array([[1.0, np.inf]]), {}, r"matrix\[0\]\[1\] = inf is not a finite value"),
        (np.ones(3), {}, "must be 2-D"),
        ([["a"]], {"categories": ["a", "a"]}, r"categories\[1\] = 'a' repeats"),
        ([["b"]], {"categories": ["a"]}, "'b' is not one of the categories"),
        ("abc", {}, "got a string"),
        ([[float("inf")]], {"level": "ratio"}, "not a finite value"),
    ],
)
def test_reliability_matrix_errors(data: object, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        reliability_matrix(data, **kwargs)  # type: ignore[arg-type]


def test_matched_iou_agreement() -> None:
    result = matched_iou_agreement([0.9, 0.4, 0.5, 0.75], threshold=0.5)
    assert result.mean_iou == pytest.approx(0.6375)
    assert result.fraction_above == pytest.approx(0.75)  # >= threshold counts
    assert result.n == 4
    assert result.to_dict()["threshold"] == 0.5
    empty = matched_iou_agreement([])
    assert (empty.mean_iou, empty.fraction_above, empty.n) == (None, None, 0)
    with pytest.raises(InvalidInput, match=r"ious\[1\] = 1.2 is not in \[0, 1\]"):
        matched_iou_agreement([0.3, 1.2])
    with pytest.raises(InvalidInput, match="not in"):
        matched_iou_agreement([float("nan")])
    with pytest.raises(InvalidInput, match="threshold"):
        matched_iou_agreement([0.5], threshold=1.5)
