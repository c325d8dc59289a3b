"""`mlgitops gate`: the policy in params.yaml applied to a report.json, through the CLI.

Reports are hand-written from the contract (tests/standins/report_dir.py); the policy is the
shape of this repository's own `gate` section, written into each test's params.yaml.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.cli import main
from mlgitops.gate import evaluate_gate
from mlgitops.policy import load_policy
from tests.standins.report_dir import report_data

POLICY = [
    {"metric": "test.roc_auc", "better": "higher", "at_least": 0.80, "max_worsening": 0.01},
    {"metric": "test.log_loss", "better": "lower", "at_most": 0.50, "max_worsening": 0.02},
]


class Gate:
    """Runs `mlgitops gate` in process through `cli.main`, the real exit-code mapping."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str] | None = None) -> None:
        self.folder, self.capsys = folder, capsys
        self.params = folder / "params.yaml"
        self.report = folder / "report" / "report.json"
        self.out = folder / "report" / "gate.md"
        self.write_policy(POLICY)

    def write_policy(self, rules: list[dict[str, Any]]) -> None:
        self.params.write_text(yaml.safe_dump({"train": {"seed": 1}, "gate": rules}))

    def write_report(self, data: dict[str, Any]) -> None:
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps(data))

    def run(self, *extra: str) -> tuple[int, str]:
        """Exit code and stderr (whitespace runs made one space: rich wraps at 80 columns)."""
        argv = ["mlgitops", "gate", "--report", str(self.report), "--params", str(self.params)]
        argv += ["--out", str(self.out), *extra]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "argv", argv)
            with pytest.raises(SystemExit) as stop:
                main()
        assert self.capsys is not None
        captured = self.capsys.readouterr()
        assert captured.out == "", "the gate writes no data to stdout"
        return int(stop.value.code or 0), " ".join(captured.err.split())


@pytest.fixture
def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Gate:
    return Gate(tmp_path, capsys)


def test_passes_and_says_why(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.843236, 0.851), log_loss=(0.428137, 0.420)))
    code, err = gate.run()
    assert code == 0, err
    assert "gate: passed, all 5 checks hold" in err
    assert "test.roc_auc 0.851 is at or above the floor 0.8" in err
    assert "test.log_loss 0.42 is at or below the ceiling 0.5" in err
    assert "the pipeline reproduced" in err
    markdown = gate.out.read_text()
    assert markdown.startswith("✅ **Gate passed**: ")
    assert "\n#### Quality gate: passed ✅\n" in markdown
    assert "| `test.roc_auc` | 0.8432 | 0.851 | +0.007764 | - | >= 0.8 | ✅ pass |" in markdown
    assert "❌" not in markdown


def test_floor_broken_fails_with_the_floor_in_the_table(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.79, 0.795)))  # better than base, still too low
    code, err = gate.run()
    assert code == 1
    assert "CheckFailedError: 1 of 5 checks broke" in err
    assert (
        "gate: test.roc_auc 0.795 is below the floor 0.8 (" in err
        and "improve the model or change the floor in a reviewed PR" in err
    )
    assert "FAIL" in err  # the terminal table
    markdown = gate.out.read_text()
    assert markdown.startswith("❌ **Gate failed**: test.roc_auc 0.795 is below the floor 0.8\n")
    assert "\n#### Quality gate: failed ❌ (1 broken)\n" in markdown
    assert "| `test.roc_auc` | 0.79 | 0.795 | +0.005 | - | >= 0.8 | ❌ **fail** |" in markdown
    assert "| `test.roc_auc` | 0.79 | 0.795 | +0.005 | - | worsens <= 0.01 | ✅ pass |" in markdown


def test_ceiling_broken_for_a_lower_is_better_metric(gate: Gate) -> None:
    gate.write_report(report_data(log_loss=(0.51, 0.505)))
    code, err = gate.run()
    assert code == 1
    assert "test.log_loss 0.505 is above the ceiling 0.5" in err
    assert (
        "| `test.log_loss` | 0.51 | 0.505 | -0.005 | - | <= 0.5 | ❌ **fail** |"
        in gate.out.read_text()
    )


def test_higher_is_better_metric_that_dropped_too_much_fails(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.86, 0.845)))  # above the floor, 0.015 worse
    code, err = gate.run()
    assert code == 1
    assert "gate: test.roc_auc dropped by 0.015 (0.86 -> 0.845), more than the 0.01 allowed" in err
    assert "change max_worsening in a reviewed PR" in err
    assert "| worsens <= 0.01 | ❌ **fail** |" in gate.out.read_text()


def test_lower_is_better_metric_that_rose_too_much_fails(gate: Gate) -> None:
    gate.write_report(report_data(log_loss=(0.40, 0.43)))  # under the ceiling, 0.03 worse
    code, err = gate.run()
    assert code == 1
    assert "gate: test.log_loss rose by 0.03 (0.4 -> 0.43), more than the 0.02 allowed" in err


def test_big_moves_for_the_better_pass_in_both_directions(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.81, 0.90), log_loss=(0.49, 0.30)))
    code, err = gate.run()
    assert code == 0, err
    assert "test.roc_auc did not get worse (0.81 -> 0.9)" in err
    assert "test.log_loss did not get worse (0.49 -> 0.3)" in err


def test_a_drop_exactly_at_the_allowance_passes_despite_float_noise(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.84, 0.83)))  # 0.84 - 0.83 = 0.010000000000000009
    code, err = gate.run()
    assert code == 0, err
    assert "test.roc_auc dropped by 0.01 (0.84 -> 0.83), within the 0.01 allowed" in err


def test_unchanged_metric_is_checked_from_the_headline(gate: Gate) -> None:
    # Without --all, `dvc metrics diff` leaves unchanged metrics out; the headline keeps them.
    data = report_data(log_loss=(0.55, 0.55))
    assert "test.log_loss" not in data["metrics"].get("metrics.json", {})
    gate.write_report(data)
    code, err = gate.run()
    assert code == 1
    assert "test.log_loss 0.55 is above the ceiling 0.5" in err


def test_metric_missing_at_head_fails(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(0.84, None)))
    code, err = gate.run()
    assert code == 1
    assert "gate: test.roc_auc is missing at head (metrics.json)" in err
    assert "check that the pipeline still writes it" in err
    assert "| `test.roc_auc` | 0.84 | - |  | - | present | ❌ **fail** |" in gate.out.read_text()


def test_missing_metric_says_why_dvc_could_not_load_it(gate: Gate) -> None:
    data = report_data(roc_auc=(0.84, None))
    data["metrics_errors"] = [
        {"rev": "workspace", "path": "metrics.json", "error": "Expecting value: line 1 column 1"}
    ]
    gate.write_report(data)
    code, err = gate.run()
    assert code == 1
    assert "test.roc_auc is missing at head (metrics.json: Expecting value: line 1" in err


def test_new_metric_without_base_is_held_to_its_floor_only(gate: Gate) -> None:
    gate.write_report(report_data(roc_auc=(None, 0.85), log_loss=(None, 0.40)))
    code, err = gate.run()
    assert code == 0, err
    assert "test.roc_auc has no base value to compare with (new metric)" in err


def test_failed_pipeline_fails_the_gate_naming_the_stage(gate: Gate) -> None:
    pipeline = {"status": "failed", "failed_stage": "validate", "log_tail": "Churn: 3 rows"}
    gate.write_report(report_data(pipeline=pipeline))  # the metrics themselves are fine
    code, err = gate.run()
    assert code == 1
    assert "CheckFailedError: 1 of 5 checks broke" in err
    assert "gate: the pipeline failed at stage 'validate' (dvc repro)" in err
    assert "| `pipeline` | - | - |  | - | reproduces | ❌ **fail** |" in gate.out.read_text()


def test_several_broken_rules_are_all_listed(gate: Gate) -> None:
    pipeline = {"status": "failed", "failed_stage": "train", "log_tail": None}
    gate.write_report(report_data(roc_auc=(0.84, 0.70), log_loss=(0.42, 0.60), pipeline=pipeline))
    code, err = gate.run()
    assert code == 1
    assert "5 of 5 checks broke" in err
    markdown = gate.out.read_text()
    assert markdown.count("❌ **fail**") == 5
    assert markdown.count("\n- ") == 5  # one sentence per broken check under the table


def test_file_in_the_rule_picks_one_of_several_metric_files(gate: Gate) -> None:
    data = report_data()
    data["metrics"]["eval/holdout.json"] = {"test.roc_auc": {"old": 0.9, "new": 0.5, "diff": -0.4}}
    gate.write_report(data)
    code, err = gate.run()
    assert code == 2
    assert "test.roc_auc is in several metric files (eval/holdout.json, metrics.json)" in err
    assert "name one with 'file:'" in err

    gate.write_policy([{**POLICY[0], "file": "eval/holdout.json"}])
    code, err = gate.run()
    assert code == 1
    assert "test.roc_auc 0.5 is below the floor 0.8" in err
    assert "`test.roc_auc (eval/holdout.json)`" in gate.out.read_text()

    gate.write_policy([{**POLICY[0], "file": "./metrics.json"}])
    code, err = gate.run()
    assert code == 0, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "report.json not found; run `mlgitops report --base REV --out"),
        ("{not json", "is not valid JSON"),
        ('{"schema_version": 99}', "is not a mlgitops report (schema_version 1 expected)"),
    ],
)
def test_unusable_report_is_a_usage_error(gate: Gate, content: str | None, expected: str) -> None:
    if content is not None:
        gate.report.parent.mkdir(parents=True)
        gate.report.write_text(content)
    code, err = gate.run()
    assert code == 2
    assert expected in err
    assert not gate.out.exists()


def test_params_without_a_gate_section_is_a_usage_error(gate: Gate) -> None:
    gate.write_report(report_data())
    gate.params.write_text("train:\n  seed: 1\n")
    code, err = gate.run()
    assert code == 2
    assert "has no 'gate' section" in err


def test_a_misspelt_gate_key_stops_with_one_sentence_and_a_suggestion(gate: Gate) -> None:
    gate.write_report(report_data())
    rule = {**POLICY[0]}
    rule["max_worsning"] = rule.pop("max_worsening")
    gate.write_policy([rule, POLICY[1]])
    code, err = gate.run()
    assert code == 2
    assert err == (
        f"UsageError: {gate.params}: gate[0].max_worsning is not a known key; "
        "did you mean `max_worsening`?"
    )
    assert not gate.out.exists()


def test_a_wrong_gate_value_names_the_rule_and_what_was_expected(gate: Gate) -> None:
    gate.write_report(report_data())
    gate.write_policy([POLICY[0], {**POLICY[1], "better": "down", "at_most": "0.5"}])
    code, err = gate.run()
    assert code == 2
    assert f"{gate.params}: gate[1].better is 'down'; expected 'higher' or 'lower'" in err
    assert f"{gate.params}: gate[1].at_most is '0.5'; expected a valid number" in err


def test_the_repository_policy_reads_and_judges(tmp_path: Path) -> None:
    """The params.yaml at the repository root, against a report that breaks its floor."""
    rules = load_policy(Path(__file__).resolve().parents[3] / "params.yaml")
    result = evaluate_gate(report_data(roc_auc=(0.84, 0.70)), rules, source="params.yaml")
    assert not result.passed
    assert [check.limit for check in result.broken] == [">= 0.8", "worsens <= 0.01"]


def test_installed_command_exits_1_on_a_broken_gate(tmp_path: Path) -> None:
    """The `mlgitops` entry point a CI job calls: exit code, stderr, gate.md."""
    gate = Gate(tmp_path)
    gate.write_report(report_data(roc_auc=(0.84, 0.71)))
    command = str(Path(sys.executable).with_name("mlgitops"))
    paths = ["--report", str(gate.report), "--params", str(gate.params), "--out", str(gate.out)]
    done = subprocess.run(
        [command, "gate", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "test.roc_auc 0.71 is below the floor 0.8" in " ".join(done.stderr.split())
    assert "failed ❌" in gate.out.read_text()
