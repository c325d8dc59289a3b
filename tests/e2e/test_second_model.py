"""The plugins run a model they have never seen: the diamond-price regression of tests/examples.

The example (its own schema, params.yaml, dvc.yaml, stages, service and bentofile) is copied
into a fresh git repository: a base on `main`, then pull-request branches that change one
training parameter. Each goes through `dvc repro`, `mlgitops report --base main` and
`mlgitops gate`, as CI runs them. The base's Bento is built from its bentofile and served by
`bentoml serve` on the serving runtime; `mlgitops smoke` checks it against its card, `mlgitops
drift` reads the request log it wrote, `mlgitops render` writes its deploy/ and alert files.
Nothing under src/mlgitops knows this model: what the plugins need comes from its params.yaml,
its dvc.yaml and its model card.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pandas as pd
import pytest
import yaml

from tests.checkout import REPO_ROOT, Checkout, Repro, Result
from tests.pr_loop import set_param
from tests.service.server import Built, Running, start, stop, wait_until

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
    prices = [case["expected"]["predicted_price"] for case in card["golden"]["cases"]]
    assert len(prices) == 4 and max(prices) > 1000, prices  # a price, not a probability


def test_a_pr_reproduces_only_what_its_param_feeds(better: PullRequest) -> None:
    assert better.repro.returncode == 0, str(better.repro)
    assert better.repro.ran == ["train", "evaluate"], str(better.repro)
    assert better.repro.skipped == ["prepare"], str(better.repro)


def test_the_report_names_the_models_metrics_and_param(better: PullRequest) -> None:
    assert better.report.returncode == 0, str(better.report)
    report = better.report_json()
    assert sorted(report["metrics"]["metrics.json"]) == sorted(METRICS)
    # no per-row predictions declared: the one note saying what to declare, nothing else
    assert report["evidence"]["status"] == "undeclared", report["evidence"]
    assert "report.predictions" in report["evidence"]["note"]
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
    (rmse,) = [line for line in markdown.splitlines() if line.startswith("| **test.rmse** |")]
    assert "✅ better" in rmse, markdown  # no per-row predictions declared: no interval
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
    (rmse,) = [line for line in worse.report_md().splitlines() if "| **test.rmse** |" in line]
    assert "❌ worse" in rmse, rmse


# --- Served: its Bento on the serving runtime, smoke, drift, the rendered deploy files ---

LOG_KEY = "second-model-log-key"
MAX_ROWS = 1_000  # per request, the service's limit
LOG_WAIT_SECONDS = 30  # the request log is written after the response, off the request path
SHIFTED_REQUESTS = 3  # requests of MAX_ROWS bigger stones: the logs then drift


@dataclass(frozen=True)
class Served:
    """The base's Bento served on a free port, and its request log directory."""

    example: Example
    running: Running
    log_dir: Path

    def post(self, rows: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(f"{self.running.url}/predict", json={"diamonds": rows}, timeout=30)

    def mlgitops(self, *args: str) -> Result:
        return self.example.checkout.run("mlgitops", *args, "--url", self.running.url)


@pytest.fixture(scope="module")
def served(example: Example) -> Iterator[Served]:
    from mlgitops.serving.requestlog import DIR_ENV, KEY_ENV

    side = example.checkout.path.parent / "serve"
    log_dir = side / "request-logs"
    env = {
        "BENTOML_HOME": str(side / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "true",
        DIR_ENV: str(log_dir),
        KEY_ENV: LOG_KEY,
    }
    build = example.checkout.run("mlgitops", "build", "--group", "", extra_env=env)
    assert build.returncode == 0, str(build)
    tag = build.stdout.strip().splitlines()[-1]
    bento = side / "bentoml" / "bentos" / Path(tag.replace(":", "/"))
    assert (bento / "src" / "models" / "card.json").is_file(), str(build)
    labels = yaml.safe_load((bento / "bento.yaml").read_text())["labels"]
    card = json.loads((bento / "src" / "models" / "card.json").read_text())
    assert labels["model_sha256"] == card["model"]["sha256"]
    # Served from elsewhere, without the checkout on PYTHONPATH: the Bento's own files answer.
    serve_env = {k: v for k, v in example.checkout.env.items() if k != "PYTHONPATH"} | env
    built = Built(example.checkout, tag, bento, serve_env, log_dir)
    running = start(tag, built, side / "cwd")
    try:
        wait_until(running, "/readyz")
        yield Served(example, running, log_dir)
    finally:
        stop(running)


def _card(example: Example) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((example.checkout.path / "models/card.json").read_text())
    return loaded


def _test_rows(example: Example) -> list[dict[str, Any]]:
    """The held-out diamonds as a client sends them (no price)."""
    frame = pd.read_parquet(example.checkout.path / "data/prepared/test.parquet")
    return cast(list[dict[str, Any]], frame.drop(columns="price").to_dict("records"))


def _logged(log_dir: Path, at_least: int) -> int:
    """Lines in the request log once there are `at_least` (bounded wait)."""
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:
        count = sum(len(path.read_bytes().splitlines()) for path in log_dir.glob("*.jsonl*"))
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def test_the_service_answers_its_golden_rows_as_its_card_says(served: Served) -> None:
    golden = _card(served.example)["golden"]
    response = served.post([case["input"] for case in golden["cases"]])
    assert response.status_code == 200, response.text
    for answer, case in zip(response.json(), golden["cases"], strict=True):
        assert answer["stone_id"] == case["expected"]["stone_id"]
        assert answer["predicted_price"] == pytest.approx(case["expected"]["predicted_price"])
    refused = served.post([{**golden["cases"][0]["input"], "cut": "Flawless"}])
    assert refused.status_code == 400, refused.text
    assert refused.json()["problems"][0]["field"] == "diamonds[0].cut", refused.text
    metrics = httpx.get(f"{served.running.url}/metrics", timeout=10).text
    assert "predicted_price_bucket" in metrics  # the histogram the alert rules read


def test_smoke_checks_the_service_against_its_card(served: Served) -> None:
    smoke = served.mlgitops("smoke", "--card", "models/card.json", "--max-p99-ms", "1000")
    assert smoke.returncode == 0, str(smoke)
    assert "predicted_price" in smoke.flat and "no carat" in smoke.flat, str(smoke)


def test_smoke_fails_when_the_service_is_not_the_cards_model(served: Served) -> None:
    card = _card(served.example)
    card["golden"]["cases"][0]["expected"]["predicted_price"] += 100.0
    other = served.example.checkout.path.parent / "other-card.json"
    other.write_text(json.dumps(card))
    smoke = served.mlgitops("smoke", "--card", str(other), "--max-p99-ms", "1000")
    assert smoke.returncode == 1, str(smoke)
    assert "golden 0" in smoke.flat and "predicted_price" in smoke.flat, str(smoke)


def test_drift_reads_the_request_log_the_service_wrote(served: Served) -> None:
    rows = _test_rows(served.example)[:MAX_ROWS]
    assert served.post(rows).status_code == 200
    assert _logged(served.log_dir, len(rows)) >= len(rows)
    out = served.example.checkout.path.parent / "drift-same"
    drift = served.example.checkout.run(
        "mlgitops", "drift", "--reference", "data/reference.parquet",
        "--current", str(served.log_dir), "--out", str(out),
    )  # fmt: skip
    assert drift.returncode == 0, str(drift)
    report = json.loads((out / "drift.json").read_text())
    compared = report["features"]
    assert set(compared) == {"carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z",
                             "predicted_price"}, sorted(compared)  # fmt: skip
    assert compared["predicted_price"]["kind"] == "score"
    assert report["verdict"] == "no drift" and report["drifted"] == [], report

    # The shop starts selling bigger stones: carat and size move, and so do the prices.
    bigger = [
        {**row, "carat": min(row["carat"] * 1.8, 6.0), "x": row["x"] * 1.2, "y": row["y"] * 1.2,
         "z": row["z"] * 1.2}
        for row in rows
    ]  # fmt: skip
    for _ in range(SHIFTED_REQUESTS):
        assert served.post(bigger).status_code == 200
    total = len(rows) * (1 + SHIFTED_REQUESTS)
    assert _logged(served.log_dir, total) >= total
    out = served.example.checkout.path.parent / "drift-bigger"
    drift = served.example.checkout.run(
        "mlgitops", "drift", "--reference", "data/reference.parquet",
        "--current", str(served.log_dir), "--out", str(out),
    )  # fmt: skip
    assert drift.returncode == 3, str(drift)
    report = json.loads((out / "drift.json").read_text())
    drifted = {name for name, feature in report["features"].items() if feature["drifted"]}
    assert {"carat", "x", "predicted_price"} <= drifted, report


def test_render_writes_its_deploy_and_alert_files(example: Example) -> None:
    checkout = example.checkout.copy_to(example.checkout.path.parent.parent / "render" / "repo")
    render = checkout.run("mlgitops", "render", "--out", "deploy")
    assert render.returncode == 0, str(render)
    files = {path.name: path.read_text() for path in (checkout.path / "deploy").iterdir()}
    assert set(files) == {"workflow-template.yaml", "rbac.yaml", "retrain-cron.yaml",
                          "alerts.yaml"}  # fmt: skip
    for name, text in files.items():
        assert "churn" not in text.lower() and "customer" not in text.lower(), name
    template = yaml.safe_load(files["workflow-template.yaml"])
    assert template["metadata"]["namespace"] == "pricing"
    assert "http://diamond-prices.pricing.svc:3000" in files["workflow-template.yaml"]
    (group,) = yaml.safe_load(files["alerts.yaml"])["groups"]
    rules = {rule["alert"]: rule for rule in group["rules"]}
    shift = next(rule for name, rule in rules.items() if name.endswith("ScoreShift"))
    assert 'predicted_price_bucket{job="diamond-prices",le="8000.0"}' in shift["expr"], shift
    assert all(rule["labels"]["service"] == "diamond-prices" for rule in rules.values()), rules
