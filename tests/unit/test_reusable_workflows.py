"""The promises of the reusable workflows another repository calls, checked on the files.

reusable-pr.yml reproduces, reports and gates with the caller's read-only token;
reusable-comment.yml publishes on the trusted side. Both install mlgitops at the commit they
were called at and use this repository's actions through `$/`, never the caller's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.workflow_steps import LOOP_STEP_IDS, REPO_ROOT, WORKFLOWS, load_yaml, shell_steps

REUSABLE_PR = WORKFLOWS / "reusable-pr.yml"
REUSABLE_COMMENT = WORKFLOWS / "reusable-comment.yml"
SELF_INSTALL = "git+${{ github.server_url }}/${{ job.workflow_repository }}@${{ job.workflow_sha }}"
GIVEN = {"BASE_SHA": "b" * 40, "HEAD_SHA": "a" * 40, "PR_NUMBER": "7", "RUN_URL": ""}


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _step(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    (found,) = [step for step in _steps(document) if step.get("id") == step_id]
    return found


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load_yaml(REUSABLE_PR)


@pytest.fixture(scope="module")
def publisher() -> dict[str, Any]:
    return load_yaml(REUSABLE_COMMENT)


@pytest.mark.parametrize("path", [REUSABLE_PR, REUSABLE_COMMENT], ids=lambda p: p.name)
def test_only_called_and_with_the_callers_permissions(path: Any) -> None:
    document = load_yaml(path)
    assert list(document["on"]) == ["workflow_call"]
    # No permissions of their own: a called job has what the calling job grants, no more,
    # and asking for id-token here would break every caller that does not use OIDC.
    assert "permissions" not in document
    assert all("permissions" not in job for job in document["jobs"].values())


@pytest.mark.parametrize("path", [REUSABLE_PR, REUSABLE_COMMENT], ids=lambda p: p.name)
def test_mlgitops_comes_from_the_called_commit_not_the_caller(path: Any) -> None:
    document = load_yaml(path)
    setup = _step(document, "setup")
    assert setup["uses"] == "$/.github/actions/setup"
    assert SELF_INSTALL in setup["with"]["packages"]
    for step in _steps(document):
        uses = str(step.get("uses", ""))
        assert not uses.startswith("./"), "a caller's file would run: use $/ instead"
    assert "make setup" not in path.read_text()


def test_pr_runs_the_loop_in_order_and_reports_after_a_failure(pr: dict[str, Any]) -> None:
    steps = pr["jobs"]["reproduce"]["steps"]
    ids = [step.get("id") for step in steps]
    assert [i for i in ids if i in LOOP_STEP_IDS] == list(LOOP_STEP_IDS)
    for step in steps[ids.index("repro") + 1 :]:
        assert "!cancelled()" in step.get("if", ""), step.get("id")
    assert "!github.event.pull_request.head.repo.fork" in _step(pr, "push")["if"]
    assert "dvc repro" in _step(pr, "repro")["run"]
    assert "(--pull --allow-missing)" in _step(pr, "repro")["run"]
    assert _step(pr, "upload")["with"]["name"] == "mlgitops-report"
    assert _step(pr, "checkout")["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_pr_secrets_reach_dvc_config_only_not_the_job(pr: dict[str, Any]) -> None:
    job = pr["jobs"]["reproduce"]
    assert not any(
        "secrets." in str(value) and "HAS_" not in name for name, value in job["env"].items()
    )
    env = _step(pr, "dvc-config")["env"]
    declared = set(pr["on"]["workflow_call"]["secrets"])
    assert {value.split("secrets.")[1].rstrip(" }") for value in env.values()} <= declared


def test_pr_shell_steps_resolve_like_this_repositorys_pr_yml() -> None:
    steps = shell_steps(REUSABLE_PR, "reproduce", GIVEN, ids=LOOP_STEP_IDS)
    assert [step.id for step in steps] == list(LOOP_STEP_IDS)
    assert [step.id for step in steps if step.skipped_for_forks] == ["push"]


def test_publisher_checks_out_nothing_and_validates_before_posting(
    publisher: dict[str, Any],
) -> None:
    uses = [str(step.get("uses", "")) for step in _steps(publisher)]
    assert not any(use.startswith("actions/checkout@") for use in uses)
    ids = [step.get("id") for step in _steps(publisher)]
    assert ids.index("download") < ids.index("validate") < ids.index("comment")
    assert _step(publisher, "validate")["uses"] == "$/.github/actions/validate"
    assert _step(publisher, "download")["with"]["path"].startswith("${{ runner.temp }}/")
    # The PR is resolved from the API by `mlgitops comment` (head repo, ref and sha).
    assert _step(publisher, "comment")["with"]["head-repo"] == (
        "${{ github.event.workflow_run.head_repository.full_name }}"
    )
    assert _step(publisher, "comment")["with"]["head-ref"] == (
        "${{ github.event.workflow_run.head_branch }}"
    )
    assert _step(publisher, "comment")["with"]["token"] == "${{ secrets.GITHUB_TOKEN }}"


def test_publisher_publishes_only_for_a_finished_pull_request_run(
    publisher: dict[str, Any],
) -> None:
    condition = publisher["jobs"]["publish"]["if"]
    assert "github.event_name == 'workflow_run'" in condition
    assert "github.event.workflow_run.event == 'pull_request'" in condition
    assert "github.event.workflow_run.conclusion != 'cancelled'" in condition


@pytest.mark.parametrize(
    ("step_id", "input_name", "login"),
    [
        ("aws-oidc", "aws-role-arn", "aws-actions/configure-aws-credentials@"),
        ("gcp-auth", "gcp-workload-identity-provider", "google-github-actions/auth@"),
    ],
)
def test_oidc_logins_run_only_when_the_caller_asks(
    pr: dict[str, Any], step_id: str, input_name: str, login: str
) -> None:
    step = _step(pr, step_id)
    assert step["if"] == f"inputs.{input_name} != ''"
    assert step["uses"].startswith(login)
    ids = [s.get("id") for s in pr["jobs"]["reproduce"]["steps"]]
    assert ids.index(step_id) < ids.index("pull")


@pytest.mark.parametrize(
    "path",
    [
        WORKFLOWS / "pr-comment.yml",
        REUSABLE_COMMENT,
        REPO_ROOT / ".github" / "actions" / "comment" / "action.yml",
        REPO_ROOT / ".github" / "actions" / "validate" / "action.yml",
    ],
    ids=lambda path: path.name if path.name != "action.yml" else path.parent.name,
)
def test_no_publisher_script_puts_a_token_on_a_command_line(path: Path) -> None:
    """A token reaches a program through its environment only: argv is visible to every
    process on the runner (ps, /proc) and ends up in `set -x` traces."""
    document = load_yaml(path)
    jobs = document.get("jobs") or {"action": {"steps": document["runs"]["steps"]}}
    for job in jobs.values():
        for step in job["steps"]:
            script = str(step.get("run", ""))
            assert "TOKEN" not in script and "Authorization" not in script, (path, step)
            assert "curl" not in script, (path, step)


def test_pr_hands_the_reproduction_to_the_cluster_as_pr_yml_does(pr: dict[str, Any]) -> None:
    """The cluster step (tests/unit/pipeline/test_command.py runs it against the Argo stand-in)
    sits between pull and repro, never runs for a fork, gets the Argo token as its own
    variable only, and repro checks its dvc.lock against the cluster's exactly as pr.yml."""
    own = load_yaml(WORKFLOWS / "pr.yml")
    ids = [s.get("id") for s in pr["jobs"]["reproduce"]["steps"]]
    assert ids.index("pull") < ids.index("cluster") < ids.index("repro")
    cluster = _step(pr, "cluster")
    assert cluster["if"] == _step(own, "cluster")["if"]
    assert "!github.event.pull_request.head.repo.fork" in cluster["if"]
    assert cluster["env"]["ARGO_SERVER"] == "${{ inputs.argo-server }}"
    assert cluster["env"]["PIPELINE_IMAGE"] == "${{ inputs.pipeline-image }}"
    assert cluster["env"]["LABELLED"] == _step(own, "cluster")["env"]["LABELLED"]
    call = pr["on"]["workflow_call"]
    assert call["secrets"]["ARGO_TOKEN"] == {**call["secrets"]["ARGO_TOKEN"], "required": False}
    assert {"argo-server", "pipeline-image"} <= set(call["inputs"])
    holders = [s.get("id") for s in _steps(pr) if "secrets.ARGO_TOKEN" in str(s.get("env"))]
    assert holders == ["cluster"]
    # Hera only for a caller that names an Argo Server: the others keep their install.
    packages = _step(pr, "setup")["with"]["packages"]
    assert "inputs.argo-server != '' && 'stats,deploy' || 'stats'" in packages
    diff = 'diff -u "$RUNNER_TEMP/cluster-dvc.lock" dvc.lock'
    assert diff in _step(own, "repro")["run"] and diff in _step(pr, "repro")["run"]
