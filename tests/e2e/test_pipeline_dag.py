"""The rendered pipeline DAG really works with DVC's semantics.

The rendered WorkflowTemplate's tasks are run as Argo would run them, their commands read from
the rendered YAML (never re-derived): in topological order, each task in its own fresh
directory (its pod's emptyDir at /work) where its script clones the repository at the commit,
sharing nothing with the others but a local DVC remote; tasks whose dependencies are done run
at the same time. The final task's dvc.lock must equal a plain `dvc repro` in one checkout,
model bytes included, and each stage must have run at most once, in its own pod.

The repository (tests/pipeline_repo.py) has foreach and matrix stages and parallel branches. Its
main commit has a dvc.lock and pushed outputs; the commit under test changes a parameter read
by the matrix stage only, so some pods pull what is unchanged and others run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.pipeline import render, template
from tests import pipeline_repo
from tests.workflow_steps import PR_JOB, PR_WORKFLOW, WORKFLOWS, shell_steps

pytestmark = pytest.mark.e2e

_RAN = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)
_CACHED = re.compile(r"^Stage '([^']+)' is cached - skipping run", re.MULTILINE)
_PARAMETER = re.compile(r"\{\{\s*workflow\.parameters\.([a-z-]+)\s*\}\}")
# The stages the commit changes, and their tasks; summary is extra/dvc.yaml's.
TASKS = {
    "grid@1-x": "grid-1-x",
    "grid@2-x": "grid-2-x",
    "train": "train",
    "evaluate": "evaluate",
    "extra/dvc.yaml:summary": "extra-dvc-yaml-summary",
}
CHANGED = list(TASKS)
REUSABLE_PR = WORKFLOWS / "reusable-pr.yml"
RESTORABLE = sorted(["grid@1-x", "grid@2-x", "train", "extra/dvc.yaml:summary"])


@dataclass(frozen=True)
class Pod:
    """What one task's pod did: its /work, its output, the stages it ran and restored."""

    task: str
    work: Path
    returncode: int
    output: str
    started: float  # time.monotonic(), for the order of events only (nothing is timed)
    ended: float

    @property
    def ran(self) -> list[str]:
        return _RAN.findall(self.output)

    @property
    def restored(self) -> list[str]:
        return _CACHED.findall(self.output)


def _pod(container: dict[str, Any], task: str, work: Path, parameters: dict[str, str]) -> Pod:
    """Runs the container's command as its pod would: /work is `work`, the workflow's
    parameters are filled in. The remote's Secret has no keys for a local remote."""
    work.mkdir(parents=True)

    def resolved(value: str) -> str:
        value = _PARAMETER.sub(lambda m: parameters[m.group(1)], value)
        return value.replace(template.WORK, str(work))

    env = pipeline_repo.environment(work / "home")
    env.update({item["name"]: resolved(item["value"]) for item in container["env"]})
    assert Path(container["workingDir"]) == Path(template.WORK)
    argv = [resolved(part) for part in (*container["command"], *container["args"])]
    started = time.monotonic()
    done = subprocess.run(
        argv,
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=pipeline_repo.TIMEOUT,
    )
    return Pod(task, work, done.returncode, done.stdout + done.stderr, started, time.monotonic())


def _run_dag(workflow: dict[str, Any], parameters: dict[str, str], pods: Path) -> dict[str, Pod]:
    """Every task of the entrypoint DAG, each once its dependencies succeeded, the independent
    ones concurrently (two at a time: this machine's cores)."""
    spec = workflow["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = {t["name"]: t for t in templates[spec["entrypoint"]]["dag"]["tasks"]}
    done: dict[str, Pod] = {}
    running: dict[Future[Pod], str] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        while len(done) < len(tasks):
            started = set(running.values()) | set(done)
            for name, task in tasks.items():
                if name not in started and all(d in done for d in task.get("dependencies", [])):
                    container = templates[task["template"]]["container"]
                    future = pool.submit(_pod, container, name, pods / name, parameters)
                    running[future] = name
            assert running, f"no task can start: {sorted(set(tasks) - set(done))}"
            finished, _ = wait(running, timeout=pipeline_repo.TIMEOUT, return_when=FIRST_COMPLETED)
            assert finished, "no task finished in time"
            for future in finished:
                pod = future.result()
                del running[future]
                assert pod.returncode == 0, f"task {pod.task} failed:\n{pod.output}"
                done[pod.task] = pod
    return done


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """main (reproduced, lock committed, pushed with its run-cache), then a commit changing
    grid.offset; a plain repro of it in one checkout; the rendered DAG run for it."""
    tmp = tmp_path_factory.mktemp("dag")
    env = pipeline_repo.environment(tmp / "home")
    origin, remote = tmp / "origin", tmp / "remote"
    pipeline_repo.make(origin, env, remote=remote)
    pipeline_repo.run("dvc", "repro", "--quiet", "--all-pipelines", cwd=origin, env=env)
    pipeline_repo.run("dvc", "push", "--quiet", "--run-cache", cwd=origin, env=env)
    pipeline_repo.commit_all(origin, env, "main: reproduced")
    params = yaml.safe_load((origin / "params.yaml").read_text())
    params["grid"]["offset"] = 5
    (origin / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit = pipeline_repo.commit_all(origin, env, "change grid.offset")

    # A plain `dvc repro` of the commit in one checkout, its outputs never pushed.
    plain = tmp / "plain"
    pipeline_repo.run("git", "clone", "--quiet", str(origin), str(plain), cwd=tmp, env=env)
    pipeline_repo.run("dvc", "pull", "--quiet", "--allow-missing", cwd=plain, env=env)
    pipeline_repo.run("dvc", "repro", "--quiet", "--all-pipelines", cwd=plain, env=env)

    text = render.files(origin / "params.yaml")[render.PIPELINE_FILE]
    workflow = yaml.safe_load(text)
    parameters = {template.REPO: str(origin), template.COMMIT: commit, template.IMAGE: "unused"}
    shutil.rmtree(origin / ".dvc" / "cache")  # the pods share the remote, nothing else
    pods = _run_dag(workflow, parameters, tmp / "pods")
    return {"plain": plain, "pods": pods, "workflow": workflow, "origin": origin,
            "commit": commit, "tmp": tmp}  # fmt: skip


def _final(scene: dict[str, Any]) -> Pod:
    pod: Pod = scene["pods"][template.FINAL]
    return pod


def _lock_path(scene: dict[str, Any]) -> Path:
    """Where the final task's output artifact is, in its /work."""
    (final,) = [t for t in scene["workflow"]["spec"]["templates"] if t["name"] == template.FINAL]
    (artifact,) = final["outputs"]["artifacts"]
    return _final(scene).work / Path(artifact["path"]).relative_to(template.WORK)


def test_the_final_lock_equals_a_plain_repro(scene: dict[str, Any]) -> None:
    ours = yaml.safe_load(_lock_path(scene).read_text())
    plain = yaml.safe_load((scene["plain"] / "dvc.lock").read_text())
    outs = {name: stage.get("outs") for name, stage in ours["stages"].items()}
    assert outs == {name: stage.get("outs") for name, stage in plain["stages"].items()}
    assert ours == plain
    # The other dvc.yaml's lock, written in the final pod (only the root one is handed back).
    nested = _lock_path(scene).parent / "extra" / "dvc.lock"
    assert nested.read_text() == (scene["plain"] / "extra" / "dvc.lock").read_text()


def test_the_model_bytes_are_identical(scene: dict[str, Any]) -> None:
    clone = _lock_path(scene).parent
    model = (clone / "models" / "model.bin").read_bytes()
    assert model == (scene["plain"] / "models" / "model.bin").read_bytes()
    assert (clone / "metrics.json").read_text() == (scene["plain"] / "metrics.json").read_text()


def test_pods_started_after_their_dependencies_and_independent_ones_overlapped(
    scene: dict[str, Any],
) -> None:
    pods: dict[str, Pod] = scene["pods"]
    spec = scene["workflow"]["spec"]
    (dag,) = [t["dag"] for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    needs = {task["name"]: task.get("dependencies", []) for task in dag["tasks"]}
    for task, upstream in needs.items():
        assert all(pods[need].ended <= pods[task].started for need in upstream), task
    siblings = [name for name, upstream in needs.items() if upstream == ["prepare"]]
    assert len(siblings) == 4  # feature@a, feature@b, grid@1-x, grid@2-x
    assert any(
        pods[one].started < pods[other].ended and pods[other].started < pods[one].ended
        for one in siblings
        for other in siblings
        if one != other
    ), "no two independent pods ran at the same time"


def test_each_changed_stage_ran_in_its_own_pod_and_no_other(scene: dict[str, Any]) -> None:
    pods: dict[str, Pod] = scene["pods"]
    ran = {task: pod.ran for task, pod in pods.items() if pod.ran and task != template.FINAL}
    assert ran == {task: [stage] for stage, task in TASKS.items()}
    assert not pods["prepare"].ran and not pods["feature-a"].ran  # unchanged: pulled


def test_downstream_pods_restore_upstream_stages_from_the_run_cache(
    scene: dict[str, Any],
) -> None:
    pods: dict[str, Pod] = scene["pods"]
    assert sorted(pods["train"].restored) == CHANGED[:2]  # the matrix stages, not re-run
    assert sorted(pods["evaluate"].restored) == sorted(CHANGED[:3])
    assert sorted(pods[TASKS["extra/dvc.yaml:summary"]].restored) == sorted(CHANGED[:3])


def test_the_final_pod_restores_from_the_run_cache_all_but_uncached_outputs(
    scene: dict[str, Any],
) -> None:
    """DVC pushes the run-cache's entries but not the bytes of `cache: false` outputs
    (evaluate's metrics.json), so a stage writing one runs again in the final pod: the
    same command on the same inputs (docs/scale.md)."""
    final = _final(scene)
    assert final.ran == ["evaluate"]
    assert sorted(final.restored) == RESTORABLE


@pytest.mark.parametrize("workflow", [PR_WORKFLOW, REUSABLE_PR], ids=lambda path: path.name)
def test_the_pr_jobs_repro_step_then_restores_and_agrees_with_the_cluster(
    workflow: Path, scene: dict[str, Any]
) -> None:
    """pr.yml's repro step, and the reusable workflow's, as CI runs it after the cluster step:
    in the job's own checkout `dvc repro --pull` restores the stages the pods ran (the reusable
    one every dvc.yaml's), and its dvc.lock is the cluster's."""
    tmp: Path = scene["tmp"] / workflow.stem
    job, runner_temp = tmp / "pr-job", tmp / "runner-temp"
    tmp.mkdir()
    env = pipeline_repo.environment(tmp / "pr-home")
    pipeline_repo.run("git", "clone", "--quiet", str(scene["origin"]), str(job), cwd=tmp, env=env)
    pipeline_repo.run("git", "checkout", "--quiet", "--detach", scene["commit"], cwd=job, env=env)
    runner_temp.mkdir()
    shutil.copy(_lock_path(scene), runner_temp / "cluster-dvc.lock")
    given = {"BASE_SHA": "b" * 40, "HEAD_SHA": scene["commit"], "PR_NUMBER": "7", "RUN_URL": ""}
    (step,) = shell_steps(workflow, PR_JOB, given, ids=["repro"])
    done = subprocess.run(
        step.argv, cwd=job, env={**env, **step.env, "RUNNER_TEMP": str(runner_temp)},
        capture_output=True, text=True, check=False, timeout=pipeline_repo.TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    log = (job / step.env["REPORT_DIR"] / "repro.log").read_text()
    assert _RAN.findall(log) == ["evaluate"]  # its metrics are cache: false (docs/scale.md)
    restored = RESTORABLE if workflow == REUSABLE_PR else sorted(CHANGED[:3])
    assert sorted(_CACHED.findall(log)) == restored
    assert (job / "dvc.lock").read_text() == _lock_path(scene).read_text()
    # A cluster lock that disagrees fails the step.
    tampered = _lock_path(scene).read_text().replace("md5: ", "md5: 0", 1)
    (runner_temp / "cluster-dvc.lock").write_text(tampered)
    again = subprocess.run(
        step.argv, cwd=job, env={**env, **step.env, "RUNNER_TEMP": str(runner_temp)},
        capture_output=True, text=True, check=False, timeout=pipeline_repo.TIMEOUT,
    )  # fmt: skip
    assert again.returncode != 0, again.stdout
