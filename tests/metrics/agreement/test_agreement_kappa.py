"""Cohen's kappa, Fleiss' kappa and percent agreement against the textbook formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement import (
    AgreementUndefined,
    cohen_kappa,
    fleiss_counts,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def sklearn_style_cohen(a: list[object], b: list[object]) -> float:
    """Cohen's kappa the way scikit-learn computes it: 1 - sum(w * cm) / sum(w * expected)."""
    labels = sorted({*a, *b}, key=repr)
    index = {label: i for i, label in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b, strict=True):
        cm[index[x], index[y]] += 1
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / cm.sum()
    w = 1.0 - np.eye(len(labels))
    return float(1.0 - (w * cm).sum() / (w * expected).sum())


def hand_fleiss(counts: np.ndarray) -> float:
    n_units = counts.shape[0]
    n = counts[0].sum()
    p_j = counts.sum(axis=0) / (n_units * n)
    p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), (p_j**2).sum()
    return float((p_bar - p_e) / (1 - p_e))


def test_fleiss_wikipedia_example() -> None:
    result = fleiss_kappa(WIKIPEDIA_FLEISS, bootstrap=0)
    assert round(result.value, 3) == 0.210
    assert result.value == pytest.approx(hand_fleiss(WIKIPEDIA_FLEISS), abs=1e-12)
    assert (result.n_units, result.n_raters, result.n_pairable) == (10, 14, 140)
    assert result.metric == "fleiss"


def test_fleiss_errors() -> None:
    with pytest.raises(InvalidInput, match=r"counts\[1\] has 3 ratings but counts\[0\] has 2"):
        fleiss_kappa([[1, 1], [2, 1]])
    with pytest.raises(InvalidInput, match=r"counts\[0\]\[1\] = -1"):
        fleiss_kappa([[3, -1]])
    with pytest.raises(InvalidInput, match="2-D"):
        fleiss_kappa([1, 2])
    with pytest.raises(AgreementUndefined) as info:
        fleiss_kappa([[3, 0], [3, 0]])
    assert info.value.details["reason"] == "no_variation"
    with pytest.raises(AgreementUndefined):
        fleiss_kappa(np.zeros((0, 3)))
    with pytest.raises(AgreementUndefined):
        fleiss_kappa([[1, 0], [0, 1]])  # one rating per unit


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 6), st.integers(1, 15), st.integers(2, 4), st.randoms(use_true_random=False))
def test_fleiss_equals_hand_formula(n: int, n_units: int, n_cat: int, random: object) -> None:
    rng = np.random.default_rng(n * 1000 + n_units * 10 + n_cat)
    labels = rng.integers(0, n_cat, size=(n_units, n))
    counts = np.stack([(labels == c).sum(axis=1) for c in range(n_cat)], axis=1)
    assume(np.count_nonzero(counts.sum(axis=0)) >= 2)
    assert fleiss_kappa(counts, bootstrap=0).value == pytest.approx(hand_fleiss(counts), abs=1e-9)
    # fleiss_counts turns a (raters x units) matrix into the same table.
    table = fleiss_counts(labels.T.astype(np.float64))
    assert fleiss_kappa(table, bootstrap=0).value == pytest.approx(hand_fleiss(counts), abs=1e-9)


labels = st.sampled_from(["cat", "dog", "bird", 3, 4.5])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(labels, labels), min_size=1, max_size=30))
def test_cohen_equals_sklearn_style(pairs: list[tuple[object, object]]) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(set(a) | set(b)) == 1:
        with pytest.raises(AgreementUndefined):
            cohen_kappa(a, b, bootstrap=0)
        return
    result = cohen_kappa(a, b, bootstrap=0)
    assert result.value == pytest.approx(sklearn_style_cohen(a, b), abs=1e-9)
    assert cohen_kappa(b, a, bootstrap=0).value == pytest.approx(result.value, abs=1e-12)
    # Percent agreement with two raters is p_o.
    agree = sum(x == y for x, y in pairs) / len(pairs)
    assert percent_agreement([a, b], bootstrap=0).value == pytest.approx(agree, abs=1e-12)


def test_cohen_drops_units_missing_a_rating() -> None:
    a = ["x", "y", None, "x", "y", float("nan")]
    b = ["x", "x", "y", "x", "y", "y"]
    result = cohen_kappa(a, b, bootstrap=0)
    assert result.value == pytest.approx(
        sklearn_style_cohen(["x", "y", "x", "y"], ["x", "x", "x", "y"]), abs=1e-12
    )
    assert (result.n_units, result.n_pairable, result.n_raters) == (6, 8, 2)


def test_cohen_known_value_and_errors() -> None:
    # 2x2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = 0.5 -> kappa 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b, bootstrap=0).value == pytest.approx(0.4, abs=1e-12)
    with pytest.raises(InvalidInput, match="a has 2 ratings but b has 1"):
        cohen_kappa(["x", "y"], ["x"])
    with pytest.raises(AgreementUndefined) as info:
        cohen_kappa([None, "x"], ["y", None])
    assert info.value.details["reason"] == "no_pairable"


def test_percent_agreement_varying_raters() -> None:
    # Unit 1: 3 of 3 pairs agree; unit 2: (a, a, b) 1 of 3; unit 3: (a, b) 0 of 1; unit 4 alone.
    x = [["a", "a", "a", "z"], ["a", "a", "b", None], ["a", "b", None, None]]
    result = percent_agreement(x, bootstrap=0)
    assert result.value == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-12)
    assert (result.n_units, result.n_pairable) == (4, 8)
    with pytest.raises(AgreementUndefined):
        percent_agreement([["a", None], [None, "b"]], bootstrap=0)


def test_percent_agreement_many_raters_uses_category_counts() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, size=(12, 40)).astype(np.float64)
    x[rng.random(x.shape) < 0.2] = np.nan
    expected = []
    for column in x.T:
        values = column[~np.isnan(column)]
        m = values.size
        if m >= 2:
            agree = sum(values[i] == values[j] for i in range(m) for j in range(m) if i != j)
            expected.append(agree / (m * (m - 1)))
    assert percent_agreement(x, bootstrap=0).value == pytest.approx(np.mean(expected), abs=1e-12)


def test_kappa_bootstrap_intervals_are_seeded() -> None:
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 3, 200))
    first = cohen_kappa(list(a), list(b), bootstrap=200, seed=9)
    assert first.ci == cohen_kappa(list(a), list(b), bootstrap=200, seed=9).ci
    assert first.ci is not None and first.ci[0] < first.value < first.ci[1]
    fleiss = fleiss_kappa(WIKIPEDIA_FLEISS, bootstrap=200, seed=9)
    assert fleiss.ci is not None and fleiss.ci[0] <= fleiss.value <= fleiss.ci[1]
    percent = percent_agreement([list(a), list(b)], bootstrap=200, seed=9)
    assert percent.ci is not None and percent.ci[0] <= percent.value <= percent.ci[1]


def test_alpha_and_kappas_agree_in_the_large_sample_limit() -> None:
    # With two raters and no missing data, nominal alpha and Cohen differ only by O(1/n).
    rng = np.random.default_rng(8)
    a = rng.integers(0, 4, 5000)
    b = np.where(rng.random(5000) < 0.6, a, rng.integers(0, 4, 5000))
    alpha = krippendorff_alpha(np.stack([a, b]).astype(float), bootstrap=0).value
    assert cohen_kappa(list(a), list(b), bootstrap=0).value == pytest.approx(alpha, abs=2e-3)


def test_single_unit_results_are_defined() -> None:
    assert cohen_kappa([1], [2], bootstrap=0).value == 0.0
    assert fleiss_kappa([[1, 1]], bootstrap=0).value == -1.0
    assert percent_agreement([[1], [2]], bootstrap=0).value == 0.0
    assert percent_agreement([[1, 1], [1, 1]], bootstrap=0).value == 1.0  # no kappa needed
