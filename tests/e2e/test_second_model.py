"""The plugins run a model they have never seen: the diamond-price regression of tests/examples.

The example (its own schema, params.yaml, dvc.yaml, stages, service and bentofile) is copied
into a fresh git repository: a base on `main`, then pull-request branches that change one
training parameter. Each goes through `dvc repro`, `mlgitops report --base main` and
`mlgitops gate`, as CI runs them. Nothing under src/mlgitops knows this model: what the plugins
need comes from its params.yaml, its dvc.yaml and its model card.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

from tests.checkout import REPO_ROOT, Checkout, Repro, Result
from tests.pr_loop import set_param

pytestmark = pytest.mark.e2e

EXAMPLE = REPO_ROOT / "tests" / "examples" / "diamonds"
METRICS = ("test.rmse", "test.mae", "test.r2", "train.rmse", "train.mae", "train.r2")
# What the base commits after `dvc repro` (the rest is DVC-tracked and git-ignored).
COMMITTED = ("dvc.lock", "metrics.json", "plots", ".gitignore", "data", "models")


def _ok(result: Result) -> Result:
    assert result.returncode == 0, str(result)
    return result


def git(checkout: Checkout, *args: str) -> str:
    return _ok(checkout.run("git", *args)).stdout.strip()


@dataclass(frozen=True)
class Example:
    """The example's repository, reproduced and committed on `main`."""

    checkout: Checkout
    repro: Repro


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    checkout = Checkout(tmp_path_factory.mktemp("second-model") / "repo")
    shutil.copytree(EXAMPLE, checkout.path, ignore=shutil.ignore_patterns("__pycache__"))
    git(checkout, "init", "--quiet", "--initial-branch=main")
    git(checkout, "config", "user.name", "mlgitops tests")
    git(checkout, "config", "user.email", "tests@mlgitops.invalid")
    _ok(checkout.run("dvc", "init", "--quiet"))
    git(checkout, "add", "--all")
    git(checkout, "commit", "--quiet", "--no-verify", "-m", "A diamond-price model")
    repro = checkout.repro()
    assert repro.ran == ["prepare", "train", "evaluate"], str(repro)
    git(checkout, "add", *COMMITTED)
    git(checkout, "commit", "--quiet", "--no-verify", "-m", "Reproduce the pipeline")
    assert git(checkout, "status", "--porcelain") == ""
    return Example(checkout, repro)


@dataclass(frozen=True)
class PullRequest:
    """A branch changing one training parameter, reproduced, reported and gated."""

    checkout: Checkout
    repro: Repro
    report: Result
    gate: Result

    def report_json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(
            (self.checkout.path / "report" / "report.json").read_text()
        )
        return loaded

    def report_md(self) -> str:
        return (self.checkout.path / "report" / "report.md").read_text()


def open_pr(example: Example, branch: str, key: str, value: object) -> PullRequest:
    checkout = example.checkout.copy_to(example.checkout.path.parent.parent / branch / "repo")
    git(checkout, "checkout", "--quiet", "-b", branch)
    set_param(checkout.path / "params.yaml", key, value)
    git(checkout, "commit", "--quiet", "--no-verify", "-m", f"{key}: {value}", "params.yaml")
    repro = checkout.repro()
    report = checkout.run("mlgitops", "report", "--base", "main", "--out", "report/report.md")
    gate = checkout.run("mlgitops", "gate", "--report", "report/report.json")
    return PullRequest(checkout, repro, report, gate)


@pytest.fixture(scope="module")
def better(example: Example) -> PullRequest:
    return open_pr(example, "more-rounds", "num_boost_round", 150)


@pytest.fixture(scope="module")
def worse(example: Example) -> PullRequest:
    return open_pr(example, "few-rounds", "num_boost_round", 8)


def test_the_pipeline_writes_its_own_metrics_and_card(example: Example) -> None:
    path = example.checkout.path
    metrics = json.loads((path / "metrics.json").read_text())
    assert set(metrics) == {"train", "test"} and set(metrics["test"]) == {"rmse", "mae", "r2"}
    assert metrics["test"]["r2"] > 0.9, metrics
    card = json.loads((path / "models" / "card.json").read_text())
    assert card["features"][:4] == ["carat", "cut", "color", "clarity"]
    prices = [case["expected"]["predicted_price"] for case in card["golden"]]
    assert len(prices) == 4 and max(prices) > 1000, prices  # a price, not a probability


def test_a_pr_reproduces_only_what_its_param_feeds(better: PullRequest) -> None:
    assert better.repro.returncode == 0, str(better.repro)
    assert better.repro.ran == ["train", "evaluate"], str(better.repro)
    assert better.repro.skipped == ["prepare"], str(better.repro)


def test_the_report_names_the_models_metrics_and_param(better: PullRequest) -> None:
    assert better.report.returncode == 0, str(better.report)
    report = better.report_json()
    assert sorted(report["metrics"]["metrics.json"]) == sorted(METRICS)
    assert report["params"] == {
        "params.yaml": {"train.num_boost_round": {"old": 60, "new": 150, "diff": 90}}
    }
    headline = {line["metric"]: line for line in report["headline"]}
    assert set(headline) == {"test.rmse", "test.r2"}
    assert headline["test.rmse"]["verdict"] == "better", headline
    assert headline["test.rmse"]["diff"] < 0 < headline["test.r2"]["diff"], headline
    plots = [plot["id"] for plot in report["plots"]]
    assert plots == ["plots/predicted.csv", "plots/importance.csv"], plots
    markdown = better.report_md()
    assert "**test.rmse**" in markdown and "✅ better (lower is better)" in markdown, markdown
    assert "train.num_boost_round" in markdown, markdown
    for name in ("predicted.png", "importance.png"):
        assert (better.checkout.path / "report" / "images" / name).is_file()


def test_the_gate_passes_a_better_model(better: PullRequest) -> None:
    assert better.gate.returncode == 0, str(better.gate)
    assert "test.rmse" in better.gate.flat and "test.r2" in better.gate.flat, str(better.gate)


def test_the_gate_stops_a_worse_model_naming_its_metric(worse: PullRequest) -> None:
    assert worse.repro.returncode == 0, str(worse.repro)
    assert worse.report.returncode == 0, str(worse.report)
    headline = {line["metric"]: line for line in worse.report_json()["headline"]}
    assert headline["test.rmse"]["verdict"] == "worse", headline
    assert worse.gate.returncode == 1, str(worse.gate)
    assert "test.rmse" in worse.gate.flat, str(worse.gate)
    assert "❌ worse (lower is better)" in worse.report_md()
