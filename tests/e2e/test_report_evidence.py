"""The report's evidence on real pull requests of the example: is a change real, where it hurts.

One copy of the reproduced example (real git, real `dvc repro`) holds the base on `main` with
its per-row predictions; each pull request is a branch off `main` with one change, reproduced
and committed; `mlgitops report --base main --head BRANCH --format json` reads both sides'
predictions through DVC, as CI does.

- a seed-only change: every metric within noise (the paired intervals hold 0), the gate passes;
- a crippled model (three boosting rounds of stumps): the gated metrics worse, the gate fails;
- new data (rows removed from the raw table): unpaired, with each side's row count;
- the same seed twice: report.json byte for byte the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from sklearn import metrics as skmetrics

from tests.checkout import Checkout, Golden, Result
from tests.pr_loop import set_param

pytestmark = pytest.mark.e2e

GATED = ("test.roc_auc", "test.log_loss")  # the example's gate, in its order
RECOMPUTED = (*GATED, "test.accuracy", "test.average_precision", "test.brier", "test.f1")
SLICE_COLUMNS = {"contract", "tenure_band", "internet_service"}
PREDICTIONS = "reports/predictions.parquet"


def _ok(result: Result) -> Result:
    assert result.returncode == 0, str(result)
    return result


@dataclass(frozen=True)
class Scene:
    """The copy, and the report.json text of each pull request branch."""

    checkout: Checkout
    reports: dict[str, str]

    def evidence(self, branch: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.reports[branch])["evidence"]
        return loaded

    def report(self, branch: str) -> str:
        return _ok(
            self.checkout.run(
                "mlgitops", "report", "--base", "main", "--head", branch, "--format", "json"
            )
        ).stdout


def _gate(scene: Scene, branch: str) -> Result:
    """`mlgitops gate` on the branch's report, with the example's policy (decide_on default)."""
    path = scene.checkout.path.parent / f"{branch}-report.json"
    path.write_text(scene.reports[branch])
    return scene.checkout.run("mlgitops", "gate", "--report", str(path), "--params", "params.yaml")


def _drop_rows(checkout: Checkout) -> None:
    """New data: the raw table without its last 700 customers, added to DVC."""
    raw = checkout.path / "data/raw/telco_churn.csv"
    lines = raw.read_bytes().splitlines(keepends=True)
    raw.write_bytes(b"".join(lines[:-700]))
    _ok(checkout.run("dvc", "add", "data/raw/telco_churn.csv"))


def _seed(checkout: Checkout) -> None:
    """Only train.seed changes (drift has a seed too: edit the training one's line)."""
    params = checkout.path / "params.yaml"
    text = params.read_text()
    assert text.count("\n  seed: 42\n") == 1
    params.write_text(text.replace("\n  seed: 42\n", "\n  seed: 1\n"))


def _stumps(checkout: Checkout) -> None:
    """A crippled model: three boosting rounds of one split each."""
    set_param(checkout.path / "params.yaml", "num_boost_round", 3)
    set_param(checkout.path / "params.yaml", "num_leaves", 2)


_CHANGES: dict[str, Callable[[Checkout], None]] = {
    "seed": _seed,
    "stumps": _stumps,
    "new-data": _drop_rows,
}


@pytest.fixture(scope="module")
def scene(golden: Golden, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    checkout = golden.checkout.copy_to(tmp_path_factory.mktemp("evidence") / "repo")

    def git(*args: str) -> None:
        _ok(checkout.run("git", *args))

    git("add", "dvc.lock", "metrics.json", "plots", "reports")
    git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", "base: reproduced")
    for branch, change in _CHANGES.items():
        git("checkout", "--quiet", "main")
        _ok(checkout.run("dvc", "checkout", "--quiet"))
        git("checkout", "--quiet", "-b", branch)
        change(checkout)
        _ok(checkout.repro())
        git("add", "--all")
        git("commit", "--quiet", "--no-verify", "-m", f"PR: {branch}")
    git("checkout", "--quiet", "seed")  # the workspace some tests read
    _ok(checkout.run("dvc", "checkout", "--quiet"))
    scene = Scene(checkout, {})
    for branch in _CHANGES:
        scene.reports[branch] = scene.report(branch)
    return scene


def _assert_complete(record: dict[str, Any]) -> None:
    for key in ("base", "head", "delta"):
        assert isinstance(record[key], float), record
    for key in ("base_ci", "head_ci", "delta_ci"):
        low, high = record[key]
        assert low <= high, record
    assert record["base_ci"][0] <= record["base"] <= record["base_ci"][1], record
    assert record["head_ci"][0] <= record["head"] <= record["head_ci"][1], record
    assert record["delta"] == pytest.approx(record["head"] - record["base"], abs=2e-6)
    assert record["label"] in ("better", "worse", "within noise")
    assert record["resamples"] == 2000


def test_a_seed_only_change_is_within_noise_on_every_metric(scene: Scene) -> None:
    evidence = scene.evidence("seed")
    assert evidence["status"] == "paired", evidence["note"]
    assert evidence["rows"] == {"base": 1376, "head": 1376, "shared": 1376}
    assert "same 1,376 rows" in evidence["note"]
    assert list(evidence["metrics"]) == list(RECOMPUTED)  # gated first
    for key, record in evidence["metrics"].items():
        _assert_complete(record)
        assert record["paired"] is True
        assert record["label"] == "within noise", (key, record)
        assert record["delta_ci"][0] < 0 < record["delta_ci"][1], (key, record)
    assert 0.05 < evidence["metrics"]["test.roc_auc"]["delong_p"] <= 1
    gate = _gate(scene, "seed")
    assert gate.returncode == 0, str(gate)  # noise does not fail a confidence-based gate


def test_the_recomputed_figures_are_the_pipelines_own(scene: Scene) -> None:
    """base and head equal metrics.json at each revision (6 digits), and the head's predictions
    file (in the workspace, at the seed branch) scores what the pipeline measured."""
    report = json.loads(scene.reports["seed"])
    evidence = report["evidence"]
    for key, diff in report["metrics"]["metrics.json"].items():
        if key in evidence["metrics"]:
            assert evidence["metrics"][key]["base"] == pytest.approx(diff["old"], abs=2e-6)
            assert evidence["metrics"][key]["head"] == pytest.approx(diff["new"], abs=2e-6)
    rows = pd.read_parquet(scene.checkout.path / PREDICTIONS)
    assert set(rows.columns) == {"customer_id", "churn", "churn_probability", *SLICE_COLUMNS}
    auc = skmetrics.roc_auc_score(rows["churn"], rows["churn_probability"])
    assert evidence["metrics"]["test.roc_auc"]["head"] == pytest.approx(auc, abs=2e-6)


def test_slices_are_measured_and_the_worst_is_named(scene: Scene) -> None:
    evidence = scene.evidence("stumps")
    slices = evidence["slices"]
    assert {entry["column"] for entry in slices} == SLICE_COLUMNS
    contract = {e["value"]: e for e in slices if e["column"] == "contract"}
    assert set(contract) == {"Month-to-month", "One year", "Two year"}
    assert sum(entry["rows"]["head"] for entry in contract.values()) == 1376
    for entry in slices:
        assert min(entry["rows"].values()) >= 100  # params.yaml report.min_slice_rows
        for record in entry["metrics"].values():
            _assert_complete(record)
    assert evidence["smallest_slice_rows"] == min(min(e["rows"].values()) for e in slices)
    worst = evidence["worst_slice"]
    assert worst["metric"] == "test.roc_auc"
    moved = [
        e["metrics"]["test.roc_auc"]["delta"] for e in slices if "test.roc_auc" in e["metrics"]
    ]
    assert worst["delta"] == min(moved)
    assert worst["label"] == "worse"


def test_a_crippled_model_is_labelled_worse(scene: Scene) -> None:
    evidence = scene.evidence("stumps")
    assert evidence["status"] == "paired"
    for key in GATED:
        record = evidence["metrics"][key]
        _assert_complete(record)
        assert record["label"] == "worse", (key, record)
    roc = evidence["metrics"]["test.roc_auc"]
    assert roc["delta_ci"][1] < 0 and roc["delong_p"] < 0.001, roc
    gate = _gate(scene, "stumps")
    assert gate.returncode == 1 and "test.roc_auc" in gate.flat, str(gate)


def test_new_data_is_compared_unpaired_with_each_sides_rows(scene: Scene) -> None:
    evidence = scene.evidence("new-data")
    rows = evidence["rows"]
    assert evidence["status"] == "unpaired", evidence["note"]
    assert rows["base"] == 1376 and rows["shared"] == rows["head"] < rows["base"], rows
    note = evidence["note"]
    assert f"base {rows['base']:,}, head {rows['head']:,}, {rows['shared']:,} shared" in note
    for record in evidence["metrics"].values():
        _assert_complete(record)
        assert record["paired"] is False and record["delong_p"] is None


def test_a_fixed_seed_gives_the_same_report_byte_for_byte(scene: Scene) -> None:
    again = scene.report("seed")
    assert again == scene.reports["seed"]


def test_a_slice_rule_gates_on_that_slices_interval(scene: Scene) -> None:
    policy = scene.checkout.path.parent / "slice-policy.yaml"
    policy.write_text(
        "gate:\n"
        "  - metric: test.roc_auc\n"
        "    slice: {column: contract, value: Month-to-month}\n"
        "    better: higher\n"
        "    max_worsening: 0.05\n"
    )
    results = {}
    for branch in ("seed", "stumps"):
        path = scene.checkout.path.parent / f"{branch}-slice-report.json"
        path.write_text(scene.reports[branch])
        results[branch] = scene.checkout.run(
            "mlgitops", "gate", "--report", str(path), "--params", str(policy)
        )
    assert results["seed"].returncode == 0, str(results["seed"])  # noise, on ~760 rows
    stumps = results["stumps"]
    assert stumps.returncode == 1, str(stumps)
    assert "test.roc_auc (contract = Month-to-month) dropped by" in stumps.flat, str(stumps)
    record = next(
        entry["metrics"]["test.roc_auc"]
        for entry in scene.evidence("stumps")["slices"]
        if (entry["column"], entry["value"]) == ("contract", "Month-to-month")
    )
    assert record["delta_ci"][0] < -0.05, record  # the worse end the gate held against 0.05
