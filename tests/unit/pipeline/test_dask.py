"""A stage whose dvc.yaml meta asks for Dask gets a DaskCluster for its run when params.yaml's
train_backend is dask: created before it (mlgitops.dask_cluster's manifest), reached through
DASK_SCHEDULER_ADDRESS, deleted by the exit handler; with the single backend, nothing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hera.workflows import WorkflowTemplate

from mlgitops.dask_cluster import dask_cluster_manifest, scheduler_address
from mlgitops.params import read_params
from mlgitops.pipeline import render
from mlgitops.settings import parse_settings
from mlgitops.settings.compute import TrainBackendSettings
from tests import pipeline_repo

REPO_ROOT = Path(__file__).resolve().parents[3]
RUN = "{{workflow.name}}"


def _render(edited: Path, backend: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The small repository's train stage asking for Dask, under `backend`."""
    root = edited.parent
    dvc_yaml = yaml.safe_load(edited.read_text())
    dvc_yaml["stages"]["train"]["meta"]["cluster"]["dask"] = True
    edited.write_text(yaml.safe_dump(dvc_yaml))
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train_backend"] = copy.deepcopy(read_params(REPO_ROOT / "params.yaml")["train_backend"])
    params["train_backend"]["backend"] = backend
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    files = render.files(root / "params.yaml")
    return yaml.safe_load(files[render.PIPELINE_FILE]), list(
        yaml.safe_load_all(files[render.RBAC_FILE])
    )


def _templates(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


def test_the_stage_gets_a_cluster_of_its_own_for_the_run(edited: Path) -> None:
    workflow, rbac = _render(edited, "dask")
    templates = _templates(workflow)
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    dask = parse_settings(TrainBackendSettings, read_params(edited.parent / "params.yaml"),
                          section="train_backend").dask  # fmt: skip
    assert dask is not None
    create = templates["train-dask"]["resource"]
    assert create["action"] == "create" and create["setOwnerReference"] is True
    expected = dask_cluster_manifest(
        f"{RUN}-train", dask, image="{{workflow.parameters.image}}", namespace="ml",
        labels={"workflows.argoproj.io/workflow": RUN},
    )  # fmt: skip
    assert yaml.safe_load(create["manifest"]) == expected
    # It starts when the stage could, and the stage waits for it.
    assert set(tasks["train-dask"]["dependencies"]) == {"feature-a", "feature-b", "grid-1-x",
                                                        "grid-2-x"}  # fmt: skip
    assert set(tasks["train"]["dependencies"]) == {*tasks["train-dask"]["dependencies"],
                                                   "train-dask"}  # fmt: skip
    env = {e["name"]: e["value"] for e in templates["train"]["container"]["env"]}
    assert env["DASK_SCHEDULER_ADDRESS"] == scheduler_address(f"{RUN}-train", "ml")
    assert "DASK_SCHEDULER_ADDRESS" not in str(templates["evaluate"])
    # Removed at the end, whatever the outcome.
    assert workflow["spec"]["onExit"] == "delete-dask-clusters"
    (removal,) = templates["delete-dask-clusters"]["dag"]["tasks"]
    delete = templates[removal["template"]]["resource"]
    assert delete["action"] == "delete" and delete["flags"] == ["--ignore-not-found"]
    assert yaml.safe_load(delete["manifest"])["metadata"] == {"name": f"{RUN}-train",
                                                              "namespace": "ml"}  # fmt: skip
    (role,) = [d for d in rbac if d["kind"] == "Role"]
    assert {"apiGroups": ["kubernetes.dask.org"], "resources": ["daskclusters"],
            "verbs": ["create", "get", "delete"]} in role["rules"]  # fmt: skip
    loaded = WorkflowTemplate.from_dict(copy.deepcopy(workflow))
    assert isinstance(loaded, WorkflowTemplate) and loaded.to_dict() == workflow
    edges = {(a, b) for a, b in pipeline_repo.dag_edges(edited.parent, pipeline_repo.environment(
        edited.parent.parent / "home"))}  # fmt: skip
    stage_tasks = {n for n, t in tasks.items() if "container" in templates[t["template"]]}
    assert len(edges) == sum(
        len([d for d in tasks[n].get("dependencies", []) if d in stage_tasks])
        for n in stage_tasks - {"dvc-lock"}
    )  # the cluster's task adds no edge between stages


def test_with_the_single_backend_no_cluster_is_made(edited: Path) -> None:
    workflow, rbac = _render(edited, "single")
    assert "DaskCluster" not in yaml.safe_dump(workflow)
    assert "onExit" not in workflow["spec"]
    assert "daskclusters" not in yaml.safe_dump(rbac)
