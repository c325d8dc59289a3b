"""Report statistics against implementations we did not write.

- Every resampled value equals scikit-learn's metric on the rows that resample draws, and the
  paired and unpaired intervals equal scipy.stats.bootstrap's percentile intervals on the same
  draws (same generator, same seed).
- DeLong's test reproduces the published numbers of R's pROC on its `aSAH` data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats
from sklearn import metrics as sk

from mlgitops.errors import UsageError
from mlgitops.report.delong import delong_test
from mlgitops.report.measure import resample_metrics
from mlgitops.report.metrics import DIRECTION
from mlgitops.report.pairing import pair_rows
from mlgitops.report.resample import count_blocks
from mlgitops.report.stats import (
    Bootstrap,
    Interval,
    MetricChange,
    paired_bootstrap,
    unpaired_bootstrap,
    verdict,
)

Floats = NDArray[np.float64]
CLASSIFIER = [name for name in DIRECTION if name not in ("rmse", "mae")]
THRESHOLD = 0.5


def sklearn_metric(name: str, label: Floats, score: Floats) -> float:
    """The reference: scikit-learn on the rows given, written out here on its own."""
    flagged = score >= THRESHOLD
    reference: dict[str, Callable[[], Any]] = {
        "roc_auc": lambda: sk.roc_auc_score(label, score),
        "average_precision": lambda: sk.average_precision_score(label, score),
        "log_loss": lambda: sk.log_loss(label, score, labels=[0, 1]),
        "brier": lambda: sk.brier_score_loss(label, score),
        "accuracy": lambda: sk.accuracy_score(label, flagged),
        "precision": lambda: sk.precision_score(label, flagged, zero_division=0.0),
        "recall": lambda: sk.recall_score(label, flagged, zero_division=0.0),
        "f1": lambda: sk.f1_score(label, flagged, zero_division=0.0),
        "rmse": lambda: sk.root_mean_squared_error(label, score),
        "mae": lambda: sk.mean_absolute_error(label, score),
    }
    return float(reference[name]())


def scored_rows(rows: int, seed: int, *, decimals: int | None = None) -> tuple[Floats, Floats]:
    """0/1 labels and informative probabilities; rounding makes ties on purpose."""
    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.3).astype(np.float64)
    score = 1 / (1 + np.exp(-(2 * label - 1 + rng.normal(0, 1.2, rows))))
    return label, score if decimals is None else np.round(score, decimals)


def by_metric(changes: list[MetricChange]) -> dict[str, MetricChange]:
    return {change.metric: change for change in changes}


@pytest.mark.parametrize("scheme", ["multinomial", "poisson"])
def test_each_resampled_value_is_sklearns_metric_on_the_rows_drawn(scheme: Any) -> None:
    label, base = scored_rows(150, seed=1, decimals=2)  # ties within and across classes
    noisy = np.clip(base + np.random.default_rng(2).normal(0, 0.1, 150), 0, 1)
    head = np.round(noisy, 1).astype(np.float64)
    blocks = list(count_blocks(np.random.default_rng(3), 150, 12, scheme=scheme, block_bytes=1))
    values = resample_metrics(
        label, [base, head], list(DIRECTION), threshold=THRESHOLD, counts=blocks
    )
    counts = np.concatenate(blocks)
    assert counts.shape == (12, 150)
    for resample, row_counts in enumerate(counts):
        drawn = np.repeat(np.arange(150), row_counts)
        for side, score in enumerate([base, head]):
            for i, name in enumerate(DIRECTION):
                expected = sklearn_metric(name, label[drawn], score[drawn])
                assert values[side, i, resample] == pytest.approx(expected, abs=1e-12), name


@pytest.mark.parametrize("scheme", ["multinomial", "poisson"])
def test_the_values_on_all_rows_are_sklearns(scheme: Any) -> None:
    label, base = scored_rows(200, seed=26, decimals=2)
    head = np.clip(base + np.random.default_rng(27).normal(0, 0.1, 200), 0, 1)
    options = Bootstrap(resamples=20, scheme=scheme)
    for change in paired_bootstrap(label, base, head, metrics=CLASSIFIER, bootstrap=options):
        assert change.base == pytest.approx(sklearn_metric(change.metric, label, base), abs=1e-12)
        assert change.head == pytest.approx(sklearn_metric(change.metric, label, head), abs=1e-12)
    target = np.random.default_rng(28).normal(5, 2, 200)
    unpaired = unpaired_bootstrap(
        (target, target + 1),
        (target[:150], target[:150] - 0.5),
        metrics=["rmse", "mae"],
        bootstrap=options,
    )
    assert [v for c in unpaired for v in (c.base, c.head)] == pytest.approx([1, 0.5, 1, 0.5])


def test_regression_metrics_take_any_numeric_target() -> None:
    rng = np.random.default_rng(4)
    target = rng.normal(10, 3, 200)
    base, head = target + rng.normal(0, 1, 200), target + rng.normal(0, 2, 200)
    blocks = list(count_blocks(np.random.default_rng(5), 200, 8, scheme="multinomial"))
    values = resample_metrics(
        target, [base, head], ["rmse", "mae"], threshold=THRESHOLD, counts=blocks
    )
    drawn = np.random.default_rng(5).integers(0, 200, (8, 200))  # the same draws, as indices
    for resample, rows in enumerate(drawn):
        for i, name in enumerate(["rmse", "mae"]):
            expected = sklearn_metric(name, target[rows], head[rows])
            assert values[1, i, resample] == pytest.approx(expected, abs=1e-12)
    changes = by_metric(paired_bootstrap(target, base, head, metrics=["rmse", "mae"]))
    assert changes["rmse"].verdict == "worse" and changes["mae"].verdict == "worse"


@pytest.mark.parametrize("name", ["roc_auc", "average_precision", "log_loss", "f1", "rmse"])
def test_paired_interval_is_scipys_percentile_bootstrap_on_the_same_draws(name: str) -> None:
    label, base = scored_rows(120, seed=6)
    head = np.clip(base + np.random.default_rng(7).normal(0, 0.15, 120), 0.001, 0.999)

    def difference(y: Floats, b: Floats, h: Floats) -> float:
        return sklearn_metric(name, y, h) - sklearn_metric(name, y, b)

    expected = stats.bootstrap(
        (label, base, head),
        difference,
        paired=True,
        vectorized=False,
        n_resamples=300,
        method="percentile",
        rng=np.random.default_rng(8),
    ).confidence_interval
    ours = by_metric(
        paired_bootstrap(
            label,
            base,
            head,
            metrics=[name],
            bootstrap=Bootstrap(resamples=300, seed=8, scheme="multinomial"),
        )
    )[name]
    assert ours.delta_interval.low == pytest.approx(expected.low, abs=1e-12)
    assert ours.delta_interval.high == pytest.approx(expected.high, abs=1e-12)
    assert ours.delta == pytest.approx(difference(label, base, head), abs=1e-12)
    assert ours.paired and ours.base_rows == ours.head_rows == 120 and ours.resamples == 300


def test_unpaired_intervals_are_scipys_two_sample_bootstrap_on_the_same_draws() -> None:
    base = scored_rows(90, seed=9)
    head = scored_rows(130, seed=10)

    def difference(base_rows: NDArray[np.intp], head_rows: NDArray[np.intp]) -> float:
        return sklearn_metric("roc_auc", head[0][head_rows], head[1][head_rows]) - sklearn_metric(
            "roc_auc", base[0][base_rows], base[1][base_rows]
        )

    expected = stats.bootstrap(
        (np.arange(90), np.arange(130)),
        difference,
        paired=False,
        vectorized=False,
        n_resamples=300,
        method="percentile",
        rng=np.random.default_rng(11),
    ).confidence_interval
    (ours,) = unpaired_bootstrap(
        base,
        head,
        metrics=["roc_auc"],
        bootstrap=Bootstrap(resamples=300, seed=11, scheme="multinomial"),
    )
    assert (ours.delta_interval.low, ours.delta_interval.high) == pytest.approx(
        (expected.low, expected.high), abs=1e-12
    )
    assert not ours.paired and (ours.base_rows, ours.head_rows) == (90, 130)
    assert ours.base_interval.low < ours.base < ours.base_interval.high


def interval_ends(changes: list[MetricChange]) -> list[float]:
    return [end for c in changes for end in (c.delta_interval.low, c.delta_interval.high)]


@pytest.mark.parametrize("scheme", ["multinomial", "poisson"])
def test_a_fixed_seed_gives_identical_results(scheme: Any) -> None:
    label, base = scored_rows(3000, seed=12)
    head = np.clip(base + np.random.default_rng(13).normal(0, 0.05, 3000), 0, 1)

    def run(seed: int, block_bytes: int, workers: int) -> list[MetricChange]:
        options = Bootstrap(seed=seed, scheme=scheme, block_bytes=block_bytes, workers=workers)
        return paired_bootstrap(label, base, head, metrics=CLASSIFIER, bootstrap=options)

    first = run(14, 2**20, 1)
    assert run(14, 2**20, 1) == first  # bit for bit
    assert run(14, 2**20, 2) == first  # threads measure blocks; they do not change them
    # Other blocks draw the same resamples; only the matrix product's rounding may differ.
    assert interval_ends(run(14, 2**26, 1)) == pytest.approx(interval_ends(first), abs=1e-12)
    assert interval_ends(run(15, 2**20, 1)) != pytest.approx(interval_ends(first), abs=1e-6)


def test_the_two_schemes_agree_on_the_interval() -> None:
    label, base = scored_rows(5000, seed=16)
    head = np.clip(base + np.random.default_rng(17).normal(0, 0.1, 5000), 0, 1)
    widths = {}
    for scheme in ("multinomial", "poisson"):
        changes = by_metric(
            paired_bootstrap(
                label,
                base,
                head,
                metrics=["roc_auc", "log_loss"],
                bootstrap=Bootstrap(seed=18, scheme=scheme),
            )
        )
        widths[scheme] = [c.delta_interval.high - c.delta_interval.low for c in changes.values()]
    assert widths["poisson"] == pytest.approx(widths["multinomial"], rel=0.1)


def test_same_scores_plus_tiny_noise_are_within_noise() -> None:
    label, base = scored_rows(1400, seed=19)
    head = np.clip(base + np.random.default_rng(20).normal(0, 1e-4, 1400), 0, 1)
    ranked_or_thresholded = [n for n in CLASSIFIER if n not in ("log_loss", "brier")]
    changes = paired_bootstrap(label, base, head, metrics=ranked_or_thresholded)
    assert {change.verdict for change in changes} == {"within noise"}
    auc = by_metric(changes)["roc_auc"]
    assert auc.delta_interval.low <= 0 <= auc.delta_interval.high
    assert auc.delta_interval.high - auc.delta_interval.low < 0.001  # pairing cancels the rest


def test_pure_noise_is_within_noise_about_95_times_in_100() -> None:
    """A 95% interval misses 0 for about 1 change in 20 that is pure noise: log loss and Brier
    see every tiny score change, so a single noisy head can be 'real'; over many it is rare."""
    label, base = scored_rows(400, seed=25)
    verdicts: dict[str, list[str]] = {"roc_auc": [], "log_loss": [], "brier": []}
    for draw in range(60):
        head = np.clip(base + np.random.default_rng(100 + draw).normal(0, 1e-3, 400), 0, 1)
        options = Bootstrap(resamples=400, seed=draw)
        for change in paired_bootstrap(
            label, base, head, metrics=list(verdicts), bootstrap=options
        ):
            verdicts[change.metric].append(change.verdict)
    for name, seen in verdicts.items():
        assert seen.count("within noise") / len(seen) >= 0.9, name


def test_a_large_degradation_is_worse_and_a_large_gain_better() -> None:
    label, good = scored_rows(1400, seed=21)
    poor = np.clip(0.5 * good + 0.5 * np.random.default_rng(22).random(1400), 0, 1)
    ranking = ["roc_auc", "average_precision", "log_loss", "brier"]
    worse = by_metric(paired_bootstrap(label, good, poor, metrics=ranking))
    assert {c.verdict for c in worse.values()} == {"worse"}
    assert worse["roc_auc"].delta_interval.high < 0 < worse["log_loss"].delta_interval.low
    better = by_metric(paired_bootstrap(label, poor, good, metrics=ranking))
    assert {c.verdict for c in better.values()} == {"better"}


@pytest.mark.parametrize(
    ("better", "low", "high", "expected"),
    [
        ("higher", 0.001, 0.01, "better"),
        ("higher", -0.01, -0.001, "worse"),
        ("higher", -0.01, 0.01, "within noise"),
        ("lower", 0.001, 0.01, "worse"),
        ("lower", -0.01, -0.001, "better"),
        ("lower", 0.0, 0.01, "within noise"),  # a bound on 0 does not exclude it
    ],
)
def test_the_verdict_follows_the_metrics_direction(
    better: Any, low: float, high: float, expected: str
) -> None:
    assert verdict(better, Interval(low, high)) == expected


# pROC's `aSAH` data (Turck et al. 2010, Intensive Care Medicine 36(1):107-115; R package pROC):
# 113 patients, outcome Good/Poor, the WFNS score (1-5) and S100B (µg/l), one row per patient as
# outcome,wfns,s100b.
ASAH = """
G,1,0.13 G,1,0.14 G,1,0.1 G,1,0.04 P,3,0.13 P,2,0.1 G,5,0.47 P,4,0.16 G,1,0.18 G,2,0.1 P,5,0.12
G,2,0.1 P,5,0.44 P,5,0.71 G,1,0.04 G,2,0.08 P,5,0.49 G,2,0.04 P,2,0.07 P,5,0.33 P,2,0.09
G,1,0.09 P,1,0.07 G,1,0.11 G,1,0.07 G,2,0.17 G,1,0.07 G,2,0.11 G,1,0.13 G,1,0.19 G,3,0.05
G,4,0.16 P,2,0.41 G,1,0.14 G,4,0.34 P,5,0.35 P,4,0.48 G,1,0.09 P,4,0.96 P,2,0.25 G,5,0.5
G,5,0.46 G,1,0.16 G,1,0.07 G,2,0.43 G,4,0.45 G,1,0.11 G,1,0.08 G,2,0.09 P,5,0.86 P,5,0.52
G,2,0.08 G,1,0.06 G,2,0.13 P,5,2.07 G,1,0.1 G,2,0.14 G,2,0.15 P,2,0.07 G,1,0.06 P,5,0.77
G,1,0.05 G,1,0.09 P,2,0.3 P,5,0.03 P,2,0.09 G,1,0.04 P,4,0.23 P,5,0.7 G,2,0.09 P,4,0.27 P,4,0.71
P,1,0.08 P,4,0.26 G,1,0.08 G,2,0.16 G,1,0.09 P,4,0.13 P,2,0.1 G,1,0.08 P,2,0.11 G,3,0.33
G,2,0.11 G,4,0.28 G,2,0.07 G,1,0.1 G,4,0.32 P,5,0.22 G,1,0.07 G,1,0.05 G,5,0.24 G,4,0.38 G,2,0.1
G,2,0.15 G,1,0.08 G,1,0.14 G,1,0.1 G,3,0.07 G,1,0.04 G,2,0.19 P,5,0.56 P,2,0.14 P,2,0.58
P,5,0.32 P,5,0.82 P,5,0.74 G,2,0.15 G,4,0.47 G,4,0.17 P,5,0.44 G,1,0.15 G,1,0.5 G,1,0.48
"""


def asah() -> tuple[Floats, Floats, Floats]:
    rows = [row.split(",") for row in ASAH.split()]
    outcome = np.array([row[0] == "P" for row in rows], dtype=np.float64)
    wfns = np.array([float(row[1]) for row in rows])
    s100b = np.array([float(row[2]) for row in rows])
    return outcome, wfns, s100b


def test_delong_reproduces_proc_on_asah() -> None:
    """Expected values from pROC's own tests (github.com/xrobin/pROC, tests/testthat):
    test-roc.test.R `roc.test(r.wfns, r.s100b)`: Z 2.20898359144091, p 0.0271757822291882,
    95% CI of the AUC difference 0.0104061769564846 to 0.174214419249478; test-var.R: var(r.wfns)
    0.00146991470882363, var(r.s100b) 0.00266868245717244; test-cov.R: cov(r.s100b, r.wfns)
    0.00119615567376754; print_output/r.wfns and r.s100b: 72 controls, 41 cases, AUC 0.8237 (WFNS)
    and 0.7314 (S100B)."""
    outcome, wfns, s100b = asah()
    assert (len(outcome), int(outcome.sum())) == (113, 41)  # pROC: 72 controls, 41 cases
    result = delong_test(outcome, s100b, wfns)  # base S100B, head WFNS: roc.test(wfns, s100b)
    assert result.z == pytest.approx(2.20898359144091, rel=1e-9)
    assert result.p_value == pytest.approx(0.0271757822291882, rel=1e-9)
    assert result.delta_low == pytest.approx(0.0104061769564846, rel=1e-9)
    assert result.delta_high == pytest.approx(0.174214419249478, rel=1e-9)
    assert result.head_variance == pytest.approx(0.00146991470882363, rel=1e-9)
    assert result.base_variance == pytest.approx(0.00266868245717244, rel=1e-9)
    assert result.covariance == pytest.approx(0.00119615567376754, rel=1e-9)
    assert (result.head_auc, result.base_auc) == pytest.approx((0.8237, 0.7314), abs=5e-5)
    swapped = delong_test(outcome, wfns, s100b)
    assert (swapped.z, swapped.p_value) == pytest.approx((-result.z, result.p_value))


def test_delong_of_a_model_with_itself_is_no_difference() -> None:
    outcome, wfns, _ = asah()
    result = delong_test(outcome, wfns, wfns)  # pROC: Z 0, p 1 for identical curves
    assert (result.z, result.p_value) == (0.0, 1.0)


def test_delong_agrees_with_the_paired_bootstrap_on_the_auc_difference() -> None:
    outcome, wfns, s100b = asah()
    (boot,) = paired_bootstrap(
        outcome, s100b, wfns, metrics=["roc_auc"], bootstrap=Bootstrap(resamples=2000, seed=23)
    )
    delong = delong_test(outcome, s100b, wfns)
    assert boot.delta == pytest.approx(delong.head_auc - delong.base_auc, abs=1e-12)
    # two methods, one question: the interval ends agree to the bootstrap's own noise
    assert boot.delta_interval.low == pytest.approx(delong.delta_low, abs=0.02)
    assert boot.delta_interval.high == pytest.approx(delong.delta_high, abs=0.02)


def test_rows_pair_on_id_whatever_their_order() -> None:
    pairing = pair_rows(["a", "b", "c"], [1, 0, 1], ["c", "a", "b"], [1, 1, 0])
    assert pairing.same_rows
    assert list(pairing.base_index) == [0, 1, 2] and list(pairing.head_index) == [1, 2, 0]
    assert not pair_rows(["a", "b"], [1, 0], ["a", "b"], [1, 1]).same_rows  # relabelled
    assert not pair_rows(["a", "b"], [1, 0], ["a", "b", "c"], [1, 0, 1]).same_rows  # new rows
    with pytest.raises(UsageError, match="repeat ids"):
        pair_rows(["a", "a"], [1, 1], ["a"], [1])


def test_inputs_the_statistics_cannot_use_are_refused() -> None:
    label, score = scored_rows(50, seed=24)
    with pytest.raises(UsageError, match="no statistics for metric"):
        paired_bootstrap(label, score, score, metrics=["lift"])
    with pytest.raises(UsageError, match="need labels of 0 and 1"):
        paired_bootstrap(label * 3, score, score, metrics=["accuracy"])
    with pytest.raises(UsageError, match="rows of both labels"):
        paired_bootstrap(np.ones(50), score, score, metrics=["roc_auc"])
    with pytest.raises(UsageError, match="differ in number"):
        paired_bootstrap(label, score, score[:-1], metrics=["brier"])
