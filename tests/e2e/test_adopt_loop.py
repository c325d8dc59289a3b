"""A team's own repository adopts mlgitops with `init`, and its first pull request gets one comment.

The repository (nested layout: metrics and a plot from a subdirectory's dvc.yaml, its DVC remote
a local directory) is reproduced on `main`, `mlgitops init` writes its caller workflows, and
both are pushed to a bare origin. A developer changes the evaluation stage on a branch. CI is
the steps of reusable-pr.yml read from this repository's file, with the inputs the generated
caller gives it (`with:`), run in a fresh clone of the PR head; the publisher is
reusable-comment.yml's validate, target and comment steps, run in an empty directory (it checks
out nothing) against the GitHub stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.adopt_repos import NESTED, make_repo, reproduce, run
from tests.standins.github import FakeGitHub
from tests.workflow_steps import LOOP_STEP_IDS, WORKFLOWS, shell_steps

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
REPO = "team/model"
PIN = ("--repo", "octo/mlgitops", "--sha", "0123456789abcdef0123456789abcdef01234567")
# Every secret the reusable workflow declares, as GitHub renders one the caller did not map.
SECRETS = ("DVC_CONFIG_LOCAL", "AWS_KEY_ID", "AWS_SECRET_KEY", "AWS_TOKEN", "AZURE_CONNECTION")
NO_SECRETS = dict.fromkeys((*SECRETS, "GCP_KEY"), "")
_TIMEOUT_SECONDS = 300


def _step_env(extra: dict[str, str]) -> dict[str, str]:
    # The runner's PATH has the installed mlgitops, dvc and check-jsonschema (setup's work).
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def _run_steps(
    workflow: Path,
    job: str,
    given: dict[str, str],
    ids: tuple[str, ...],
    *,
    cwd: Path,
    inputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """The steps as GitHub runs them: in order, after a failure only `!cancelled()` ones."""
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    failed = False
    for step in shell_steps(workflow, job, given, ids=ids, inputs=inputs):
        if failed and not step.runs_after_failure:
            continue
        result = subprocess.run(
            step.argv,
            cwd=cwd,
            env=_step_env({**(env or {}), **step.env}),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
        )
        done[step.id] = result
        failed = failed or result.returncode != 0
    return done


def test_init_then_a_pull_request_gets_one_comment(tmp_path: Path) -> None:
    main = make_repo(tmp_path / "main", NESTED)
    reproduce(main)
    initialised = subprocess.run(
        [str(BIN / "mlgitops"), "init", *PIN],
        cwd=main,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
    )
    assert initialised.returncode == 0, initialised.stderr
    run("git", "add", "--all", cwd=main)
    run("git", "commit", "--quiet", "--no-verify", "-m", "mlgitops init", cwd=main)
    base = run("git", "rev-parse", "HEAD", cwd=main).strip()
    bare = tmp_path / "origin.git"
    run("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    run("git", "push", "--quiet", str(bare), "main", cwd=main)

    # The pull request: the evaluation now scores higher; dvc.lock left for CI to reproduce.
    dev = tmp_path / "dev"
    run("git", "clone", "--quiet", str(bare), str(dev), cwd=tmp_path)
    run("git", "checkout", "--quiet", "-b", "better", cwd=dev)
    stage = dev / "evaluation" / "dvc.yaml"
    stage.write_text(stage.read_text().replace("test.roc_auc=0.81", "test.roc_auc=0.83"))
    run("git", "commit", "--quiet", "--no-verify", "-am", "Score higher", cwd=dev)
    run("git", "push", "--quiet", "origin", "better", cwd=dev)

    ci = tmp_path / "ci"
    run("git", "clone", "--quiet", "--branch", "better", str(bare), str(ci), cwd=tmp_path)
    head = run("git", "rev-parse", "HEAD", cwd=ci).strip()
    caller = yaml.safe_load((ci / ".github" / "workflows" / "mlgitops-pr.yml").read_text())
    called = caller["jobs"]["reproduce"]
    assert called["uses"].startswith("octo/mlgitops/.github/workflows/reusable-pr.yml@")
    given = {"BASE_SHA": base, "HEAD_SHA": head, "PR_NUMBER": "3", "RUN_URL": "", **NO_SECRETS}
    steps = _run_steps(
        WORKFLOWS / "reusable-pr.yml",
        "reproduce",
        given,
        ("dvc-config", *LOOP_STEP_IDS),
        cwd=ci,
        inputs={k: str(v) for k, v in (called.get("with") or {}).items()},
        env={"MPLCONFIGDIR": str(tmp_path / "matplotlib")},
    )
    assert list(steps) == ["dvc-config", *LOOP_STEP_IDS]
    for step_id, result in steps.items():
        assert result.returncode == 0, f"[{step_id}] {result.stdout}{result.stderr}"
    assert "Running stage 'evaluation/dvc.yaml:evaluate'" in steps["repro"].stdout
    report = ci / "report"
    assert (report / "pr.json").is_file()

    github = FakeGitHub()
    github.add_repo(REPO)
    github.add_files(REPO, {"params.yaml": (main / "params.yaml").read_bytes()})  # the base's
    github.add_pull(REPO, 3, head_sha=head, head_ref="better")
    publisher = tmp_path / "publisher"  # nothing checked out: the job runs no code of the team's
    publisher.mkdir()
    outputs = tmp_path / "github-output"
    outputs.write_text("")
    artifact = tmp_path / "runner-temp" / "mlgitops-report"
    artifact.parent.mkdir()
    subprocess.run(["cp", "-R", str(report), str(artifact)], check=True, timeout=60)
    with github.serve() as api_url:
        env = {"GITHUB_API_URL": api_url, "GITHUB_OUTPUT": str(outputs)}
        checked = _run_steps(
            WORKFLOWS / "reusable-comment.yml",
            "publish",
            {
                "REPORT_DIR": str(artifact),
                "RUN_HEAD_SHA": head,
                "EVENT_PR_NUMBER": "3",
                "GITHUB_TOKEN": github.token,
                "REPO": REPO,
                "PR_NUMBER": "3",
            },
            ("validate",),
            cwd=publisher,
            env=env,
        )
        for step_id, result in checked.items():
            assert result.returncode == 0, f"[{step_id}] {result.stdout}{result.stderr}"
        told = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
        assert told == {"pr": "3"}
        given = {
            "GITHUB_TOKEN": github.token,
            "COMMENT_REPORT_DIR": str(artifact),
            "COMMENT_REPO": REPO,
            "COMMENT_PR": told["pr"],
            "COMMENT_SHA": head,
            "COMMENT_HEAD_REPO": REPO,
            "COMMENT_HEAD_REF": "better",
        }
        commented = _run_steps(
            WORKFLOWS / "reusable-comment.yml",
            "publish",
            given,
            ("comment",),
            cwd=publisher,
            env=env,
        )
        assert commented["comment"].returncode == 0, commented["comment"].stderr

    (comment,) = github.comments(REPO, 3)
    body = comment["body"]
    assert "test.roc_auc" in body
    assert "0.81" in body and "0.83" in body
    assert "evaluation/scores.json" in body
