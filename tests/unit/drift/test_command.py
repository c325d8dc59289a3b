"""`mlgitops drift` as a user runs it: a subprocess of the real CLI on files in tmp_path."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checkout import REPO_ROOT, VENV_BIN
from tests.unit.drift.logs import customers, reference_frame, write_log

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.parquet"
    reference_frame().to_parquet(path, index=False)
    return path


def _params(tmp_path: Path, **changes: Any) -> Path:
    """The repository's params.yaml, its drift section changed as asked."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["drift"] = {**params["drift"], **changes}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def drift(
    tmp_path: Path,
    reference: Path,
    current: Path,
    *,
    params: Path | None = None,
    out: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    out = out or tmp_path / "out"
    return subprocess.run(
        [
            str(VENV_BIN / "mlgitops"),
            "drift",
            "--reference",
            str(reference),
            "--current",
            str(current),
            "--out",
            str(out),
            "--params",
            str(params or _params(tmp_path)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "COLUMNS": "200"},
        check=False,
        timeout=120,
    )


def _report(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads((tmp_path / "out" / "drift.json").read_text()))


def test_unshifted_logs_give_no_drift(tmp_path: Path, reference: Path) -> None:
    logs = tmp_path / "logs"
    # The service's layout: a worker's file and its rotated older file.
    write_log(logs / "requests-worker1.jsonl.1", customers(700, seed=1))
    write_log(logs / "requests-worker1.jsonl", customers(500, seed=2))
    write_log(logs / "other.txt", ["not a log"])  # not a request log: not read

    result = drift(tmp_path, reference, logs)

    assert result.returncode == 0, result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "no drift" and report["retraining_due"] is False
    assert report["rows"] == 1_200 and report["reference_rows"] == 3_000
    assert report["drifted"] == []
    kinds = {name: entry["kind"] for name, entry in report["features"].items()}
    # id and label are ignored (drift.ignore); a 0/1 column is categorical.
    assert kinds == {
        "charges": "numeric",
        "tenure": "numeric",
        "plan": "categorical",
        "flag": "categorical",
        "churn_probability": "score",
    }
    assert not list((tmp_path / "out").glob("*.png"))
    assert "## Drift check: no drift" in (tmp_path / "out" / "drift.md").read_text()


def test_shifted_logs_are_caught_and_named(tmp_path: Path, reference: Path) -> None:
    shifted = customers(1_000, seed=3, charges_scale=1.3, plan_p=(0.8, 0.1, 0.1))
    log = write_log(tmp_path / "requests-worker0.jsonl", shifted)

    result = drift(tmp_path, reference, log)

    assert result.returncode == 3, result.stderr
    assert "DriftFoundError" in result.stderr and "charges, plan" in result.stderr
    report = _report(tmp_path)
    assert report["retraining_due"] is True and report["verdict"] == "retraining due"
    assert sorted(report["drifted"]) == ["charges", "plan"]
    for name in ("charges", "plan"):
        entry = report["features"][name]
        assert entry["psi"] >= 0.2 and entry["p_value"] < 0.01 and entry["drifted"]
        image = tmp_path / "out" / entry["image"]
        assert image.read_bytes().startswith(PNG)
    assert report["features"]["tenure"]["drifted"] is False
    assert report["features"]["tenure"]["image"] is None
    markdown = (tmp_path / "out" / "drift.md").read_text()
    assert "## Drift check: retraining due" in markdown
    assert "| `charges` | numeric |" in markdown and "![charges" in markdown
    # Shares per bin, as the picture shows them: the plan's levels with their new weights.
    plan = {row["bin"]: row for row in report["features"]["plan"]["bins"]}
    assert plan["basic"]["reference"] == pytest.approx(0.5, abs=0.03)
    assert plan["basic"]["current"] == pytest.approx(0.8, abs=0.03)


def test_fewer_rows_than_min_rows_is_not_judged(tmp_path: Path, reference: Path) -> None:
    shifted = customers(100, seed=5, charges_scale=2.0)  # drifted, but too few to say
    log = write_log(tmp_path / "requests-worker1.jsonl", shifted)

    result = drift(tmp_path, reference, log, params=_params(tmp_path, min_rows=101))

    assert result.returncode == 0, result.stderr
    assert "not enough rows" in result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "not enough rows" and report["judged"] is False
    assert report["retraining_due"] is False and report["rows"] == 100
    assert "Only 100 rows logged" in (tmp_path / "out" / "drift.md").read_text()


def test_bad_lines_are_named_by_file_and_line(tmp_path: Path, reference: Path) -> None:
    lines: list[Any] = customers(20, seed=6)
    missing = copy.deepcopy(lines[4])
    del missing["inputs"]["tenure"]
    wrong = copy.deepcopy(lines[9])
    wrong["inputs"]["charges"] = "70.5"
    flag_bool = copy.deepcopy(lines[11])
    flag_bool["inputs"]["flag"] = True
    lines[4], lines[9], lines[11] = missing, wrong, flag_bool
    lines[6] = json.dumps(lines[6])[:57]  # truncated mid-line
    no_score = copy.deepcopy(lines[14])
    del no_score["outputs"]["churn_probability"]
    lines[14] = no_score
    log = write_log(tmp_path / "logs" / "requests-worker3.jsonl", lines)

    result = drift(tmp_path, reference, log.parent, params=_params(tmp_path, chunk_rows=8))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "5 bad line(s)" in result.stderr
    assert f"{log}:5: inputs lack tenure" in result.stderr
    assert f"{log}:7: not valid JSON" in result.stderr
    assert f'{log}:10: inputs.charges is "70.5", a number expected' in result.stderr
    assert f"{log}:12: inputs.flag is true, a number expected" in result.stderr
    assert f"{log}:15: outputs lack churn_probability" in result.stderr
    assert not (tmp_path / "out" / "drift.json").exists()


def test_logged_inputs_the_reference_lacks_are_named(tmp_path: Path, reference: Path) -> None:
    lines = customers(600, seed=7)
    for line in lines:
        line["inputs"]["region"] = "north"
        line["inputs"]["age"] = 40
    log = write_log(tmp_path / "requests-worker1.jsonl", lines)

    result = drift(tmp_path, reference, log)

    assert result.returncode == 2, result.stderr
    assert "the reference lacks columns region, age" in result.stderr
    assert "Traceback" not in result.stderr

    ignored = drift(
        tmp_path,
        reference,
        log,
        params=_params(tmp_path, ignore=["customer_id", "churn", "region", "age"]),
    )
    assert ignored.returncode == 0, ignored.stderr


def test_without_a_score_column_the_score_is_not_compared(tmp_path: Path) -> None:
    reference = tmp_path / "reference.csv"
    reference_frame().drop(columns="churn_probability").to_csv(reference, index=False)
    log = write_log(tmp_path / "requests-worker1.jsonl", customers(600, seed=8))

    result = drift(tmp_path, reference, log)

    assert result.returncode == 0, result.stderr
    report = _report(tmp_path)
    assert "churn_probability" not in report["features"]
    assert any(note.startswith("no score reference") for note in report["notes"])
    assert "> no score reference" in (tmp_path / "out" / "drift.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.parquet", "logs"), "reference missing.parquet not found"),
        (("reference.parquet", "nowhere"), "--current nowhere not found"),
        (("reference.parquet", "empty"), "no request logs (requests-worker*.jsonl*) in empty"),
        (("broken.parquet", "logs"), "reference broken.parquet is not a readable table"),
        (("reference.parquet", "logs", "a-file"), "drift: cannot write the report to a-file"),
    ],
)
def test_missing_or_broken_inputs_exit_2(
    tmp_path: Path, reference: Path, args: tuple[str, ...], message: str, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    write_log(tmp_path / "logs" / "requests-worker1.jsonl", customers(5, seed=0))
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "a-file").write_text("in the way of --out")
    out = Path(args[2]) if len(args) > 2 else None

    result = drift(tmp_path, Path(args[0]), Path(args[1]), out=out)

    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_policy_key_exits_2_naming_it(tmp_path: Path, reference: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", customers(5, seed=0))
    result = drift(tmp_path, reference, log, params=_params(tmp_path, bins=1))
    assert result.returncode == 2
    assert "drift.bins is 1; expected at least 2" in result.stderr
