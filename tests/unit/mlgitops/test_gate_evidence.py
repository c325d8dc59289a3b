"""The gate decides on evidence: a rule's max_worsening held against the change's interval.

Reports are report.json with `evidence` of the shape `mlgitops report` writes
(tests/standins/evidence.py); rules are parsed from YAML as params.yaml's `gate` is.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mlgitops.errors import UsageError
from mlgitops.gate import evaluate_gate, render_markdown, verdict_line
from mlgitops.policy import MetricRule
from mlgitops.settings import GatePolicy, parse_settings
from tests.standins.evidence import evidence, record
from tests.standins.report_dir import report_data

BASE_AUC = 0.843236


def _rules(decide_on: str | None = None) -> list[MetricRule]:
    rule: dict[str, Any] = {"metric": "test.roc_auc", "better": "higher", "max_worsening": 0.01}
    if decide_on is not None:
        rule["decide_on"] = decide_on
    text = yaml.safe_dump({"gate": [rule]})
    return parse_settings(
        GatePolicy, yaml.safe_load(text), source="params.yaml", section="gate"
    ).root


def _report(head: float, ci: tuple[float, float]) -> dict[str, Any]:
    data = report_data(roc_auc=(BASE_AUC, head))
    data["evidence"] = evidence(roc_auc=record(BASE_AUC, head, ci))
    return data


NOISE = _report(BASE_AUC - 0.0012, (-0.0061, 0.0037))  # another seed: the interval holds 0
SMALL_REAL = _report(BASE_AUC - 0.0061, (-0.0101, -0.0023))  # the num_leaves 31
DEGRADED = _report(BASE_AUC - 0.0521, (-0.0712, -0.0334))  # most features dropped


def _decide(report: dict[str, Any], decide_on: str | None = None) -> tuple[bool, str, str]:
    result = evaluate_gate(report, _rules(decide_on), source="params.yaml")
    return result.passed, verdict_line(result), render_markdown(result)


def test_the_default_is_non_inferiority() -> None:
    (rule,) = _rules()
    assert rule.decide_on == "non_inferiority"


@pytest.mark.parametrize("decide_on", ["non_inferiority", "clear_harm"])
def test_noise_passes_and_a_real_degradation_fails_a_confidence_rule(decide_on: str) -> None:
    passed, line, _ = _decide(NOISE, decide_on)
    assert passed, line
    passed, line, markdown = _decide(DEGRADED, decide_on)
    assert not passed
    assert line == (
        "❌ **Gate failed**: test.roc_auc −0.052 (95% CI −0.071 to −0.033) is beyond the "
        "allowed −0.010, all of its interval"
    )
    assert "dropped by 0.0521" in markdown and "95% CI of the change -0.0712 to -0.0334" in markdown


def test_the_modes_differ_where_the_interval_straddles_the_allowance() -> None:
    # -0.0061 with its worse end at -0.0101: not shown within 0.01, nor clearly beyond it.
    passed, line, markdown = _decide(SMALL_REAL, "non_inferiority")
    assert not passed
    assert line == (
        "❌ **Gate failed**: test.roc_auc −0.0061 (95% CI −0.0101 to −0.0023) is not shown "
        "within the allowed −0.0100: its interval reaches beyond it"
    )
    assert "| worsens <= 0.01 (non-inferiority) | ❌ **fail** |" in markdown
    assert "evaluate on more rows" in markdown

    passed, line, _ = _decide(SMALL_REAL, "clear_harm")
    assert passed
    assert line == (
        "✅ **Gate passed**: test.roc_auc −0.0061 (95% CI −0.0101 to −0.0023) is not clearly "
        "beyond the allowed −0.0100: its interval reaches within it"
    )
    passed, line, _ = _decide(SMALL_REAL, "point")  # the interval shown, the point decides
    assert passed
    assert line == (
        "✅ **Gate passed**: test.roc_auc −0.0061 (95% CI −0.0101 to −0.0023) is within the "
        "allowed −0.0100 (decided on the point)"
    )


def test_a_pass_names_the_rule_with_its_interval() -> None:
    report = _report(BASE_AUC - 0.0061, (-0.0098, -0.0023))
    passed, line, markdown = _decide(report)
    assert passed
    assert line == (
        "✅ **Gate passed**: test.roc_auc −0.0061 (95% CI −0.0098 to −0.0023) is within the "
        "allowed −0.0100, all of its interval"
    )
    assert markdown.startswith(line + "\n\n#### Quality gate: passed ✅")
    assert "| 95% CI |" in markdown
    assert "| -0.0061 | -0.0098 to -0.0023 | worsens <= 0.01 (non-inferiority) | ✅ pass |" in (
        markdown
    )


@pytest.mark.parametrize(
    ("evidence_of", "why"),
    [
        (None, "the report has no evidence"),
        ("undeclared", "the report has none (declare report.predictions"),
        ("no-record", "the report's evidence has no interval for test.roc_auc"),
    ],
)
def test_without_an_interval_the_rule_falls_back_to_the_point_in_one_line(
    evidence_of: str | None, why: str
) -> None:
    report = report_data(roc_auc=(BASE_AUC, BASE_AUC - 0.012))  # 0.012 worse: point fails
    if evidence_of == "undeclared":
        report["evidence"] = evidence(status="undeclared", slices=False) | {
            "note": "declare report.predictions in params.yaml to get intervals",
            "metrics": {},
        }
    elif evidence_of == "no-record":
        report["evidence"] = evidence(slices=False)
        del report["evidence"]["metrics"]["test.roc_auc"]
    passed, line, markdown = _decide(report)
    assert not passed
    assert line == (
        "❌ **Gate failed**: test.roc_auc −0.012 is beyond the allowed −0.010 (decided on the "
        "point: the report has no interval)"
    )
    (note,) = [text for text in markdown.splitlines() if text.startswith("> ℹ️ ")]
    assert note.startswith(
        "> ℹ️ test.roc_auc: decide_on non_inferiority needs the change's interval, and " + why
    )
    assert note.endswith("; decided on the point")
    assert "| worsens <= 0.01 | ❌ **fail** |" in markdown  # the point's limit


def test_an_interval_end_next_to_the_allowance_shows_the_digits_that_tell_them_apart() -> None:
    # -0.0101 printed as -0.010 beside "the allowed -0.010" would contradict "not within".
    _, line, _ = _decide(_report(BASE_AUC - 0.0061, (-0.01004, -0.0023)))
    assert "(95% CI −0.01004 to −0.00230) is not shown within the allowed −0.01000" in line
    _, line, _ = _decide(DEGRADED)  # far from the allowance: two significant digits are enough
    assert "(95% CI −0.071 to −0.033)" in line


def test_a_lower_is_better_rule_reads_the_interval_the_other_way() -> None:
    report = report_data(log_loss=(0.428137, 0.433))
    report["evidence"] = evidence(log_loss=record(0.428137, 0.433, (0.011, 0.024), better="lower"))
    rule = {"metric": "test.log_loss", "better": "lower", "max_worsening": 0.02}
    for decide_on, passes in (("non_inferiority", False), ("clear_harm", True)):
        rules = parse_settings(
            GatePolicy, {"gate": [rule | {"decide_on": decide_on}]}, source="p", section="gate"
        ).root
        result = evaluate_gate(report, rules, source="p")
        assert result.passed is passes, verdict_line(result)
        assert "(95% CI +0.011 to +0.024)" in verdict_line(result)
        assert "the allowed +0.020" in verdict_line(result)


def test_an_unknown_mode_is_refused_with_the_choices() -> None:
    from mlgitops.errors import UsageError

    with pytest.raises(UsageError, match=r"gate\[0\]\.decide_on is 'interval'; expected"):
        _rules("interval")


def _slice_rules(value: str, **limits: Any) -> list[MetricRule]:
    rule = {
        "metric": "test.roc_auc",
        "slice": {"column": "contract", "value": value},
        "better": "higher",
        **limits,
    }
    text = yaml.safe_dump({"gate": [rule]})
    return parse_settings(
        GatePolicy, yaml.safe_load(text), source="params.yaml", section="gate"
    ).root


def test_a_slice_rule_is_decided_on_that_slices_interval() -> None:
    # The stand-in's Month-to-month slice: 0.7 -> 0.685, 95% CI -0.025 to -0.006.
    report = _report(BASE_AUC - 0.0061, (-0.0098, -0.0023))
    result = evaluate_gate(
        report, _slice_rules("Month-to-month", max_worsening=0.02), source="params.yaml"
    )
    assert not result.passed  # the worse end, -0.025, is beyond 0.02
    assert verdict_line(result) == (
        "❌ **Gate failed**: test.roc_auc (contract = Month-to-month) −0.015 (95% CI −0.025 to "
        "−0.006) is not shown within the allowed −0.020: its interval reaches beyond it"
    )
    result = evaluate_gate(
        report, _slice_rules("One year", max_worsening=0.02, at_least=0.65), source="params.yaml"
    )
    assert result.passed, verdict_line(result)
    assert [c.subject for c in result.checks[1:]] == ["test.roc_auc (contract = One year)"] * 2
    assert [c.new for c in result.checks[1:]] == [0.702, 0.702]  # the slice's head, not the whole


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Two year", "slice contract = Two year is folded: 42 rows, under report.min_slice_rows"),
        (
            "Three year",
            "slice contract = Three year is not in the report (slice columns: contract)",
        ),
    ],
)
def test_a_slice_the_report_did_not_measure_fails_saying_why(value: str, why: str) -> None:
    report = _report(BASE_AUC - 0.0061, (-0.0098, -0.0023))
    result = evaluate_gate(report, _slice_rules(value, max_worsening=0.02), source="params.yaml")
    assert not result.passed
    (broken,) = result.broken
    assert why in broken.reason, broken.reason


def test_a_slice_rule_without_evidence_fails_rather_than_passing_unmeasured() -> None:
    report = report_data(roc_auc=(BASE_AUC, BASE_AUC))  # no evidence at all
    result = evaluate_gate(
        report, _slice_rules("One year", max_worsening=0.02), source="params.yaml"
    )
    (broken,) = result.broken
    assert "the report has no per-row evidence" in broken.reason, broken.reason


def test_a_misspelt_slice_key_is_refused_with_the_nearest_name() -> None:
    text = yaml.safe_dump(
        {"gate": [{"metric": "m", "better": "higher", "slice": {"colum": "c", "value": 1}}]}
    )
    with pytest.raises(
        UsageError, match=r"gate\[0\]\.slice\.colum is not a known key; did you mean `column`"
    ):
        parse_settings(GatePolicy, yaml.safe_load(text), source="params.yaml", section="gate")
