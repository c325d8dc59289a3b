"""PSI, bins, the bounded sample and the tests, against numbers worked out independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from mlgitops.drift.stats import (
    Reservoir,
    bin_counts,
    chi2_p_value,
    ks_p_value,
    psi,
    quantile_edges,
)


def test_psi_of_two_tiny_histograms_is_the_hand_computed_value() -> None:
    # shares 0.5/0.5 against 0.25/0.75:
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5
    by_hand = 0.25 * 0.693147 + 0.25 * 0.405465
    assert psi([50, 50], [25, 75], epsilon=1e-4) == pytest.approx(by_hand, abs=1e-6)
    assert psi([50, 50], [50, 50], epsilon=1e-4) == 0.0
    # PSI is symmetric in its two sides.
    assert psi([25, 75], [50, 50], epsilon=1e-4) == pytest.approx(by_hand, abs=1e-6)


def test_an_empty_bin_counts_as_epsilon() -> None:
    # reference shares 1 and 0 (-> 1e-4), current 0.5 and 0.5:
    # (0.5 - 1) ln(0.5 / 1) + (0.5 - 0.0001) ln(0.5 / 0.0001)
    by_hand = 0.5 * 0.693147 + 0.4999 * 8.517193
    assert psi([10, 0], [5, 5], epsilon=1e-4) == pytest.approx(by_hand, abs=1e-5)


def test_psi_of_a_shifted_normal_matches_the_closed_form() -> None:
    """N(0, 1) against N(0.5, 1), deciles of the reference: bin shares from the normal CDF."""
    rng = np.random.default_rng(7)
    reference = rng.normal(0.0, 1.0, 400_000)
    current = rng.normal(0.5, 1.0, 400_000)
    edges = quantile_edges(reference, 10)
    cuts = norm.ppf(np.arange(1, 10) / 10)  # the true deciles
    cdf = np.concatenate([[0.0], norm.cdf(cuts - 0.5), [1.0]])
    shifted = np.diff(cdf)
    expected = sum((s - 0.1) * math.log(s / 0.1) for s in shifted)
    measured = psi(bin_counts(reference, edges), bin_counts(current, edges), epsilon=1e-4)
    assert measured == pytest.approx(expected, rel=0.03)
    assert 0.2 < expected < 0.3  # about 0.25: a half-sigma shift is a clear drift


def test_bins_are_right_closed_at_the_reference_quantiles() -> None:
    values = np.arange(1.0, 11.0)  # 1..10
    edges = quantile_edges(values, 5)
    # The 20%, 40%, 60% and 80% points of 1..10, as observed values (no interpolation).
    assert edges.tolist() == [2.0, 4.0, 6.0, 8.0]
    current = np.array([0.0, 2.0, 2.5, 100.0, np.nan, np.nan])
    # (-inf, 2] gets 0 and 2; (2, 4] gets 2.5; (8, inf) gets 100; then 2 missing
    assert bin_counts(current, edges).tolist() == [2, 1, 0, 0, 1, 2]


def test_a_discrete_column_gets_no_duplicate_or_empty_edges() -> None:
    values = np.array([0.0] * 80 + [1.0] * 15 + [5.0] * 5)
    edges = quantile_edges(values, 10)
    assert edges.tolist() == [0.0, 1.0]  # 5 (the maximum) would leave an always-empty bin
    assert bin_counts(values, edges).tolist() == [80, 15, 5, 0]


def test_the_reservoir_is_bounded_uniform_and_independent_of_chunking() -> None:
    values = np.arange(100_000, dtype=np.float64)
    whole = Reservoir(1_000, seed=3)
    whole.add(values)
    chunked = Reservoir(1_000, seed=3)
    for chunk in np.array_split(values, 37):
        chunked.add(chunk)
    assert whole.values.size == chunked.values.size == 1_000
    assert sorted(whole.values) == sorted(chunked.values)
    assert len(set(chunked.values)) == 1_000  # without replacement
    # Uniform: the sample's mean is the population's within a few standard errors.
    assert abs(chunked.values.mean() - 49_999.5) < 4 * 28_868 / math.sqrt(1_000)


def test_the_tests_tell_same_from_different() -> None:
    rng = np.random.default_rng(1)
    same = ks_p_value(rng.normal(size=2_000), rng.normal(size=2_000))
    moved = ks_p_value(rng.normal(size=2_000), rng.normal(0.3, size=2_000))
    assert same is not None and moved is not None
    assert same > 0.01 > 1e-6 > moved
    assert ks_p_value(np.empty(0), np.ones(3)) is None
    assert chi2_p_value(np.array([500, 500, 0]), np.array([250, 250, 0])) == pytest.approx(1.0)
    shifted = chi2_p_value(np.array([500, 500]), np.array([300, 700]))
    assert shifted is not None and shifted < 1e-10
