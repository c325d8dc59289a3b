"""The headline: the policy's metrics, their change and a better/worse verdict."""

from __future__ import annotations

import pytest

from mlgitops.errors import UsageError
from mlgitops.policy import MetricRule
from mlgitops.report.headline import build_headline

AUC = MetricRule(metric="test.auc", better="higher")
LOSS = MetricRule(metric="test.loss", better="lower")


@pytest.mark.parametrize(
    ("rule", "old", "new", "verdict"),
    [
        (AUC, 0.80, 0.82, "better"),
        (AUC, 0.82, 0.80, "worse"),
        (LOSS, 0.40, 0.30, "better"),
        (LOSS, 0.30, 0.40, "worse"),
        (AUC, 0.80, 0.80, "unchanged"),
        (AUC, None, 0.80, "new"),
        (AUC, 0.80, None, "missing"),
    ],
)
def test_verdict_follows_the_direction(
    rule: MetricRule, old: float | None, new: float | None, verdict: str
) -> None:
    full = {"metrics.json": {rule.metric: {"old": old, "new": new}}}

    [line] = build_headline([rule], full)

    assert line["verdict"] == verdict
    assert (line["old"], line["new"], line["better"]) == (old, new, rule.better)
    if old is not None and new is not None:
        assert line["diff"] == pytest.approx(new - old)


def test_file_chooses_between_metric_files() -> None:
    full = {
        "metrics.json": {"acc": {"old": 0.1, "new": 0.2}},
        "eval/extra.yaml": {"acc": {"old": 0.5, "new": 0.4}},
    }
    rule = MetricRule(metric="acc", better="higher", file="eval/extra.yaml")

    [line] = build_headline([rule], full)

    assert (line["path"], line["verdict"]) == ("eval/extra.yaml", "worse")


def test_metric_nowhere_is_missing() -> None:
    [line] = build_headline([AUC], {"metrics.json": {"other": {"old": 1, "new": 1}}})

    assert line == {
        "metric": "test.auc",
        "path": None,
        "old": None,
        "new": None,
        "diff": None,
        "better": "higher",
        "verdict": "missing",
    }


def test_a_metric_in_several_files_needs_file_like_the_gate() -> None:
    full = {
        "a/metrics.json": {"test.auc": {"old": 0.8, "new": 0.9}},
        "b/metrics.json": {"test.auc": {"old": 0.7, "new": 0.6}},
    }
    with pytest.raises(UsageError, match=r"several metric files.*file:"):
        build_headline([AUC], full)
    chosen = MetricRule(metric="test.auc", better="higher", file="b/metrics.json")
    (line,) = build_headline([chosen], full)
    assert (line["path"], line["old"], line["new"]) == ("b/metrics.json", 0.7, 0.6)
