"""report.json `evidence` from per-row predictions: settings, reading, pairing, records, slices.

The statistics themselves are checked against scipy and pROC in test_stats.py; here, that the
evidence carries them faithfully (rounded to 6 significant digits), pairs only what is the
same rows, folds small slices and names the worst one, and says in one line what went wrong.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgitops import extras
from mlgitops.errors import UsageError
from mlgitops.report import ReportRequest, build_report
from mlgitops.report.delong import delong_test
from mlgitops.report.evidence import UNDECLARED_NOTE, UnavailableError, build_evidence
from mlgitops.report.evidence_read import Workspace, pair_sides, read_predictions
from mlgitops.report.evidence_records import MetricKey, compare, rounded
from mlgitops.report.slices import compare_slices
from mlgitops.report.stats import Bootstrap, paired_bootstrap
from mlgitops.settings import parse_settings
from mlgitops.settings.report import PredictionsSettings, ReportSettings
from tests.unit.mlgitops.report.repos import DvcRepo

DECLARED = PredictionsSettings(path="preds.parquet", id="id", label="y", score="p")
METRICS = [
    MetricKey("test.roc_auc", "roc_auc", "metrics.json"),
    MetricKey("test.log_loss", "log_loss", "metrics.json"),
    MetricKey("test.accuracy", "accuracy", "metrics.json"),
]
BOOT = Bootstrap(resamples=300, seed=3)


def _rows(n: int, *, shift: float = 0.0, seed: int = 0, start: int = 0) -> pd.DataFrame:
    """n rows with a label, a score that predicts it, and a slice column of three sizes."""
    rng = np.random.default_rng(seed)
    label = (np.arange(n) % 3 == 0).astype(int)
    score = np.clip(0.3 + 0.4 * label + rng.normal(0, 0.25, n) + shift, 0.01, 0.99)
    segment = np.where(np.arange(n) < n // 2, "big", np.where(np.arange(n) < n - 20, "mid", "tiny"))
    ids = [f"r{i:05d}" for i in range(start, start + n)]
    return pd.DataFrame({"id": ids, "y": label, "p": score, "segment": segment})


def _write(tmp_path: Path, name: str, frame: pd.DataFrame) -> Workspace:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    frame.to_parquet(folder / DECLARED.path)
    return Workspace(folder)


def _comparison(tmp_path: Path, base: pd.DataFrame, head: pd.DataFrame) -> Any:
    sides = [
        read_predictions(_write(tmp_path, side, frame), DECLARED, ("segment",), side=side)
        for side, frame in (("base", base), ("head", head))
    ]
    return pair_sides(sides[0], sides[1], DECLARED, ("segment",))


def test_unknown_report_keys_are_refused_with_a_suggestion() -> None:
    params = {"report": {"predictions": {"path": "p.csv", "id": "i", "label": "y", "scroe": "s"}}}
    with pytest.raises(UsageError) as raised:
        parse_settings(ReportSettings, params, source="params.yaml", section="report")
    assert "params.yaml: report.predictions.scroe is not a known key; did you mean `score`?" in (
        str(raised.value)
    )
    bad = {"report": {"bootstrap": {"confidence": 95}}}
    with pytest.raises(UsageError, match=r"report\.bootstrap\.confidence is 95; expected less"):
        parse_settings(ReportSettings, bad, source="params.yaml", section="report")


def test_paired_records_carry_the_bootstrap_and_delong_rounded(tmp_path: Path) -> None:
    base, head = _rows(600), _rows(600, shift=0.05, seed=1)
    comparison, rows, missing = _comparison(tmp_path, base, head)
    assert comparison.paired and rows == {"base": 600, "head": 600, "shared": 600}
    assert missing == []

    records = compare(comparison, METRICS, threshold=0.5, bootstrap=BOOT)

    direct = paired_bootstrap(
        base["y"], base["p"], head["p"], metrics=["roc_auc", "log_loss", "accuracy"],
        threshold=0.5, bootstrap=BOOT,
    )  # fmt: skip
    assert list(records) == [m.key for m in METRICS]
    for record, change in zip(records.values(), direct, strict=True):
        assert record["base"] == float(f"{change.base:.6g}")
        assert record["delta_ci"] == [
            float(f"{change.delta_interval.low:.6g}"),
            float(f"{change.delta_interval.high:.6g}"),
        ]
        assert record["label"] == change.verdict and record["paired"] is True
    p_value = delong_test(base["y"], base["p"], head["p"]).p_value
    assert records["test.roc_auc"]["delong_p"] == rounded(p_value)
    assert records["test.log_loss"]["delong_p"] is None


def test_other_rows_are_compared_unpaired_with_the_counts(tmp_path: Path) -> None:
    comparison, rows, _ = _comparison(tmp_path, _rows(600), _rows(650, start=100))
    assert not comparison.paired
    assert rows == {"base": 600, "head": 650, "shared": 500}
    records = compare(comparison, METRICS, threshold=0.5, bootstrap=BOOT)
    assert {r["paired"] for r in records.values()} == {False}
    assert records["test.roc_auc"]["delong_p"] is None


def test_a_changed_label_unpairs_and_a_repeated_id_is_refused(tmp_path: Path) -> None:
    head = _rows(300)
    labels = head["y"].to_numpy().copy()
    labels[5] = 1 - labels[5]
    head["y"] = labels
    comparison, rows, _ = _comparison(tmp_path / "relabelled", _rows(300), head)
    assert not comparison.paired and rows["shared"] == 300
    repeated = _rows(300)
    ids = list(repeated["id"])
    ids[7] = ids[6]
    repeated["id"] = ids
    with pytest.raises(UnavailableError, match=r"preds\.parquet: the head rows repeat ids"):
        _comparison(tmp_path / "repeated", _rows(300), repeated)


def test_a_missing_file_or_column_names_the_side_and_column(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UnavailableError, match=r"the base revision has no preds\.parquet"):
        read_predictions(Workspace(empty), DECLARED, (), side="base")
    fs = _write(tmp_path, "renamed", _rows(50).rename(columns={"p": "prob"}))
    with pytest.raises(UnavailableError, match=r"at the head revision has no score column `p`"):
        read_predictions(fs, DECLARED, (), side="head")
    words = _rows(50).assign(y="yes")
    base = read_predictions(_write(tmp_path, "words", words), DECLARED, (), side="base")
    with pytest.raises(UnavailableError, match=r"column `y` is not numeric"):
        pair_sides(base, base, DECLARED, ())


def test_small_slices_are_folded_and_the_worst_is_named(tmp_path: Path) -> None:
    base = _rows(600)
    head = base.assign(p=np.where(base["segment"] == "mid", 0.5, base["p"]))  # mid loses all
    comparison, _, _ = _comparison(tmp_path, base, head)

    sliced = compare_slices(
        comparison, ["segment"], METRICS, min_rows=50, threshold=0.5, bootstrap=BOOT
    )

    assert [(s["value"], s["rows"]) for s in sliced["slices"]] == [
        ("big", {"base": 300, "head": 300}),
        ("mid", {"base": 280, "head": 280}),
    ]
    assert sliced["folded"] == [{"column": "segment", "values": ["tiny"], "rows": 20}]
    assert sliced["smallest_slice_rows"] == 280
    big, mid = (s["metrics"]["test.roc_auc"] for s in sliced["slices"])
    assert big["delta"] == 0 and big["label"] == "within noise"
    assert mid["head"] == 0.5 and mid["label"] == "worse"
    assert sliced["worst_slice"] == {
        "column": "segment",
        "value": "mid",
        "metric": "test.roc_auc",
        "delta": mid["delta"],
        "label": "worse",
    }


def test_a_slice_of_one_label_has_no_ranked_metric(tmp_path: Path) -> None:
    base = _rows(300).assign(segment=lambda f: np.where(f["y"] == 1, "churners", "others"))
    comparison, _, _ = _comparison(tmp_path, base, base)
    sliced = compare_slices(
        comparison, ["segment"], METRICS, min_rows=10, threshold=0.5, bootstrap=BOOT
    )
    for entry in sliced["slices"]:
        assert list(entry["metrics"]) == ["test.log_loss", "test.accuracy"]
    assert sliced["worst_slice"]["metric"] == "test.log_loss"


def test_nothing_declared_says_what_to_declare() -> None:
    evidence = build_evidence(None, None, ReportSettings(), [], {})  # type: ignore[arg-type]
    assert evidence["status"] == "undeclared" and evidence["note"] == UNDECLARED_NOTE
    assert "params.yaml `report.predictions` (path, id, label, score)" in evidence["note"]
    assert evidence["rows"] == {"base": None, "head": None, "shared": None}
    assert evidence["metrics"] == {} and evidence["worst_slice"] is None


def _predictions_csv(frame: pd.DataFrame) -> str:
    return str(frame.to_csv(index=False))


def test_a_real_repository_first_lacks_then_pairs_the_predictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through DVC: a base without the file is `unavailable` (the note says so); the next
    change reads the base's file from the DVC cache and pairs it with the workspace's."""
    repo = DvcRepo.create(tmp_path / "repo")
    repo.write_yaml("dvc.yaml", {"metrics": ["metrics.json"]})
    declared = {"path": "preds.csv", "id": "id", "label": "y", "score": "p"}
    repo.write_yaml("params.yaml", {"report": {"predictions": declared, "slices": ["segment"]}})
    repo.write_json("metrics.json", {"test": {"roc_auc": 0.8, "log_loss": 0.5, "r2": 0.1}})
    first = repo.commit("base: no predictions yet")
    rows = _rows(400)
    repo.write("preds.csv", _predictions_csv(rows))
    repo.add("preds.csv")
    monkeypatch.chdir(repo.root)

    evidence = build_report(ReportRequest(base=first))["evidence"]

    assert evidence["status"] == "unavailable"
    assert evidence["note"].startswith("No intervals: the base revision has no preds.csv")

    second = repo.commit("predictions")
    repo.write("preds.csv", _predictions_csv(rows.assign(p=rows["p"] * 0.5)))  # same order
    repo.add("preds.csv")

    evidence = build_report(ReportRequest(base=second))["evidence"]

    assert evidence["status"] == "paired", evidence["note"]
    assert list(evidence["metrics"]) == ["test.log_loss", "test.roc_auc"]  # no r2: not from rows
    roc = evidence["metrics"]["test.roc_auc"]
    assert roc["delta"] == 0 and roc["delta_ci"] == [0, 0] and roc["label"] == "within noise"
    assert evidence["metrics"]["test.log_loss"]["label"] != "within noise"
    assert [entry["value"] for entry in evidence["slices"]] == ["big", "mid"]
    assert evidence["folded"] == [{"column": "segment", "values": ["tiny"], "rows": 20}]


def test_declared_predictions_without_the_stats_extra_name_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extras, "missing", lambda extra: ("scipy",) if extra == "stats" else ())
    settings = ReportSettings(predictions=DECLARED)
    with pytest.raises(extras.MissingExtraError, match=r'pip install "mlgitops\[stats\]"'):
        build_evidence(None, None, settings, [], {})  # type: ignore[arg-type]


def test_the_report_starts_without_the_statistics() -> None:
    """scipy is the stats extra's: the report imports it only once predictions are declared."""
    code = (
        "import sys, mlgitops.report; "
        "print(sorted({'scipy', 'mlgitops.report.stats'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_threshold_may_name_the_params_key_that_holds_it() -> None:
    keyed = DECLARED.model_copy(update={"threshold": "evaluate.threshold"})
    params = {"evaluate": {"threshold": 0.35}}
    assert keyed.resolved(params, "params.yaml").threshold == 0.35
    assert DECLARED.resolved(params, "params.yaml").threshold == 0.5
    with pytest.raises(UsageError, match=r"params\.yaml: report\.predictions\.threshold names "
                       r"`evaluate\.threshold`, which is absent"):  # fmt: skip
        keyed.resolved({"evaluate": {}}, "params.yaml")
    with pytest.raises(UsageError, match=r"which is 'high'; expected a key holding a number"):
        keyed.resolved({"evaluate": {"threshold": "high"}}, "params.yaml")


def test_a_regressors_errors_get_intervals(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    price = rng.uniform(300, 5000, 500)
    base = pd.DataFrame({"id": range(500), "y": price, "p": price + rng.normal(0, 200, 500)})
    head = base.assign(p=price + rng.normal(0, 400, 500))  # twice the error
    base["segment"] = head["segment"] = "all"
    comparison, _, _ = _comparison(tmp_path, base, head)
    errors = [MetricKey("test.rmse", "rmse", "m.json"), MetricKey("test.mae", "mae", "m.json")]

    records = compare(comparison, errors, threshold=0.5, bootstrap=BOOT)

    rmse = records["test.rmse"]
    assert rmse["better"] == "lower" and rmse["label"] == "worse", rmse
    assert rmse["base"] == pytest.approx(float(np.sqrt(np.mean((base["p"] - price) ** 2))), 1e-5)
    assert records["test.mae"]["label"] == "worse"
