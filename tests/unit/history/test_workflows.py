"""The delivery record's workflow steps, run as CI runs them against the GitHub stand-in:
release.yml's deployment record, pr-comment.yml's gate label, history.yml's schedule."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.standins.github import FakeGitHub
from tests.workflow_steps import REPO_ROOT, WORKFLOWS, load_yaml, shell_steps

NAME = "octo/churn"
SHA = "a" * 40
VENV_BIN = Path(sys.executable).parent


def _run(argv: tuple[str, ...], env: dict[str, str], cwd: Path) -> Any:
    import subprocess

    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _env(tmp_path: Path, url: str, fake: FakeGitHub, **more: str) -> dict[str, str]:
    return {
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{VENV_BIN}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path), "GITHUB_API_URL": url, "GITHUB_REPOSITORY": NAME,
        "GITHUB_SHA": SHA, "GITHUB_OUTPUT": str(tmp_path / "output"), **more,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "state", "description"),
    [
        ({"phase": "Succeeded", "failed_step": None, "message": "", "rolled_back": False},
         "success", "serving: the rollout and smoke test succeeded"),
        ({"phase": "Failed", "failed_step": "smoke-test", "message": "2 of 5 requests failed",
          "rolled_back": True},
         "failure", "rolled back: step smoke-test failed: 2 of 5 requests failed"),
        ({"phase": "Failed", "failed_step": "rollout", "message": "timed out",
          "rolled_back": False},
         "error", "step rollout failed: timed out; the rollback did not finish"),
        (None, "error",
         "the deploy stopped before the Argo run ended (no outcome; see the run log)"),
    ],
)  # fmt: skip
def test_release_records_a_deployment_and_its_outcome(
    tmp_path: Path, outcome: dict[str, Any] | None, state: str, description: str
) -> None:
    fake = FakeGitHub()
    fake.add_repo(NAME)
    outcome_file = tmp_path / "deploy-outcome.json"
    if outcome is not None:
        outcome_file.write_text(json.dumps(outcome))
    release = WORKFLOWS / "release.yml"
    with fake.serve() as url:
        given = {"GITHUB_TOKEN": fake.token, "IMAGE": f"ghcr.io/octo/churn:1@sha256:{'d' * 64}",
                 "MODEL_SHA": "e" * 64, "RUN_URL": "https://github.com/octo/churn/actions/runs/7",
                 "OUTCOME": str(outcome_file)}  # fmt: skip
        (start,) = shell_steps(release, "deploy", given, ids=["record-start"])
        env = _env(tmp_path, url, fake)
        done = _run(start.argv, {**env, **start.env}, tmp_path)
        assert done.returncode == 0, done.stderr
        (line,) = (tmp_path / "output").read_text().splitlines()
        assert line.startswith("id=")
        given["DEPLOYMENT_ID"] = line.removeprefix("id=")
        (finish,) = shell_steps(release, "deploy", given, ids=["record-outcome"])
        assert finish.runs_after_failure  # a failed or cancelled deploy still gets its status
        done = _run(finish.argv, {**env, **finish.env}, tmp_path)
        assert done.returncode == 0, done.stderr
    (deployment,) = fake.deployments[NAME]
    assert deployment["sha"] == SHA and deployment["environment"] == "production"
    assert deployment["task"] == "deploy:mlgitops"
    assert deployment["payload"] == {"image": given["IMAGE"], "model_sha256": "e" * 64}
    states = [(s["state"], s["description"]) for s in deployment["statuses"]]
    assert states == [("in_progress", "rolling out"), (state, description)]
    assert deployment["statuses"][-1]["log_url"] == given["RUN_URL"]
    assert fake.token not in done.stdout + done.stderr


def test_release_may_write_deployments_and_hands_the_outcome_file_over() -> None:
    deploy = load_yaml(WORKFLOWS / "release.yml")["jobs"]["deploy"]
    steps = {step.get("id"): step for step in deploy["steps"]}
    assert deploy["permissions"]["deployments"] == "write"
    ids = list(steps)
    assert ids.index("record-start") < ids.index("deploy") < ids.index("record-outcome")
    assert steps["deploy"]["with"]["outcome"] == steps["record-outcome"]["env"]["OUTCOME"]
    # Recording never holds a release back, nor fails one that succeeded.
    assert steps["record-start"]["continue-on-error"] is True
    assert steps["record-outcome"]["continue-on-error"] is True


@pytest.mark.parametrize(("gate_exit", "labelled"), [(1, True), (0, False), (2, False)])
def test_a_pr_the_gate_fails_is_labelled(tmp_path: Path, gate_exit: int, labelled: bool) -> None:
    """pr-comment.yml's gate-label step, with a stand-in for `mlgitops gate` only (its exit
    code), the real `mlgitops history label` against the GitHub stand-in."""
    fake = FakeGitHub()
    fake.add_repo(NAME)
    fake.add_pull(NAME, 12, head_sha=SHA)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mlgitops").write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = gate ]; then exit {gate_exit}; fi\n'
        f'exec {VENV_BIN / "mlgitops"} "$@"\n'
    )
    (bin_dir / "mlgitops").chmod(0o755)
    with fake.serve() as url:
        given = {"GITHUB_TOKEN": fake.token, "REPORT_DIR": str(tmp_path), "PR_NUMBER": "12"}
        (step,) = shell_steps(WORKFLOWS / "pr-comment.yml", "publish", given, ids=["gate-label"])
        done = _run(step.argv, {**_env(tmp_path, url, fake), **step.env}, REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert fake.repos[NAME].labels.get(12, []) == (["gate-failed"] if labelled else [])
    assert step.continue_on_error  # the comment after it is published whatever happens here


def test_the_record_is_posted_monthly_with_only_what_it_needs() -> None:
    workflow = load_yaml(WORKFLOWS / "history.yml")
    assert workflow["on"]["schedule"] == [{"cron": "0 6 1 * *"}]
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["record"]
    assert job["permissions"] == {"contents": "write", "issues": "write", "pull-requests": "read",
                                  "deployments": "read"}  # fmt: skip
