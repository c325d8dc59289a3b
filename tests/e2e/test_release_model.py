"""release.yml's `model` step, run as CI runs it: the image gets the model the merged dvc.lock
names, and a workspace that trains another model stops the release."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.checkout import Checkout, Result
from tests.workflow_steps import WORKFLOWS, shell_steps

pytestmark = pytest.mark.e2e


def _run_model_step(checkout: Checkout) -> Result:
    (step,) = shell_steps(WORKFLOWS / "release.yml", "image", {}, ids=["model"])
    completed = subprocess.run(
        step.argv, cwd=checkout.path, env={**checkout.env, **step.env},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return Result(("step", step.id), completed.returncode, completed.stdout, completed.stderr)


def test_the_merged_model_passes(reproduced: Checkout) -> None:
    result = _run_model_step(reproduced)
    assert result.returncode == 0, result.output


def test_another_model_stops_the_release(reproduced: Checkout) -> None:
    params_path = reproduced.path / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    params["train"]["num_boost_round"] += 20  # not committed: HEAD's dvc.lock names the old model
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))

    result = _run_model_step(reproduced)

    assert result.returncode == 1, result.output
    assert "models/model.txt is not the model the merged dvc.lock names" in result.stdout
