"""`run_drift` in process: policy choices and streaming, where a subprocess adds nothing."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mlgitops.drift import DriftPolicy, load_policy, run_drift
from mlgitops.drift.command import _progress
from mlgitops.errors import UsageError
from tests.checkout import REPO_ROOT
from tests.unit.drift.logs import customers, reference_frame, write_log


@pytest.fixture(scope="module")
def policy() -> DriftPolicy:
    return load_policy(REPO_ROOT / "params.yaml")


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.parquet"
    reference_frame().to_parquet(path, index=False)
    return path


def _run(reference: Path, log: Path, out: Path, policy: DriftPolicy) -> dict[str, Any]:
    run_drift(reference_path=reference, current=log, out=out, policy=policy)
    return dict(json.loads((out / "drift.json").read_text()))


def test_one_drifted_feature_is_retraining_only_when_the_policy_says_one(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    log = write_log(tmp_path / "log.jsonl", customers(1_000, seed=4, charges_scale=1.3))
    two = policy.model_copy(update={"min_drifted_features": 2, "score_drift_retrains": True})
    one = policy.model_copy(update={"min_drifted_features": 1})

    report = _run(reference, log, tmp_path / "two", two)
    assert report["drifted"] == ["charges"] and report["retraining_due"] is False
    assert (tmp_path / "two" / "charges.png").is_file()  # pictured all the same
    assert _run(reference, log, tmp_path / "one", one)["retraining_due"] is True


def test_a_drifted_score_alone_is_retraining_when_the_policy_says_so(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    lines = customers(1_000, seed=5)
    for line in lines:
        line["outputs"]["churn_probability"] = min(1.0, line["outputs"]["churn_probability"] * 2)
    log = write_log(tmp_path / "log.jsonl", lines)

    on = _run(
        reference, log, tmp_path / "on", policy.model_copy(update={"score_drift_retrains": True})
    )
    assert on["drifted"] == ["churn_probability"] and on["retraining_due"] is True
    off = policy.model_copy(update={"score_drift_retrains": False})
    assert _run(reference, log, tmp_path / "off", off)["retraining_due"] is False


def test_a_psi_below_the_threshold_is_not_drift_however_small_p_is(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    log = write_log(tmp_path / "log.jsonl", customers(3_000, seed=6, charges_scale=1.3))
    strict = policy.model_copy(update={"psi_threshold": 1.0})
    entry = _run(reference, log, tmp_path / "out", strict)["features"]["charges"]
    assert entry["p_value"] < 1e-10 and entry["psi"] < 1.0 and entry["drifted"] is False


def test_chunk_size_changes_nothing_in_the_report(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    log = write_log(tmp_path / "log.jsonl", customers(900, seed=9, charges_scale=1.1))
    reports = []
    for rows in (7, 100_000):
        report = _run(
            reference, log, tmp_path / str(rows), policy.model_copy(update={"chunk_rows": rows})
        )
        del report["policy"]["chunk_rows"]
        reports.append(report)
    assert reports[0] == reports[1]


def test_unseen_levels_are_counted_and_named(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    lines = customers(1_000, seed=10)
    for line in lines[:300]:
        line["inputs"]["plan"] = "enterprise"
    log = write_log(tmp_path / "log.jsonl", lines)

    report = _run(reference, log, tmp_path / "out", policy)

    plan = report["features"]["plan"]
    assert plan["drifted"] is True and plan["unseen_levels"] == ["enterprise"]
    unseen = next(row for row in plan["bins"] if row["bin"] == "(unseen)")
    assert unseen == {"bin": "(unseen)", "reference": 0.0, "current": 0.3}
    assert (
        "`plan` has levels the reference never had: `enterprise`"
        in (tmp_path / "out" / "drift.md").read_text()
    )


def test_nulls_are_a_bin_of_their_own(tmp_path: Path, reference: Path, policy: DriftPolicy) -> None:
    lines = customers(1_000, seed=11)
    for line in lines[:400]:
        line["inputs"]["charges"] = None
    log = write_log(tmp_path / "log.jsonl", lines)

    charges = _run(reference, log, tmp_path / "out", policy)["features"]["charges"]
    missing = next(row for row in charges["bins"] if row["bin"] == "(missing)")
    assert missing["reference"] == 0.0 and missing["current"] == 0.4
    assert charges["drifted"] is True


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"psi_threshold": 0}, "drift.psi_threshold is 0; expected more than 0"),
        ({"p_value": 2}, "drift.p_value is 2; expected at most 1"),
        ({"min_rows": "many"}, "drift.min_rows is 'many'; expected a valid integer"),
        ({"ignore": "id"}, "drift.ignore is 'id'; expected a list"),
        ({"thresold": 0.1}, "drift.thresold is not a known key; did you mean `psi_threshold`?"),
    ],
)
def test_a_bad_policy_is_a_usage_error(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(json.dumps({"drift": section}))  # JSON is YAML
    with pytest.raises(UsageError) as caught:
        load_policy(params)
    assert message in str(caught.value)


def test_a_missing_field_among_nulls_is_still_a_bad_line(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    """A field left out must not pass for a null, even where nulls are fine."""
    lines = customers(600, seed=12)
    for line in lines[:50]:
        line["inputs"]["charges"] = None
    del lines[300]["inputs"]["charges"]
    log = write_log(tmp_path / "log.jsonl", lines)

    with pytest.raises(UsageError) as caught:
        run_drift(reference_path=reference, current=log, out=tmp_path / "out", policy=policy)
    assert "1 bad line(s)" in str(caught.value)
    assert f"{log}:301: inputs lack charges" in str(caught.value)


def test_a_nan_literal_is_not_json(tmp_path: Path, reference: Path, policy: DriftPolicy) -> None:
    lines: list[Any] = customers(600, seed=13)
    lines[10] = json.dumps(lines[10]).replace('"tenure": ', '"tenure": NaN, "x": ')
    log = write_log(tmp_path / "log.jsonl", lines)

    with pytest.raises(UsageError) as caught:
        run_drift(reference_path=reference, current=log, out=tmp_path / "out", policy=policy)
    assert f"{log}:11: not valid JSON" in str(caught.value)


def test_the_line_by_line_reader_gives_what_the_fast_one_gives(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    """A blank line sends its chunk through the line-by-line reader: the report is the same."""
    lines: list[Any] = customers(900, seed=14, charges_scale=1.2)
    for line in lines[::7]:
        line["inputs"]["charges"] = None
    for line in lines[::11]:
        line["outputs"]["churn_probability"] = None
    fast = write_log(tmp_path / "fast" / "log.jsonl", lines)
    slow = write_log(tmp_path / "slow" / "log.jsonl", [*lines[:450], "", *lines[450:]])
    small = policy.model_copy(update={"chunk_rows": 100})

    reports = [_run(reference, log, log.parent / "out", small) for log in (fast, slow)]

    assert reports[0]["rows"] == 900
    for report in reports:
        report["current"] = []
    assert reports[0] == reports[1]


def test_gzipped_and_rotated_logs_are_read_oldest_first(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    logs = tmp_path / "logs"
    write_log(logs / "requests-worker2.jsonl", customers(200, seed=15))
    plain = write_log(tmp_path / "rotated.jsonl", customers(300, seed=16))
    (logs / "requests-worker2.jsonl.1.gz").write_bytes(gzip.compress(plain.read_bytes()))
    broken = write_log(logs / "requests-worker1.jsonl.2", [*customers(100, seed=17), "{"])

    with pytest.raises(UsageError) as caught:
        run_drift(reference_path=reference, current=logs, out=tmp_path / "out", policy=policy)
    assert f"{broken}:101: not valid JSON" in str(caught.value)

    broken.unlink()
    report = _run(reference, logs, tmp_path / "out", policy)
    assert report["rows"] == 500
    assert report["current"] == [
        str(logs / "requests-worker2.jsonl.1.gz"),
        str(logs / "requests-worker2.jsonl"),
    ]


def test_big_inputs_show_a_progress_bar_on_a_terminal() -> None:
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, width=100)
    with _progress(console, 200 * 2**20) as advance:
        advance(100 * 2**20)
    assert "reading request logs" in shown.getvalue()
    quiet = io.StringIO()
    with _progress(Console(file=quiet, force_terminal=False), 200 * 2**20) as advance:
        advance(100 * 2**20)
    assert quiet.getvalue() == ""  # CI logs get the summary line only


def test_the_markdown_says_the_verdict_counts_and_policy(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    log = write_log(tmp_path / "log.jsonl", customers(1_000, seed=4, charges_scale=1.3))
    strict = policy.model_copy(update={"min_drifted_features": 3, "score_drift_retrains": False})

    run_drift(reference_path=reference, current=log, out=tmp_path / "out", policy=strict)

    markdown = (tmp_path / "out" / "drift.md").read_text()
    assert markdown.startswith("## Drift check: no drift\n")
    assert (
        "1,000 logged rows against 3,000 reference rows: 1 of 4 input features drifted "
        "(`charges`); retraining is due at 3 drifted input features."
    ) in markdown
    assert "PSI is at least 0.2 and its two-sample test gives p below 0.01" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `charges` | numeric |")  # drifted first
    assert len(rows) == 5  # four inputs and the score


def test_without_a_logged_score_the_policy_can_leave_it_out(
    tmp_path: Path, reference: Path, policy: DriftPolicy
) -> None:
    lines = customers(600, seed=18)
    for line in lines:
        del line["outputs"]["churn_probability"]
    log = write_log(tmp_path / "log.jsonl", lines)
    with pytest.raises(UsageError, match="outputs lack churn_probability"):
        run_drift(reference_path=reference, current=log, out=tmp_path / "out", policy=policy)

    no_score = policy.model_copy(
        update={"score": None, "ignore": (*policy.ignore, "churn_probability")}
    )
    report = _run(reference, log, tmp_path / "out", no_score)
    assert sorted(report["features"]) == ["charges", "flag", "plan", "tenure"]
    assert report["notes"] == ["the model's scores were not compared (drift.score is null)"]
