"""The pipeline as a user runs it: from nothing, again, after a param change, twice over."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from churn import schema
from tests.checkout import (
    Checkout,
    Golden,
    committed,
    md5,
    pipeline_outputs,
    reproduce_from_nothing,
    sha256,
)

pytestmark = pytest.mark.e2e

STAGES = ("prepare", "validate", "train_params", "train", "evaluate")
TRAINING = ("train_params", "train", "evaluate")  # what a training parameter change re-runs
PLAUSIBLE_ROC_AUC = (0.80, 0.90)  # published results on the Telco churn data sit in this band


def _pointer_md5(checkout: Checkout) -> str:
    pointer = checkout.path / "data/raw/telco_churn.csv.dvc"
    return str(yaml.safe_load(pointer.read_text())["outs"][0]["md5"])


def test_the_whole_pipeline_runs_from_nothing(golden: Golden) -> None:
    checkout = golden.checkout
    raw = checkout.path / "data/raw/telco_churn.csv"
    assert md5(raw) == _pointer_md5(checkout)
    # fetch_data pushed the raw bytes into the copy's own remote.
    remote = checkout.path / ".dvc-remote"
    assert _pointer_md5(checkout) in {md5(path) for path in remote.rglob("*") if path.is_file()}

    assert golden.repro.ran == list(STAGES), str(golden.repro)
    for name in pipeline_outputs(checkout.path / "dvc.yaml"):
        output = checkout.path / name
        assert output.is_file() or any(output.iterdir()), f"{name} was not produced"
    report = json.loads((checkout.path / "reports/validation.json").read_text())
    assert report["status"] == "passed", report


def test_test_roc_auc_is_plausible_for_this_data(golden: Golden) -> None:
    metrics = json.loads((golden.checkout.path / "metrics.json").read_text())
    low, high = PLAUSIBLE_ROC_AUC
    assert low <= metrics["test"]["roc_auc"] <= high, metrics


def test_the_model_card_describes_the_model_and_data(golden: Golden) -> None:
    checkout = golden.checkout
    card = json.loads((checkout.path / "models/card.json").read_text())
    assert card["model"]["sha256"] == sha256(checkout.path / "models/model.txt")
    assert card["data"]["raw_md5"] == _pointer_md5(checkout)
    assert card["features"] == list(schema.FEATURES)
    assert schema.LABEL not in card["features"]
    params = yaml.safe_load((checkout.path / "params.yaml").read_text())
    assert card["threshold"] == params["evaluate"]["threshold"]  # evaluate and the service read it
    assert card["params"]["num_boost_round"] == params["train"]["num_boost_round"]
    assert "trained_at" not in card and "git" not in card  # no clock, no revision


def test_committed_results_are_what_the_pipeline_reproduces(golden: Golden) -> None:
    """The metrics and validation report in git are what code + data + params give."""
    for name in ("metrics.json", "reports/validation.json"):
        assert (golden.checkout.path / name).read_bytes() == committed(golden.checkout, name), name


def test_a_fresh_clone_reproduces_to_a_clean_git_status(golden: Golden) -> None:
    """dvc.lock, the plots and every other committed output come back byte for byte.

    Fails when the card holds a clock or a revision, or when a change to the pipeline's code,
    params or data was committed without the dvc.lock that `make run` writes for it.
    """
    status = golden.checkout.run("git", "status", "--porcelain")

    assert status.returncode == 0, str(status)
    assert status.stdout == "", str(status)


def test_training_again_at_another_commit_writes_the_same_card(reproduced: Checkout) -> None:
    readme = reproduced.path / "README.md"
    readme.write_text(readme.read_text() + "\nAnother commit, the same inputs.\n")
    for command in (("git", "add", "README.md"), ("git", "commit", "--quiet", "-m", "docs")):
        assert reproduced.run(*command).returncode == 0
    watched = ("models/card.json", "models/model.txt", "dvc.lock")
    before = reproduced.digests(*watched)

    again = reproduced.repro("--force", "--single-item", "train")

    assert again.returncode == 0, str(again)
    assert again.ran == ["train"], str(again)
    assert reproduced.digests(*watched) == before


def test_a_misspelt_training_parameter_stops_before_training(reproduced: Checkout) -> None:
    params = reproduced.path / "params.yaml"
    text, count = re.subn(
        r"^(\s+)num_leaves:\s*\d+", r"\g<1>num_leafs: 31", params.read_text(), flags=re.MULTILINE
    )
    assert count == 1
    params.write_text(text)
    model = ("models/model.txt", "models/card.json")
    before = reproduced.digests(*model)

    repro = reproduced.repro()

    assert repro.returncode != 0, str(repro)
    sentence = "params.yaml: train.num_leafs is not a LightGBM parameter; did you mean num_leaves?"
    assert sentence in repro.stderr, str(repro)
    assert "failed to reproduce 'train_params'" in repro.stderr, str(repro)
    assert "train" not in repro.ran, str(repro)
    assert reproduced.digests(*model) == before


def test_a_second_repro_runs_nothing(reproduced: Checkout) -> None:
    watched = ("dvc.lock", "data/prepared", "reports", "models", "metrics.json", "plots")
    before = reproduced.digests(*watched)

    again = reproduced.repro()

    assert again.returncode == 0, str(again)
    assert again.ran == [], str(again)
    assert sorted(again.skipped) == sorted(STAGES), str(again)
    assert reproduced.digests(*watched) == before


def test_a_training_param_change_reruns_only_train_and_evaluate(reproduced: Checkout) -> None:
    params = reproduced.path / "params.yaml"
    rounds = yaml.safe_load(params.read_text())["train"]["num_boost_round"]
    text, count = re.subn(
        rf"^(\s+num_boost_round:\s*){rounds}\b",
        rf"\g<1>{rounds // 2}",
        params.read_text(),
        flags=re.MULTILINE,
    )
    assert count == 1
    params.write_text(text)
    # validate's report; reports/predictions.parquet is evaluate's and changes with the model
    upstream = reproduced.digests("data/prepared", "reports/validation.json")
    model_before = sha256(reproduced.path / "models/model.txt")
    metrics_before = (reproduced.path / "metrics.json").read_bytes()

    changed = reproduced.repro()

    assert changed.returncode == 0, str(changed)
    assert changed.ran == list(TRAINING), str(changed)
    assert sorted(changed.skipped) == ["prepare", "validate"], str(changed)
    assert reproduced.digests("data/prepared", "reports/validation.json") == upstream
    assert sha256(reproduced.path / "models/model.txt") != model_before
    assert (reproduced.path / "metrics.json").read_bytes() != metrics_before


def test_a_threshold_change_reaches_the_card_and_the_metrics(reproduced: Checkout) -> None:
    """The threshold travels in the card: train writes it (the same model), evaluate reads it."""
    params = reproduced.path / "params.yaml"
    text, count = re.subn(
        r"^(\s+threshold:\s*)[\d.]+", r"\g<1>0.3", params.read_text(), flags=re.MULTILINE
    )
    assert count == 1
    params.write_text(text)
    model_before = sha256(reproduced.path / "models/model.txt")
    metrics_before = json.loads((reproduced.path / "metrics.json").read_text())

    changed = reproduced.repro()

    assert changed.returncode == 0, str(changed)
    assert changed.ran == ["train", "evaluate"], str(changed)
    assert sha256(reproduced.path / "models/model.txt") == model_before
    card = json.loads((reproduced.path / "models/card.json").read_text())
    assert card["threshold"] == 0.3
    metrics = json.loads((reproduced.path / "metrics.json").read_text())
    assert metrics["test"]["roc_auc"] == metrics_before["test"]["roc_auc"]
    assert metrics["test"]["f1"] != metrics_before["test"]["f1"]


def test_two_clean_runs_give_identical_results(golden: Golden, tmp_path: Path) -> None:
    second = reproduce_from_nothing(tmp_path / "repo")

    assert second.repro.ran == list(STAGES), str(second.repro)
    for name in ("metrics.json", "models/model.txt", "reports/validation.json"):
        assert (second.checkout.path / name).read_bytes() == (
            golden.checkout.path / name
        ).read_bytes(), name
    plots = ("plots/roc.csv", "plots/precision_recall.csv", "plots/confusion.csv")
    assert second.checkout.digests(*plots) == golden.checkout.digests(*plots)
