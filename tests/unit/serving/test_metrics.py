"""observe_all gives the histogram observe() gives, value by value."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, Histogram

from mlgitops.serving.metrics import observe_all

BUCKETS = [i / 10 for i in range(1, 11)]  # the example service's score buckets


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (sample.name, sample.labels.get("le", "")): sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    }


def test_observe_all_equals_observing_one_by_one() -> None:
    rng = np.random.default_rng(7)
    # Values on the bounds too: a value equal to a bound belongs to that bucket (le).
    values = np.concatenate([rng.random(5_000), np.array(BUCKETS), np.array([0.0, 0.55])])
    one_by_one, in_bulk = CollectorRegistry(), CollectorRegistry()
    single = Histogram("scores", "s", buckets=BUCKETS, registry=one_by_one)
    bulk = Histogram("scores", "s", buckets=BUCKETS, registry=in_bulk)

    for value in values.tolist():
        single.observe(value)
    observe_all(bulk, values)

    expected, got = _samples(one_by_one), _samples(in_bulk)
    expected_sum, got_sum = expected.pop(("scores_sum", "")), got.pop(("scores_sum", ""))
    assert got == expected  # every bucket and the count, exactly
    assert abs(got_sum - expected_sum) < 1e-6  # a sum in another order: rounding only
    assert got[("scores_count", "")] == len(values)


def test_an_empty_batch_changes_nothing() -> None:
    registry = CollectorRegistry()
    histogram = Histogram("scores", "s", buckets=BUCKETS, registry=registry)
    observe_all(histogram, np.array([], dtype=np.float64))
    assert all(value == 0 for value in _samples(registry).values())
