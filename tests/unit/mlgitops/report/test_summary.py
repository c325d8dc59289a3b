"""The headline a reviewer reads in ten seconds, from report.json with `evidence`: order, the
interval and label of each metric, the train-test gap flag, slices, full metrics folded."""

from __future__ import annotations

from typing import Any

from mlgitops.report.markdown import render_markdown
from tests.standins.evidence import evidence, record
from tests.standins.report_dir import report_data


def _report(train_auc: tuple[float, float] = (0.9008, 0.9329)) -> dict[str, Any]:
    data = report_data(roc_auc=(0.843236, 0.837126), log_loss=(0.428137, 0.433))
    diff = data["metrics"]["metrics.json"]
    diff["train.roc_auc"] = {"old": train_auc[0], "new": train_auc[1]}
    diff["train.log_loss"] = {"old": 0.3464, "new": 0.3402}
    diff["test.accuracy"] = {"old": 0.7987, "new": 0.8012}
    data["evidence"] = evidence()
    data["evidence"]["metrics"]["test.accuracy"] = record(0.7987, 0.8012, (-0.004, 0.009))
    return data


def _rows(markdown: str) -> list[list[str]]:
    headline = markdown.split("#### ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in headline.splitlines()
        if line.startswith("| ") and "---" not in line
    ]


def test_gated_first_then_test_then_train_with_interval_and_label() -> None:
    rows = _rows(render_markdown(_report()))
    assert rows[0] == ["Metric", "Base", "Head", "Change", "95% CI", "Label"]
    assert [row[0] for row in rows[1:]] == [
        "**test.roc_auc**",
        "**test.log_loss**",
        "test.accuracy",
        "train.roc_auc",
        "train.log_loss",
    ]
    assert rows[1][1:] == ["0.84324", "0.83713", "−0.00611", "−0.0101 to −0.0023", "❌ worse"]
    assert rows[3][4:] == ["−0.004 to +0.009", "≈ within noise"]
    assert rows[4][4:] == ["-", "✅ better (no interval)"]  # train: no per-row predictions


def test_a_widening_gap_is_flagged_as_overfitting_and_a_steady_one_is_not() -> None:
    flagged = render_markdown(_report(train_auc=(0.9008, 0.9329)))
    assert "**train up, test down: overfitting?**" in flagged
    assert "roc_auc by 0.03821 (train +0.0321, test −0.00611)" in flagged
    assert "more than report.gap_widening 0.02" in flagged

    steady = render_markdown(_report(train_auc=(0.9008, 0.8960)))  # train fell with test
    assert "- Train–test gap (train better by): roc_auc 0.05756 → 0.05887" in steady
    assert "overfitting" not in steady and "⚠️ **the" not in steady
    assert "overfitting" not in render_markdown(_report(), gap_widening=0.05)


def test_slices_worst_slice_and_the_intervals_source_are_said() -> None:
    markdown = render_markdown(_report())
    headline = markdown.split("#### ", 1)[0]
    assert "- Worst-moving slice: `contract` = Month-to-month: test.roc_auc −0.015 (❌ worse)" in (
        headline
    )
    assert "- Intervals: Base and head scored the same 1,376 rows" in headline
    slices = markdown.split("#### Slices", 1)[1].split("####", 1)[0]
    assert (
        "| `contract` = Month-to-month | 760 | test.roc_auc | 0.7 | 0.685 | −0.015 | "
        "−0.025 to −0.006 | ❌ worse |"
    ) in slices
    assert "Smallest slice measured: 290 rows." in slices
    assert "Too small to measure, folded: `contract` = Two year (42 rows)." in slices


def test_full_metrics_are_folded_and_undeclared_predictions_say_what_to_declare() -> None:
    data = _report()
    data["evidence"] = {
        "status": "undeclared",
        "note": "declare report.predictions in params.yaml to get intervals",
        "rows": {"base": None, "head": None, "shared": None},
        "bootstrap": {"resamples": 2000, "seed": 0, "confidence": 0.95},
        "metrics": {},
        "slices": [],
        "folded": [],
        "smallest_slice_rows": None,
        "worst_slice": None,
    }
    markdown = render_markdown(data)
    assert "- ℹ️ declare report.predictions in params.yaml to get intervals" in markdown
    assert "#### Slices" not in markdown
    full = markdown.split("#### Full metrics", 1)[1].split("####", 1)[0]
    assert full.startswith("\n\n<details><summary>5 metrics changed")
    assert full.rstrip().endswith("</details>")
