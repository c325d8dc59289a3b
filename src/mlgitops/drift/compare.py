"""The comparison: counts the logs into the reference's bins, then judges by the policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from mlgitops.drift.chunk import Chunk, Values
from mlgitops.drift.policy import DriftPolicy
from mlgitops.drift.reference import MISSING, FeatureSpec, Kind, Reference, level_key
from mlgitops.drift.stats import (
    IntArray,
    Reservoir,
    bin_counts,
    chi2_p_value,
    ks_p_value,
    psi,
)


@dataclass(frozen=True)
class FeatureResult:
    """One column's comparison: the histograms, PSI, the test and the verdict."""

    name: str
    kind: Kind
    labels: list[str]
    reference: IntArray
    current: IntArray
    psi: float
    p_value: float | None
    test: str
    drifted: bool
    unseen: tuple[str, ...] = ()  # current levels the reference never had (the first few)


@dataclass(frozen=True)
class DriftResult:
    """The verdict over every compared column."""

    rows: int
    reference_rows: int
    judged: bool
    retraining_due: bool
    features: tuple[FeatureResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def drifted(self) -> list[str]:
        return [feature.name for feature in self.features if feature.drifted]

    @property
    def verdict(self) -> str:
        if not self.judged:
            return "not enough rows"
        return "retraining due" if self.retraining_due else "no drift"


_UNSEEN_KEPT = 20


@dataclass
class _Numeric:
    spec: FeatureSpec
    sample: Reservoir
    counts: IntArray

    def add(self, values: Values) -> None:
        assert self.spec.edges is not None and not isinstance(values, dict)
        self.counts += bin_counts(values, self.spec.edges)
        self.sample.add(values)


@dataclass
class _Categorical:
    spec: FeatureSpec
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, values: Values) -> None:
        assert isinstance(values, dict)
        # The reader counted raw values; a chunk has few distinct ones to spell.
        for value, count in values.items():
            self.counts[level_key(value)] += count

    def histogram(self) -> tuple[IntArray, tuple[str, ...]]:
        levels = self.spec.levels
        known = [self.counts.get(level, 0) for level in levels]
        unseen = sorted(
            (level for level in self.counts if level not in levels and level != MISSING),
            key=lambda level: -self.counts[level],
        )
        other = sum(self.counts[level] for level in unseen)
        histogram = np.array([*known, self.counts.get(MISSING, 0), other], dtype=np.int64)
        return histogram, tuple(unseen[:_UNSEEN_KEPT])


def _accumulator(spec: FeatureSpec, policy: DriftPolicy, position: int) -> _Numeric | _Categorical:
    if spec.edges is None:
        return _Categorical(spec)
    # Each column its own seed, so the samples are independent of each other.
    sample = Reservoir(policy.sample_size, seed=policy.seed + 1 + position)
    return _Numeric(spec, sample, np.zeros_like(spec.counts))


def compare(
    reference: Reference,
    chunks: Iterable[Chunk],
    policy: DriftPolicy,
) -> DriftResult:
    """Counts every chunk into the reference's bins and judges each column and the whole."""
    specs = list(reference.features)
    accumulators = [_accumulator(spec, policy, i) for i, spec in enumerate(specs)]
    score = (
        _accumulator(reference.score, policy, len(specs)) if reference.score is not None else None
    )
    rows = 0
    for chunk in chunks:
        rows += chunk.rows
        for accumulator, values in zip(accumulators, chunk.columns, strict=True):
            accumulator.add(values)
        if score is not None and chunk.scores is not None:
            score.add(chunk.scores)
    notes = []
    if policy.score is None:
        notes.append("the model's scores were not compared (drift.score is null)")
    elif reference.score is None:
        notes.append(
            f"no score reference: {reference.path} has no {policy.score} column, "
            "so the model's scores were not compared"
        )
    if rows < policy.min_rows:
        notes.append(f"not enough rows: {rows} logged, drift.min_rows is {policy.min_rows}")
        return DriftResult(rows, reference.rows, False, False, (), tuple(notes))
    results = [_judge(accumulator, policy) for accumulator in accumulators]
    if score is not None:
        results.append(_judge(score, policy))
    inputs_drifted = sum(1 for r in results if r.drifted and r.kind != "score")
    score_drifted = any(r.drifted for r in results if r.kind == "score")
    due = inputs_drifted >= policy.min_drifted_features or (
        policy.score_drift_retrains and score_drifted
    )
    return DriftResult(rows, reference.rows, True, due, tuple(results), tuple(notes))


def _judge(accumulator: _Numeric | _Categorical, policy: DriftPolicy) -> FeatureResult:
    spec = accumulator.spec
    reference_counts = spec.counts
    unseen: tuple[str, ...] = ()
    if isinstance(accumulator, _Numeric):
        current = accumulator.counts
        assert spec.sample is not None
        p_value = ks_p_value(spec.sample, accumulator.sample.values)
        test = "KS"
        if reference_counts[-1] or current[-1]:
            # KS sees known values only; a change in the share of nulls needs its own test.
            p_value, test = _with_missing_test(p_value, reference_counts, current), "KS+chi-square"
    else:
        current, unseen = accumulator.histogram()
        p_value = chi2_p_value(reference_counts, current)
        test = "chi-square"
    value = psi(reference_counts, current, epsilon=policy.epsilon)
    # PSI decides; the test must agree, so that a small sample's noisy PSI alone is no alarm.
    drifted = value >= policy.psi_threshold and (p_value is None or p_value < policy.p_value)
    return FeatureResult(
        spec.name,
        spec.kind,
        spec.labels,
        reference_counts,
        current,
        value,
        p_value,
        test,
        drifted,
        unseen,
    )


def _with_missing_test(p_ks: float | None, reference: IntArray, current: IntArray) -> float | None:
    """KS's p and a chi-square p of known against missing counts, Bonferroni-combined."""
    known_missing = [
        np.array([reference[:-1].sum(), reference[-1]]),
        np.array([current[:-1].sum(), current[-1]]),
    ]
    p_missing = chi2_p_value(*known_missing)
    found = [p for p in (p_ks, p_missing) if p is not None]
    return min(1.0, len(found) * min(found)) if found else None
