"""`mlgitops pipeline` against the Argo stand-in (tests/standins/argo.py, a real HTTP server that
checks every request against the Argo Server's published API and plays the DAG back): it
creates a workflow running the DAG the checkout renders (or, --from-template, submits the
applied template) for a commit, follows it, and writes the dvc.lock the run hands back; a
failed stage is named; run_on: runner does nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mlgitops import cli, extras
from mlgitops.params import read_params
from mlgitops.pipeline import template
from tests.processes import finish, wait_until, with_default_signals
from tests.standins.argo import SMOKE_FAILURE, FakeArgo
from tests.workflow_steps import PR_JOB, PR_WORKFLOW, WORKFLOWS, ShellStep, shell_steps

REPO_ROOT = Path(__file__).resolve().parents[3]
PARAMS = REPO_ROOT / "params.yaml"
LOCK = "schema: '2.0'\nstages:\n  train:\n    cmd: python -m train\n"
ARGS = ("--commit", "0123abc", "--repo", "https://git.example/o/r.git", "--image", "i:1")
PARAMS_ARGS = ("--params", str(PARAMS))
REUSABLE_PR = WORKFLOWS / "reusable-pr.yml"


@pytest.fixture
def fake() -> Iterator[tuple[FakeArgo, str]]:
    """The stand-in holding the committed deploy/pipeline.yaml, as if applied."""
    fake = FakeArgo(outputs={template.FINAL: LOCK})
    stored = yaml.safe_load((REPO_ROOT / "deploy" / "pipeline.yaml").read_text())
    fake.add_template(stored, namespace=stored["metadata"]["namespace"])
    with fake.serve() as url:
        yield fake, url


def _main(
    *args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv("ARGO_TOKEN", FakeArgo.token)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["mlgitops", "pipeline", *ARGS, *PARAMS_ARGS, *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def test_a_cluster_run_writes_the_lock_it_hands_back(
    fake: tuple[FakeArgo, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argo, url = fake
    lock = tmp_path / "dvc.lock"
    code, err = _main(
        "--run-on", "cluster", "--server", url, "--lock", str(lock), "--poll-interval", "0.01",
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert lock.read_text() == LOCK
    run = argo.run()
    assert run.parameters == {"repo": ARGS[3], "commit": ARGS[1], "image": ARGS[5]}
    # The DAG this checkout renders, inline: the committed deploy/pipeline.yaml's spec.
    rendered = yaml.safe_load((REPO_ROOT / "deploy" / "pipeline.yaml").read_text())["spec"]
    assert run.spec is not None
    for parameter in run.spec["arguments"]["parameters"]:
        parameter.pop("value")
    assert run.spec == rendered
    for stage in ("prepare", "train", "evaluate", template.FINAL):
        assert f"  {stage} " in err, err  # each stage's pod is shown as it moves
    assert f"wrote {lock}" in err


def test_from_template_submits_the_applied_template(
    fake: tuple[FakeArgo, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argo, url = fake
    lock = tmp_path / "dvc.lock"
    code, err = _main(
        "--run-on", "cluster", "--server", url, "--lock", str(lock), "--poll-interval", "0.01",
        "--from-template", monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert argo.run().template == template.TEMPLATE_NAME and argo.run().spec is None
    assert lock.read_text() == LOCK


def test_a_failed_stage_is_named_and_no_lock_is_written(
    fake: tuple[FakeArgo, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argo, url = fake
    argo.fail_task = "train"
    lock = tmp_path / "dvc.lock"
    code, err = _main(
        "--run-on", "cluster", "--server", url, "--lock", str(lock), "--poll-interval", "0.01",
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 1, err
    assert f"Failed in train ({SMOKE_FAILURE})" in err
    assert "Traceback" not in err
    assert not lock.exists()


def test_run_on_runner_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    code, err = _main("--lock", str(tmp_path / "dvc.lock"), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "pipeline.run_on is runner" in err
    assert not (tmp_path / "dvc.lock").exists()


def test_a_missing_template_says_to_apply_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeArgo().serve() as url:
        code, err = _main("--run-on", "cluster", "--server", url, "--from-template",
                          monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert code == 1, err
    assert "kubectl apply -f deploy/pipeline.yaml" in err


def _cluster_step(
    workflow: Path, server: str, labelled: str, image: str = "ghcr.io/o/r:a"
) -> ShellStep:
    """The `cluster` step of pr.yml (server and image from the repository's variables) or of
    reusable-pr.yml (from the caller's `with:`), as CI runs it."""
    given = {
        "BASE_SHA": "b" * 40, "HEAD_SHA": "a" * 40, "PR_NUMBER": "7", "RUN_URL": "",
        "ARGO_TOKEN": FakeArgo.token, "REPO_URL": "https://github.com/o/r.git",
        "LABELLED": labelled,
    }  # fmt: skip
    if workflow == PR_WORKFLOW:
        given |= {"ARGO_SERVER": server, "PIPELINE_IMAGE": image}
        (step,) = shell_steps(workflow, PR_JOB, given, ids=["cluster"])
    else:
        inputs = {"argo-server": server, "pipeline-image": image}
        (step,) = shell_steps(workflow, PR_JOB, given, ids=["cluster"], inputs=inputs)
    assert step.skipped_for_forks  # a fork gets no secrets, so never the cluster
    return step


def _run_step(step: ShellStep, root: Path, runner_temp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **step.env, "RUNNER_TEMP": str(runner_temp)}
    return subprocess.run(
        step.argv, cwd=root, env=env, capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("workflow", [PR_WORKFLOW, REUSABLE_PR], ids=lambda p: p.name)
@pytest.mark.parametrize("labelled", ["false", "true"])
def test_the_pr_workflows_cluster_step_follows_the_switch_and_the_label(
    workflow: Path, labelled: str, fake: tuple[FakeArgo, str], tmp_path: Path, edited: Path
) -> None:
    """The `cluster` step of pr.yml, and of the reusable workflow other repositories call, as
    CI runs it, in the foreach/matrix repository: its params.yaml says runner, so only the
    run-on-cluster label hands the reproduction to the cluster, which runs that repository's
    DAG."""
    argo, url = fake
    step = _cluster_step(workflow, url, labelled)
    root = edited.parent
    params = read_params(root / "params.yaml")
    params["pipeline"]["poll_seconds"] = 0.01  # the stand-in moves a run on at each poll
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    done = _run_step(step, root, tmp_path)
    assert done.returncode == 0, done.stderr
    lock = tmp_path / "cluster-dvc.lock"
    if labelled == "true":
        assert lock.read_text() == LOCK
        run = argo.run()
        assert run.parameters["commit"] == "a" * 40
        assert run.spec is not None and "feature-a" in str(run.spec)  # that repository's DAG
    else:
        assert "pipeline.run_on is runner" in done.stderr
        assert not lock.exists() and not argo.runs


def test_the_reusable_cluster_step_without_an_argo_server(tmp_path: Path, edited: Path) -> None:
    """A caller that gives no argo-server: a repository without a `pipeline` section
    reproduces on the runner, untouched; one whose params.yaml asks for the cluster fails
    saying what to give (before anything needs the deploy extra, which it did not install)."""
    root = edited.parent
    step = _cluster_step(REUSABLE_PR, "", "false", image="")
    params = read_params(root / "params.yaml")
    (root / "params.yaml").write_text(yaml.safe_dump({k: v for k, v in params.items()
                                                      if k != "pipeline"}))  # fmt: skip
    done = _run_step(step, root, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "has no pipeline section: this job reproduces it" in done.stderr
    params["pipeline"]["run_on"] = "cluster"
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    step = _cluster_step(REUSABLE_PR, "", "false")
    done = _run_step(step, root, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "no Argo Server; set ARGO_SERVER (the reusable workflow's argo-server input)" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cluster-dvc.lock").exists()


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_cancelled_job_terminates_its_run(
    signal_number: int, fake: tuple[FakeArgo, str], tmp_path: Path
) -> None:
    """GitHub cancels a superseded job with SIGINT, then SIGTERM: the run it waits for is
    terminated, not left holding the cluster."""
    argo, url = fake
    argo.empty_polls = 5000  # the controller never picks it up: it waits until cancelled
    env = {**os.environ, "ARGO_TOKEN": FakeArgo.token}
    argv = [str(Path(sys.executable).with_name("mlgitops")), "pipeline", *ARGS, *PARAMS_ARGS,
            "--run-on", "cluster", "--server", url, "--lock", str(tmp_path / "dvc.lock"),
            "--poll-interval", "0.05"]  # fmt: skip
    process = subprocess.Popen(
        with_default_signals(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:

        def following() -> bool:  # it asked for the run: the signal comes while it waits
            return any(seen.method == "GET" and "/workflows/" in seen.path for seen in argo.seen)

        assert wait_until(following, timeout=60), "it never followed a run"
        process.send_signal(signal_number)
    finally:
        code, _, err = finish(process, timeout=60)
    assert code == 1, err
    assert "pipeline: interrupted; terminated" in err and "Traceback" not in err
    (run,) = argo.runs.values()
    assert any(s.method == "PUT" and s.path.endswith(f"/{run.name}/terminate") for s in argo.seen)
    assert not (tmp_path / "dvc.lock").exists()


def test_dry_run_prints_the_workflow_and_contacts_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    monkeypatch.setenv("ARGO_TOKEN", FakeArgo.token)
    monkeypatch.setattr(sys, "argv", ["mlgitops", "pipeline", *ARGS, *PARAMS_ARGS, "--dry-run"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out = capsys.readouterr().out
    assert exited.value.code in (0, None)
    printed = yaml.safe_load(out)
    assert printed["kind"] == "Workflow"
    assert printed["metadata"]["generateName"] == f"{template.TEMPLATE_NAME}-"
    values = {p["name"]: p["value"] for p in printed["spec"]["arguments"]["parameters"]}
    assert values == {"repo": ARGS[3], "commit": ARGS[1], "image": ARGS[5]}
    committed = yaml.safe_load((REPO_ROOT / "deploy" / "pipeline.yaml").read_text())["spec"]
    for parameter in printed["spec"]["arguments"]["parameters"]:
        parameter.pop("value")
    assert printed["spec"] == committed


def test_a_cluster_run_without_the_deploy_extra_says_which_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command itself is in the base install (the reusable workflow asks it every time);
    only a cluster run needs Hera, and without it says so instead of failing on an import."""
    monkeypatch.setattr(extras, "missing", lambda extra: ("hera",) if extra == "deploy" else ())
    code, err = _main("--run-on", "cluster", "--server", "https://argo.example",
                      "--lock", str(tmp_path / "dvc.lock"),
                      monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert code == 2, err
    assert 'needs the deploy extra: pip install "mlgitops[deploy]"' in err
    assert "Traceback" not in err
