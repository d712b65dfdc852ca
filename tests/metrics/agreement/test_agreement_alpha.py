"""Krippendorff's alpha against the ``krippendorff`` package and the textbook examples."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement import AgreementUndefined, krippendorff_alpha
from labelproof.metrics.agreement.alpha import alpha_value
from labelproof.metrics.agreement.alpha_resample import alpha_statistic

LEVELS = ("nominal", "ordinal", "interval", "ratio")
nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 3 coders x 15 units
# example (also the package's doctest): nominal 0.691, interval 0.811.
KRIPPENDORFF_2011 = np.array(
    [
        [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
        [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
        [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
    ]
)
# Hayes & Krippendorff (2007) 4 coders x 12 units: ordinal 0.815, ratio 0.797.
HAYES_2007 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


def reference(x: np.ndarray, level: str) -> float | None:
    """The package's alpha, or None where it raises or returns NaN."""
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = float(krippendorff.alpha(x, level_of_measurement=level))
    except ValueError:
        return None
    return None if np.isnan(value) else value


def ours(x: np.ndarray, level: str) -> float:
    return krippendorff_alpha(x, level=level, bootstrap=0).value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "level", "expected", "places"),
    [
        (KRIPPENDORFF_2011, "nominal", 0.691358, 6),
        (KRIPPENDORFF_2011, "interval", 0.810845, 6),
        (HAYES_2007, "ordinal", 0.815, 3),
        (HAYES_2007, "ratio", 0.797, 3),
    ],
)
def test_published_examples(data: np.ndarray, level: str, expected: float, places: int) -> None:
    value = ours(data, level)
    assert round(value, places) == pytest.approx(expected)
    assert value == pytest.approx(reference(data, level), abs=1e-9)


def test_nominal_by_hand_coincidences() -> None:
    # Units: (a, a), (a, b), (b, b, b): o_aa = 2, o_ab = o_ba = 1, o_bb = 3; n_a = 3, n_b = 4.
    x = [["a", "a", "b"], ["a", "b", "b"], [None, None, "b"]]
    n = 7
    expected = 1 - (n - 1) * 2 / (n * n - 3 * 3 - 4 * 4)
    assert ours(np.asarray(x, dtype=object), "nominal") == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("data", [KRIPPENDORFF_2011, HAYES_2007])
def test_every_level_matches_package(data: np.ndarray, level: str) -> None:
    assert ours(data, level) == pytest.approx(reference(data, level), abs=1e-9)


def test_labels_with_ordered_categories_match_numbers() -> None:
    names = {1.0: "very low", 2.0: "low", 3.0: "mid", 4.0: "high", 5.0: "very high"}
    rows = [[None if np.isnan(v) else names[v] for v in row] for row in HAYES_2007]
    by_label = krippendorff_alpha(
        rows, level="ordinal", categories=list(names.values()), bootstrap=0
    ).value
    assert by_label == pytest.approx(ours(HAYES_2007, "ordinal"), abs=1e-12)
    nominal = krippendorff_alpha(rows, level="nominal", bootstrap=0).value
    assert nominal == pytest.approx(0.743, abs=5e-4)  # the package's string example


# ---- degenerate inputs: a defined result or AgreementUndefined, never NaN ----


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (np.ones((3, 4)), "no_variation"),  # one category only
        (np.full((2, 3), nan), "no_pairable"),  # all missing
        (np.array([[1.0, nan], [nan, 2.0]]), "no_pairable"),  # nothing pairable
        (np.empty((2, 0)), "no_units"),
        (np.empty((0, 3)), "no_units"),
        # Pairable values all 1; the 2 is alone in its unit: the package returns NaN here.
        (np.array([[1.0, 1.0, nan], [1.0, 1.0, 2.0]]), "no_variation"),
    ],
)
def test_undefined_inputs_raise_with_reason(data: np.ndarray, reason: str, level: str) -> None:
    with pytest.raises(AgreementUndefined) as info:
        ours(data, level)
    assert info.value.details["reason"] == reason
    assert reference(data, level) is None


@pytest.mark.parametrize("level", LEVELS)
def test_single_unit_with_two_values_is_zero(level: str) -> None:
    x = np.array([[1.0], [2.0]])
    assert ours(x, level) == 0.0 == reference(x, level)


def test_ratio_refuses_negative_values() -> None:
    with pytest.raises(InvalidInput, match=r"matrix\[0\]\[1\] = -2 is negative"):
        ours(np.array([[1.0, -2.0], [1.0, 3.0]]), "ratio")


def test_interval_refuses_categories() -> None:
    with pytest.raises(InvalidInput, match="categories"):
        krippendorff_alpha([["a"], ["b"]], level="interval", categories=["a", "b"])


def test_unknown_level() -> None:
    with pytest.raises(InvalidInput, match="unknown level 'nominel'"):
        krippendorff_alpha(np.ones((2, 2)), level="nominel")  # type: ignore[arg-type]


# ---- large and many-valued inputs go through the blocked and fallback paths ----


@pytest.mark.parametrize("level", LEVELS)
def test_large_matrix_matches_package(level: str) -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 6, size=40_000)
    x = np.where(rng.random((4, 40_000)) < 0.6, truth, rng.integers(0, 6, (4, 40_000)))
    x = x.astype(np.float64)
    x[rng.random(x.shape) < 0.3] = nan
    assert ours(x, level) == pytest.approx(reference(x, level), abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_many_distinct_values_and_many_raters(level: str) -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.gamma(2.0, 3.0, size=(12, 60)), 1) + rng.integers(0, 3, size=60)
    x[rng.random(x.shape) < 0.25] = nan
    assert ours(x, level) == pytest.approx(reference(x, level), abs=1e-9)


# ---- properties ----

cells = st.one_of(st.none(), st.integers(0, 4))


@st.composite
def matrices(draw: st.DrawFn, max_raters: int = 5, max_units: int = 12) -> np.ndarray:
    n_raters = draw(st.integers(1, max_raters))
    n_units = draw(st.integers(1, max_units))
    rows = draw(
        st.lists(
            st.lists(cells, min_size=n_units, max_size=n_units),
            min_size=n_raters,
            max_size=n_raters,
        )
    )
    return np.array([[nan if v is None else float(v) for v in row] for row in rows])


@settings(max_examples=150, deadline=None)
@given(matrices(), st.sampled_from(LEVELS))
def test_equals_package_or_both_undefined(x: np.ndarray, level: str) -> None:
    expected = reference(x, level)
    if expected is None:
        with pytest.raises(AgreementUndefined):
            ours(x, level)
    else:
        assert ours(x, level) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 3)), min_size=2),
    st.integers(2, 4),
)
def test_interval_with_decimals_equals_package(values: list[float], n_raters: int) -> None:
    rng = np.random.default_rng(len(values))
    x = np.array(values)[rng.integers(0, len(values), size=(n_raters, 8))]
    x[rng.random(x.shape) < 0.2] = nan
    expected = reference(x, "interval")
    if expected is None:
        with pytest.raises(AgreementUndefined):
            ours(x, "interval")
    else:
        assert ours(x, "interval") == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=2, max_size=20), st.integers(2, 5))
def test_perfect_agreement_with_variation_is_one(truth: list[int], n_raters: int) -> None:
    assume(len(set(truth)) >= 2)
    x = np.tile(np.array(truth, dtype=np.float64), (n_raters, 1))
    for level in LEVELS:
        assert ours(x, level) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(matrices(), st.permutations(range(5)), st.randoms(use_true_random=False))
def test_invariances(x: np.ndarray, relabel: list[int], random: object) -> None:
    expected = reference(x, "nominal")
    assume(expected is not None)
    value = ours(x, "nominal")
    # Relabelling (any bijection of labels) leaves nominal alpha unchanged.
    mapped = np.where(np.isnan(x), nan, np.take(relabel, np.nan_to_num(x).astype(int)))
    assert ours(mapped, "nominal") == pytest.approx(value, abs=1e-12)
    # Symmetric in raters and in units.
    for level in LEVELS:
        base = ours(x, level)
        assert ours(x[::-1], level) == pytest.approx(base, abs=1e-12)
        assert ours(x[:, ::-1], level) == pytest.approx(base, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices(max_units=8), st.sampled_from(LEVELS), st.data())
def test_resample_weights_equal_duplicated_units(
    x: np.ndarray, level: str, data: st.DataObject
) -> None:
    """The bootstrap statistic on weights k equals alpha of the matrix with unit u k_u times."""
    pairable = (~np.isnan(x)).sum(axis=0) >= 2
    kept = x[:, pairable]
    assume(kept.shape[1] > 0)
    weights = data.draw(st.lists(st.integers(0, 3), min_size=kept.shape[1], max_size=kept.shape[1]))
    assume(sum(weights) > 0)
    duplicated = np.repeat(kept, weights, axis=1)
    try:
        expected = alpha_value(duplicated, level)[0]  # type: ignore[arg-type]
    except AgreementUndefined:
        with pytest.raises(AgreementUndefined):
            alpha_statistic(kept, level)(np.asarray(weights, dtype=np.float64))  # type: ignore[arg-type]
        return
    got = alpha_statistic(kept, level)(np.asarray(weights, dtype=np.float64))  # type: ignore[arg-type]
    assert got == pytest.approx(expected, abs=1e-9)


# ---- bootstrap ----


def test_bootstrap_is_seeded_and_brackets_the_value() -> None:
    rng = np.random.default_rng(11)
    truth = rng.integers(0, 4, size=300)
    x = np.where(rng.random((3, 300)) < 0.8, truth, rng.integers(0, 4, (3, 300))).astype(float)
    first = krippendorff_alpha(x, bootstrap=300, seed=5)
    again = krippendorff_alpha(x, bootstrap=300, seed=5)
    other = krippendorff_alpha(x, bootstrap=300, seed=6)
    assert first.ci == again.ci
    assert first.ci != other.ci
    assert first.ci is not None
    low, high = first.ci
    assert low < first.value < high
    assert high - low < 0.2
    assert first.n_bootstrap == first.n_bootstrap_defined == 300
    assert krippendorff_alpha(x, bootstrap=0).ci is None


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_every_level(level: str) -> None:
    result = krippendorff_alpha(HAYES_2007, level=level, bootstrap=200, seed=1)  # type: ignore[arg-type]
    assert result.ci is not None
    assert -1.0 <= result.ci[0] <= result.ci[1] <= 1.0
    assert 0 < result.n_bootstrap_defined <= 200


def test_result_fields_and_dict() -> None:
    result = krippendorff_alpha(KRIPPENDORFF_2011, bootstrap=50, seed=0)
    assert (result.n_units, result.n_pairable, result.n_raters) == (15, 26, 3)
    assert result.metric == "alpha"
    assert result.level == "nominal"
    assert result.definition.startswith("Krippendorff's alpha = 1 - (n - 1)")
    as_dict = result.to_dict()
    assert set(as_dict) >= {"value", "ci", "n_units", "n_pairable", "n_raters", "definition"}
    assert as_dict["ci"] == list(result.ci or ())
    with pytest.raises(AttributeError):
        result.value = 0.0  # type: ignore[misc]


def test_accepts_every_ordering_of_rows() -> None:
    for order in itertools.permutations(range(3)):
        assert ours(KRIPPENDORFF_2011[list(order)], "nominal") == pytest.approx(0.691358, abs=1e-6)


def test_interval_far_from_the_smallest_value_uses_the_exact_path() -> None:
    # A lonely 0 makes the shift 1e8 away from the pairable values, whose spread is 1e-3:
    # the fast sums cannot resolve that, the exact per-unit path must.
    x = np.array([[1e8, 1e8 + 1e-3, 1e8, nan], [1e8, 1e8 + 2e-3, 1e8 + 1e-3, 0.0]])
    assert ours(x, "interval") == pytest.approx(reference(x, "interval"), abs=1e-6)
    same = np.array([[5.0, 5.0, nan], [5.0, 5.0, 0.0]])
    with pytest.raises(AgreementUndefined, match="no variation"):
        ours(same, "interval")
