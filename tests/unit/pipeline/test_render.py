"""deploy/pipeline.yaml: every dvc.yaml as an Argo WorkflowTemplate, checked against Argo's
models (Hera's, generated from Argo's JSON schema) and Argo's naming rules, its DAG edges
against `dvc dag`, for this repository and for a small one with foreach and matrix stages."""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from hera.workflows import WorkflowTemplate

from mlgitops.errors import UsageError
from mlgitops.params import read_params
from mlgitops.pipeline import render, template
from mlgitops.pipeline.stages import Stage, read_stages
from mlgitops.settings.pipeline import PipelineSettings, PodResources, StageCluster
from tests import pipeline_repo
from tests.unit.deploy import K8S_VERSION

REPO_ROOT = Path(__file__).resolve().parents[3]
MLGITOPS = str(Path(sys.executable).with_name("mlgitops"))
# Argo's rule for template and task names (validate.go: workflowFieldNameFmt), at most 128.
ARGO_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]{0,127}")
PARAMETER = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


def _workflow(root: Path) -> dict[str, Any]:
    text = render.files(root / "params.yaml")[render.PIPELINE_FILE]
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def _templates(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


def _tasks(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    dag = _templates(workflow)[workflow["spec"]["entrypoint"]]["dag"]
    return {task["name"]: task for task in dag["tasks"]}


def _stage_of(workflow: dict[str, Any], task: str) -> str:
    """The stage address a task's script reproduces, read from its `dvc repro` line."""
    script = _templates(workflow)[task]["container"]["args"][0]
    (line,) = [line for line in script.splitlines() if line.startswith("dvc repro")]
    return shlex.split(line)[-1]


def _stage_tasks(workflow: dict[str, Any]) -> list[str]:
    """The tasks that run a stage (not the final one, nor a Dask cluster's)."""
    templates = _templates(workflow)
    return [
        name
        for name, task in _tasks(workflow).items()
        if name != template.FINAL and "container" in templates[task["template"]]
    ]


def _edges(workflow: dict[str, Any]) -> set[tuple[str, str]]:
    """(upstream stage, downstream stage) for every DAG dependency between stages."""
    stages = _stage_tasks(workflow)
    return {
        (_stage_of(workflow, need), _stage_of(workflow, name))
        for name in stages
        for need in _tasks(workflow)[name].get("dependencies", [])
        if need in stages
    }


def test_deploy_holds_what_params_and_dvc_yaml_render() -> None:
    for name, text in render.files(REPO_ROOT / "params.yaml").items():
        assert (REPO_ROOT / "deploy" / name).read_text() == text, f"run `make render`: {name}"


@pytest.mark.parametrize("which", ["this repository", "foreach/matrix repository"])
def test_the_template_fits_argos_models_and_names(which: str, small: tuple[Path, Any]) -> None:
    root = REPO_ROOT if which == "this repository" else small[0]
    workflow = _workflow(root)
    loaded = WorkflowTemplate.from_dict(copy.deepcopy(workflow))
    assert isinstance(loaded, WorkflowTemplate)
    assert loaded.to_dict() == workflow  # nothing Argo's schema lacks, nothing lost
    templates, tasks = _templates(workflow), _tasks(workflow)
    declared = {p["name"] for p in workflow["spec"]["arguments"]["parameters"]}
    for name in [*templates, *tasks]:
        assert ARGO_NAME.fullmatch(name), name
    for task in tasks.values():
        assert task["template"] in templates
        assert set(task.get("dependencies", [])) <= set(tasks) - {task["name"]}
    for found in PARAMETER.findall(yaml.safe_dump(workflow)):
        assert found.removeprefix("workflow.parameters.") in declared, found
    for document in yaml.safe_load_all(render.files(root / "params.yaml")[render.RBAC_FILE]):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


@pytest.mark.parametrize("which", ["this repository", "foreach/matrix repository"])
def test_the_dag_edges_are_dvc_dags(which: str, small: tuple[Path, dict[str, str]]) -> None:
    root, env = (REPO_ROOT, small[1]) if which == "this repository" else small
    workflow = _workflow(root)
    assert _edges(workflow) == pipeline_repo.dag_edges(root, env)
    stages = {_stage_of(workflow, task) for task in _stage_tasks(workflow)}
    listed = pipeline_repo.run(
        "dvc", "stage", "list", "--all", "--name-only", cwd=root, env=env
    ).stdout.split()
    # Every stage of every dvc.yaml once, foreach/matrix as DVC expands them; no .dvc files.
    assert stages == {name for name in listed if not name.endswith(".dvc")}


def test_the_final_task_runs_after_every_stage_and_hands_back_the_lock(
    small: tuple[Path, Any],
) -> None:
    workflow = _workflow(small[0])
    tasks = _tasks(workflow)
    assert set(tasks[template.FINAL]["dependencies"]) == set(tasks) - {template.FINAL}
    final = _templates(workflow)[template.FINAL]
    assert "dvc repro --pull --allow-missing --all-pipelines\n" in final["container"]["args"][0]
    (artifact,) = final["outputs"]["artifacts"]
    (parameter,) = final["outputs"]["parameters"]
    assert artifact["path"] == parameter["valueFrom"]["path"] == "/work/repo/dvc.lock"
    assert parameter["globalName"] == template.FINAL
    assert "git commit" not in yaml.safe_dump(workflow)  # CI never commits dvc.lock


def test_a_stage_without_meta_gets_the_defaults_and_meta_cluster_overrides(
    small: tuple[Path, Any],
) -> None:
    templates = _templates(_workflow(small[0]))
    default = {"cpu": "500m", "memory": "512Mi"}  # the small repository's params.yaml
    assert templates["prepare"]["container"]["resources"] == {
        "requests": default,
        "limits": default,
    }
    train = {"cpu": "2", "memory": "1Gi"}  # its meta: {cluster: ...}
    assert templates["train"]["container"]["resources"] == {"requests": train, "limits": train}


def test_gpus_and_node_selector_reach_the_pod() -> None:
    settings = _settings()
    cluster = StageCluster(gpu=1, node_selector={"pool": "gpu"})
    rendered = template.template(settings, [Stage("fit@big", "fit-big", (), cluster)]).to_dict()
    fit = _templates(rendered)["fit-big"]
    assert fit["container"]["resources"]["limits"] == {
        "cpu": "1",
        "memory": "2Gi",
        "nvidia.com/gpu": "1",
    }
    assert fit["nodeSelector"] == {"pool": "gpu"}
    assert fit["retryStrategy"]["retryPolicy"] == "OnError"  # pods lost, not failed commands
    assert fit["retryStrategy"]["limit"] == settings.retries
    assert fit["container"]["envFrom"] == [{"secretRef": {"name": "dvc-remote"}}]


def _settings(**changes: Any) -> PipelineSettings:
    base = PipelineSettings.model_validate(read_params(REPO_ROOT / "params.yaml")["pipeline"])
    return base.model_copy(update={"resources": PodResources(cpu="1", memory="2Gi"), **changes})


def test_a_missing_remote_secret_is_a_render_time_error(small: tuple[Path, Any]) -> None:
    with pytest.raises(
        UsageError, match=r"pipeline\.remote_secret is not set: name the Kubernetes"
    ):
        template.template(_settings(remote_secret=None), read_stages(small[0]))


def test_render_without_the_secret_name_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    params = read_params(REPO_ROOT / "params.yaml")
    del params["pipeline"]["remote_secret"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run(
        [MLGITOPS, "render", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "pipeline.remote_secret is not set" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_misspelt_meta_cluster_key_names_the_stage(edited: Path) -> None:
    dvc_yaml = yaml.safe_load(edited.read_text())
    dvc_yaml["stages"]["train"]["meta"] = {"cluster": {"cpus": "2"}}
    edited.write_text(yaml.safe_dump(dvc_yaml))
    with pytest.raises(UsageError) as caught:
        read_stages(edited.parent)
    assert str(caught.value) == (
        "dvc.yaml, stage 'train': meta.cluster.cpus is not a known key; did you mean `cpu`?"
    )


@pytest.mark.parametrize("broken", ["cycle", "unknown key"])
def test_a_pipeline_dvc_refuses_is_refused_with_dvcs_message(
    broken: str, edited: Path, small: tuple[Path, dict[str, str]]
) -> None:
    dvc_yaml = yaml.safe_load(edited.read_text())
    if broken == "cycle":
        dvc_yaml["stages"]["one"] = {"cmd": "true", "deps": ["b.txt"], "outs": ["a.txt"]}
        dvc_yaml["stages"]["two"] = {"cmd": "true", "deps": ["a.txt"], "outs": ["b.txt"]}
    else:
        dvc_yaml["stages"]["prepare"]["dep"] = ["x"]
    edited.write_text(yaml.safe_dump(dvc_yaml))
    dvc = pipeline_repo.run("dvc", "dag", cwd=edited.parent, env=small[1], check=False)
    assert dvc.returncode != 0
    said = dvc.stderr.removeprefix("ERROR: ").split(":")[0].splitlines()[0].rstrip(".")
    with pytest.raises(UsageError) as caught:
        read_stages(edited.parent)
    assert said and said in str(caught.value)
    if broken == "unknown key":  # and the reason DVC gives below it
        assert "extra keys not allowed" in dvc.stderr
        assert "extra keys not allowed @ data['stages']['prepare']['dep']" in str(caught.value)


def test_a_private_repository_is_cloned_with_the_token_from_the_secret(tmp_path: Path) -> None:
    """The rendered clone lines with GIT_TOKEN set (a key of the remote's Secret): git gets it
    from the credential helper the script sets up, never from the command line."""
    script = template.stage_script("train")
    setup = script.split("git clone", 1)[0]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_TOKEN": "t0ken"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", setup], env=env, check=True,
                          timeout=30, capture_output=True, text=True)  # fmt: skip
    asked = subprocess.run(
        ["git", "credential", "fill"], input="protocol=https\nhost=github.com\n\n", env=env,
        check=True, timeout=30, capture_output=True, text=True,
    )  # fmt: skip
    assert "username=x-access-token\npassword=t0ken\n" in asked.stdout, done.stderr
    assert "t0ken" not in script
