"""The promises retrain.yml makes, checked on the file (tests/e2e/test_retrain.py runs it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflow_steps import WORKFLOWS, load_yaml

WORKFLOW = WORKFLOWS / "retrain.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load_yaml(WORKFLOW)


def _steps(workflow: dict[str, Any], job: str = "retrain") -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in workflow["jobs"][job]["steps"]}


def test_it_runs_on_a_schedule_and_by_hand_only(workflow: dict[str, Any]) -> None:
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"][0]["cron"].count(" ") == 4


def test_write_grants_only_in_the_job_that_writes_when_retraining_is_due(
    workflow: dict[str, Any],
) -> None:
    assert workflow["permissions"] == {}
    drift, retrain = workflow["jobs"]["drift"], workflow["jobs"]["retrain"]
    assert set(workflow["jobs"]) == {"drift", "retrain"}
    assert drift["permissions"] == {"contents": "read"}  # reads logs and data, holds no secret
    assert "secrets." not in str(drift)
    assert retrain["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert retrain["needs"] == "drift"
    assert retrain["if"] == "${{ needs.drift.outputs.due == 'true' }}"
    assert drift["outputs"]["due"] == "${{ steps.drift.outputs.due }}"
    # The report crosses over as this run's artifact, nothing else.
    assert _steps(workflow, "drift")["upload"]["with"]["name"] == "drift-report"
    assert _steps(workflow)["report"]["with"]["name"] == "drift-report"


def test_the_retrain_token_lives_in_the_retrain_environment(workflow: dict[str, Any]) -> None:
    assert workflow["jobs"]["retrain"]["environment"] == "retrain"
    assert "environment" not in workflow["jobs"]["drift"]


def test_no_oidc_token_is_minted_and_the_header_promises_none(workflow: dict[str, Any]) -> None:
    for job in workflow["jobs"].values():
        assert "id-token" not in job["permissions"]
    header = WORKFLOW.read_text().split("\nname:")[0]
    assert "credentials from the AWS_* secrets or OIDC" not in header
    assert "no `id-token` grant" in header


def test_runs_never_overlap_or_cancel_each_other(workflow: dict[str, Any]) -> None:
    assert workflow["concurrency"] == {"group": "retrain", "cancel-in-progress": False}


def test_checkout_has_full_history_and_keeps_no_token(workflow: dict[str, Any]) -> None:
    checkout = _steps(workflow)["checkout"]
    assert str(checkout["uses"]).startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_the_writing_job_restores_no_uv_cache(workflow: dict[str, Any]) -> None:
    assert _steps(workflow)["setup"]["with"]["cache"] == "false"


def test_the_token_is_only_in_the_retrain_steps_environment(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["retrain"]
    for where in (workflow.get("env", {}), job.get("env", {})):
        assert "secrets." not in str(where) and "GITHUB_TOKEN" not in where
    holders = [i for i, step in _steps(workflow).items() if "secrets." in str(step.get("env"))]
    assert holders == ["retrain"]
    assert "RETRAIN_TOKEN" in _steps(workflow)["retrain"]["env"]["GITHUB_TOKEN"]


def test_manual_inputs_reach_the_steps_through_env_only(workflow: dict[str, Any]) -> None:
    inputs = set(workflow["on"]["workflow_dispatch"]["inputs"])
    assert inputs == {"logs-source", "dry-run"}
    jobs = workflow["jobs"]
    assert "inputs.logs-source" in jobs["drift"]["env"]["LOGS_SOURCE"]
    assert "inputs.dry-run" in jobs["retrain"]["env"]["DRY_RUN"]
    for job in jobs:
        for step in _steps(workflow, job).values():
            assert "inputs." not in step.get("run", "")


def test_the_loop_is_logs_pull_drift_retrain_in_that_order(workflow: dict[str, Any]) -> None:
    ids = list(_steps(workflow, "drift"))
    order = ["checkout", "setup", "fetch-logs", "pull", "drift", "upload"]
    assert [i for i in ids if i in order] == order
    ids = list(_steps(workflow))
    order = ["checkout", "setup", "report", "pull", "retrain", "dvc-save"]
    assert [i for i in ids if i in order] == order
    assert "mlgitops retrain-pr --drift" in _steps(workflow)["retrain"]["run"]
