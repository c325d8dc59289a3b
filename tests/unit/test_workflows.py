"""The promises pr.yml and pr-comment.yml make, checked on the files themselves.

Each test names one property the issue asks for (full history, read-only token, cancelled
superseded runs, pinned actions, no push from forks, a publisher that never runs PR code and
treats the artifact as data), so deleting the property from the workflow fails its test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tests.workflow_steps import (
    LOOP_STEP_IDS,
    PR_EVENT_ENV,
    PR_JOB,
    PR_WORKFLOW,
    REPO_ROOT,
    WORKFLOWS,
    UnresolvedError,
    load_yaml,
    shell_steps,
)

COMMENT_WORKFLOW = WORKFLOWS / "pr-comment.yml"
ACTIONS = REPO_ROOT / ".github" / "actions"
SCHEMAS = REPO_ROOT / ".github" / "schemas"
PLUGINS = ("setup", "report", "gate", "comment")
ALL_FILES = sorted([*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")])
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
HEAD = "a" * 40
GIVEN = {"BASE_SHA": "b" * 40, "HEAD_SHA": HEAD, "PR_NUMBER": "7", "RUN_URL": ""}


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of every job of a workflow, or of a composite action."""
    if "jobs" in document:
        return [step for job in document["jobs"].values() for step in job["steps"]]
    return list(document["runs"]["steps"])


def _step(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    (found,) = [step for step in _steps(document) if step.get("id") == step_id]
    return found


def _checkouts(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _steps(document) if str(s.get("uses", "")).startswith("actions/checkout@")]


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load_yaml(PR_WORKFLOW)


@pytest.fixture(scope="module")
def publisher() -> dict[str, Any]:
    return load_yaml(COMMENT_WORKFLOW)


def test_pr_runs_on_pull_request_with_a_read_only_token(pr: dict[str, Any]) -> None:
    assert list(pr["on"]) == ["pull_request"]
    assert pr["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in pr["jobs"].values())


def test_pr_cancels_superseded_runs_of_the_same_pull_request(pr: dict[str, Any]) -> None:
    assert pr["concurrency"] == {
        "group": "pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_pr_checks_out_full_history_without_keeping_the_token(pr: dict[str, Any]) -> None:
    (checkout,) = _checkouts(pr)
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_action_is_local_or_pinned_to_a_commit_with_its_version(path: Path) -> None:
    # The version comment is only in the text, so read the lines, and count them against the
    # YAML so that no `uses:` escapes the check.
    uses = [
        line.split("uses:", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.strip().removeprefix("- ").startswith("uses:")
    ]
    assert len(uses) == len([step for step in _steps(load_yaml(path)) if "uses" in step])
    for ref in uses:
        assert ref.startswith("$/.github/actions/") or PINNED.match(ref), ref


def test_the_workflows_use_third_party_actions_at_all() -> None:
    pinned = [line for path in ALL_FILES for line in path.read_text().splitlines() if "@" in line]
    assert any("actions/checkout@" in line for line in pinned)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_no_expression_is_spliced_into_a_shell_script(path: Path) -> None:
    for step in _steps(load_yaml(path)):
        assert "${{" not in step.get("run", ""), step.get("id") or step.get("name")


def test_the_loop_runs_pull_repro_push_report_gate_in_that_order(pr: dict[str, Any]) -> None:
    ids = [step.get("id") for step in pr["jobs"][PR_JOB]["steps"]]
    assert [i for i in ids if i in LOOP_STEP_IDS] == list(LOOP_STEP_IDS)
    pull = _step(pr, "pull")["run"]
    assert "dvc pull -a --run-cache --allow-missing" in pull
    assert 'git branch --force mlgitops-base "$BASE_SHA"' in pull
    assert 'dvc repro --pull 2>&1 | tee "$REPORT_DIR/repro.log"' in _step(pr, "repro")["run"]
    assert _step(pr, "report")["with"]["repro-log"] == "${{ env.REPORT_DIR }}/repro.log"


def test_a_failed_repro_or_gate_still_ends_in_an_uploaded_report(pr: dict[str, Any]) -> None:
    ids = [step.get("id") for step in pr["jobs"][PR_JOB]["steps"]]
    after_repro = pr["jobs"][PR_JOB]["steps"][ids.index("repro") + 1 :]
    assert "upload" in [step.get("id") for step in after_repro]
    for step in after_repro:
        assert "!cancelled()" in step.get("if", ""), step.get("id")
    # No step swallows a failure: the job itself fails when repro or gate did.
    assert not any(step.get("continue-on-error") for step in pr["jobs"][PR_JOB]["steps"])


@pytest.mark.parametrize("step_id", ["push", "remote-digest", "dvc-save"])
def test_forks_never_push_the_cache(pr: dict[str, Any], step_id: str) -> None:
    assert "!github.event.pull_request.head.repo.fork" in _step(pr, step_id)["if"]


def test_push_shares_the_run_cache(pr: dict[str, Any]) -> None:
    assert _step(pr, "push")["run"].strip() == "dvc push --run-cache"


def test_the_artifact_holds_the_report_directory_and_pr_json(pr: dict[str, Any]) -> None:
    upload = _step(pr, "upload")
    assert upload["with"]["path"] == "${{ env.REPORT_DIR }}/"
    assert pr["env"]["REPORT_DIR"] == "report"
    assert '> "$REPORT_DIR/pr.json"' in _step(pr, "pr-json")["run"]


def test_shell_steps_are_the_loop_as_ci_runs_it() -> None:
    steps = shell_steps(PR_WORKFLOW, PR_JOB, GIVEN, ids=LOOP_STEP_IDS)
    assert [step.id for step in steps] == list(LOOP_STEP_IDS)
    report = steps[LOOP_STEP_IDS.index("report")]
    assert report.env["REPORT_BASE"] == GIVEN["BASE_SHA"]
    assert report.env["REPORT_OUT"] == "report/report.md"
    assert 'mlgitops "${args[@]}"' in report.script
    assert [step.id for step in steps if step.skipped_for_forks] == ["push"]
    assert [step.id for step in steps if not step.runs_after_failure] == ["pull", "repro"]


def test_shell_steps_refuse_to_guess_an_event_value() -> None:
    given = {name: GIVEN[name] for name in PR_EVENT_ENV if name != "BASE_SHA"}
    with pytest.raises(UnresolvedError, match="BASE_SHA"):
        shell_steps(PR_WORKFLOW, PR_JOB, given, ids=["pull"])


def test_pr_json_step_writes_what_the_schema_accepts(tmp_path: Path) -> None:
    (step,) = shell_steps(PR_WORKFLOW, PR_JOB, GIVEN, ids=["pr-json"])
    env = {**os.environ, **step.env, "REPORT_DIR": str(tmp_path)}
    subprocess.run(step.argv, env=env, check=True, timeout=120)
    assert json.loads((tmp_path / "pr.json").read_text()) == {"pr_number": 7, "head_sha": HEAD}
    assert _validate("pr", tmp_path / "pr.json").returncode == 0


# The publisher.


def test_publisher_runs_after_pr_and_only_for_pull_requests(
    pr: dict[str, Any], publisher: dict[str, Any]
) -> None:
    assert publisher["on"] == {"workflow_run": {"workflows": [pr["name"]], "types": ["completed"]}}
    condition = publisher["jobs"]["publish"]["if"]
    assert "github.event.workflow_run.event == 'pull_request'" in condition


def test_publisher_asks_only_for_the_permissions_it_uses(publisher: dict[str, Any]) -> None:
    assert publisher["permissions"] == {}
    assert publisher["jobs"]["publish"]["permissions"] == {
        "actions": "read",
        "contents": "write",
        "pull-requests": "write",
    }


def test_publisher_never_checks_out_the_pull_request(publisher: dict[str, Any]) -> None:
    checkouts = _checkouts(publisher)
    assert checkouts
    for checkout in checkouts:
        assert set(checkout.get("with", {})) <= {"persist-credentials"}
        assert checkout["with"]["persist-credentials"] is False
    text = COMMENT_WORKFLOW.read_text()
    assert not re.search(r"^\s*(ref|repository):", text, re.MULTILINE)


def test_publisher_downloads_the_artifact_as_data_into_temp(
    pr: dict[str, Any], publisher: dict[str, Any]
) -> None:
    download = _step(publisher, "download")["with"]
    assert download["name"] == _step(pr, "upload")["with"]["name"]
    assert download["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["path"].startswith("${{ runner.temp }}/")
    assert _step(publisher, "validate")["uses"] == "$/.github/actions/validate"
    action = ACTIONS / "validate" / "action.yml"
    validate = _step(load_yaml(action), "validate")["run"]
    assert 'schemas="$GITHUB_ACTION_PATH/../../schemas"' in validate
    for schema in ("pr", "report"):
        assert f'"$schemas/{schema}.schema.json"' in validate
        assert (action.parent / "../../schemas" / f"{schema}.schema.json").resolve().is_file()


def test_publisher_posts_with_the_token_from_secrets(publisher: dict[str, Any]) -> None:
    comment = _step(publisher, "comment")
    assert comment["uses"] == "$/.github/actions/comment"
    assert comment["with"]["token"] == "${{ secrets.GITHUB_TOKEN }}"
    assert comment["with"]["pr"] == "${{ steps.validate.outputs.pr }}"
    # The PR, the words and the verdict are resolved by `mlgitops comment` itself (issue 18).
    assert (
        comment["with"]["head-repo"] == "${{ github.event.workflow_run.head_repository.full_name }}"
    )
    assert comment["with"]["base-params"] == "params.yaml"
    action = load_yaml(ACTIONS / "comment" / "action.yml")
    assert action["runs"]["steps"][0]["env"]["GITHUB_TOKEN"] == "${{ inputs.token }}"


# The composite actions.


@pytest.mark.parametrize("plugin", PLUGINS)
def test_each_plugin_is_a_thin_composite_action(plugin: str) -> None:
    action = load_yaml(ACTIONS / plugin / "action.yml")
    assert action["runs"]["using"] == "composite"
    scripts = [step["run"] for step in action["runs"]["steps"] if "run" in step]
    assert len(scripts) == 1
    expected = 'bash -eo pipefail -c "$SETUP_COMMAND"' if plugin == "setup" else f"args=({plugin} "
    assert expected in scripts[0]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_composite_scripts_pass_shellcheck(plugin: str, tmp_path: Path) -> None:
    action = load_yaml(ACTIONS / plugin / "action.yml")
    for step in action["runs"]["steps"]:
        if "run" in step:
            script = tmp_path / "script.sh"
            script.write_text(step["run"])
            result = subprocess.run(
                [_tool("shellcheck"), "--shell=bash", str(script)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stdout


# The schemas and the publisher's checks, run as the workflow runs them.


def _report() -> dict[str, Any]:
    """The report.json of the contract's example, with every section filled."""
    return {
        "schema_version": 1,
        "base": {"rev": "main", "sha": "b" * 40},
        "head": {"rev": "workspace", "sha": "c" * 40, "workspace": True},
        "metrics": {"metrics.json": {"test.roc_auc": {"old": 0.84, "new": 0.85, "diff": 0.01}}},
        "params": {"params.yaml": {"train.learning_rate": {"old": 0.05, "new": 0.03}}},
        "metrics_errors": [{"rev": "main", "path": "other.json", "error": "not found"}],
        "headline": [
            {
                "metric": "test.roc_auc",
                "path": "metrics.json",
                "old": 0.84,
                "new": 0.85,
                "diff": 0.01,
                "better": "higher",
                "verdict": "better",
            }
        ],
        "plots": [{"id": "plots/roc.csv", "title": "ROC (test)", "image": "images/roc.png"}],
        "data": [
            {
                "path": "data/raw/x.csv",
                "change": "modified",
                "old": {"size": 1, "rows": 2, "columns": {"a": "int64"}},
                "new": {"size": 3, "rows": 4, "columns": {"a": "str"}},
                "columns_added": [],
                "columns_removed": [],
                "columns_retyped": [{"column": "a", "old": "int64", "new": "str"}],
            }
        ],
        "stages": [{"stage": "train", "why": ["params: train.learning_rate"]}],
        "pipeline": {"status": "ok", "failed_stage": None, "log_tail": None},
    }


def _artifact(root: Path, report: dict[str, Any], pr_number: int = 7) -> Path:
    """A downloaded artifact as pr.yml uploads it."""
    folder = root / "mlgitops-report"
    (folder / "images").mkdir(parents=True)
    (folder / "report.md").write_text("## Report\n![roc](images/roc.png)\n")
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "pr.json").write_text(json.dumps({"pr_number": pr_number, "head_sha": HEAD}))
    (folder / "images" / "roc.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "interactive").mkdir()
    (folder / "interactive" / "index.html").write_text("<html></html>")
    return folder


def _validate(schema: str, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _tool("check-jsonschema"),
            "--schemafile",
            str(SCHEMAS / f"{schema}.schema.json"),
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not in the environment; run `make setup`"
    return found


def _run_validate(folder: Path, event_pr: str = "7") -> tuple[int, str, str]:
    """The publisher's validate step on `folder`: exit code, its output, what it told GitHub."""
    given = {"REPORT_DIR": str(folder), "RUN_HEAD_SHA": HEAD, "EVENT_PR_NUMBER": event_pr}
    (step,) = shell_steps(COMMENT_WORKFLOW, "publish", given, ids=["validate"])
    outputs = folder.parent / "github_output"
    outputs.write_text("")
    env = {
        **os.environ,
        **step.env,
        "GITHUB_OUTPUT": str(outputs),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        step.argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    return result.returncode, result.stdout + result.stderr, outputs.read_text()


def test_publisher_accepts_a_good_artifact_and_names_its_pr(tmp_path: Path) -> None:
    code, output, told = _run_validate(_artifact(tmp_path, _report()))
    assert (code, told) == (0, "pr=7\n"), output


def test_fork_artifact_without_event_pr_is_accepted_for_the_api_check(tmp_path: Path) -> None:
    code, output, told = _run_validate(_artifact(tmp_path, _report()), event_pr="")
    assert (code, told) == (0, "pr=7\n"), output


def test_publisher_refuses_an_artifact_naming_another_pr(tmp_path: Path) -> None:
    code, output, told = _run_validate(_artifact(tmp_path, _report(), pr_number=8))
    assert (code, told) == (1, "")
    assert "names PR 8, the run belongs to PR 7" in output


def test_publisher_refuses_an_artifact_for_another_commit(tmp_path: Path) -> None:
    folder = _artifact(tmp_path, _report())
    (folder / "pr.json").write_text(json.dumps({"pr_number": 7, "head_sha": "d" * 40}))
    code, output, told = _run_validate(folder)
    assert (code, told) == (1, "")
    assert "the run was for" in output


def _schema_errors(schema: str, document: Any) -> list[str]:
    """What check-jsonschema's validator says of `document`, in process (fast)."""
    validator = Draft202012Validator(json.loads((SCHEMAS / f"{schema}.schema.json").read_text()))
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize(
    "image", ["../../.git/config", "images/../x.png", "images/a/b.png", "https://x/y.png"]
)
def test_report_schema_confines_images_to_the_images_folder(image: str) -> None:
    report = _report()
    report["plots"][0]["image"] = image
    assert _schema_errors("report", report)


def test_report_schema_accepts_the_contract_example() -> None:
    assert _schema_errors("report", _report()) == []


@pytest.mark.parametrize("key", ["metrics", "headline", "pipeline"])
def test_report_schema_requires_every_section(key: str) -> None:
    report = _report()
    del report[key]
    assert _schema_errors("report", report) == [f"'{key}' is a required property"]


@pytest.mark.parametrize(
    "document",
    [
        {"pr_number": "7", "head_sha": HEAD},
        {"pr_number": 7, "head_sha": "main"},
        {"pr_number": 7, "head_sha": HEAD, "comment": "extra"},
    ],
)
def test_pr_schema_takes_a_number_and_a_sha_only(document: dict[str, Any]) -> None:
    assert _schema_errors("pr", document)


@pytest.mark.parametrize("extra", ["script.sh", "images/x.svg", "images/sub/x.png"])
def test_publisher_refuses_unexpected_files(tmp_path: Path, extra: str) -> None:
    folder = _artifact(tmp_path, _report())
    (folder / extra).parent.mkdir(parents=True, exist_ok=True)
    (folder / extra).write_text("x")
    code, output, told = _run_validate(folder)
    assert (code, told) == (1, "")
    assert "unexpected file" in output


def test_publisher_refuses_symbolic_links(tmp_path: Path) -> None:
    folder = _artifact(tmp_path, _report())
    (folder / "gate.md").symlink_to("/etc/passwd")
    code, output, told = _run_validate(folder)
    assert (code, told) == (1, "")
    assert "symbolic links" in output
