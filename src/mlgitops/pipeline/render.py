"""deploy/pipeline.yaml: the repository's DVC pipeline as an Argo WorkflowTemplate.

Rendered by `mlgitops render` beside the deploy template when params.yaml has a `pipeline`
section (a repository without one renders nothing here), from dvc.yaml as DVC reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlgitops.params import read_params
from mlgitops.pipeline import dask as dask_part
from mlgitops.pipeline.stages import read_stages
from mlgitops.pipeline.template import TEMPLATE_NAME, remote_secret, template
from mlgitops.settings import parse_settings
from mlgitops.settings.pipeline import PipelineSettings

PIPELINE_FILE = "pipeline.yaml"
RBAC_FILE = "pipeline-rbac.yaml"
SECTION = "pipeline"
HEADER = (
    "# Rendered from params.yaml's `pipeline` and every dvc.yaml by `make render`"
    " (mlgitops render); do not edit.\n"
)


def settings(params: dict[str, Any], source: str = "params.yaml") -> PipelineSettings | None:
    """params.yaml's `pipeline` section, None when it has none."""
    if SECTION not in params:
        return None
    return parse_settings(PipelineSettings, params, source=source, section=SECTION)


def rbac(pipeline: PipelineSettings, *, dask: bool = False) -> list[dict[str, Any]]:
    """The pods' ServiceAccount and the grant Argo's executor needs for it: reporting each
    task's outputs (WorkflowTaskResults); with `dask`, creating and deleting DaskClusters. The
    stages themselves touch no Kubernetes API."""
    name, namespace = pipeline.service_account, pipeline.namespace
    metadata = {"name": name, "namespace": namespace}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflowtaskresults"],
                    "verbs": ["create", "patch"],
                },
                *([dask_part.RULE] if dask else []),
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def files(params_path: Path) -> dict[str, str]:
    """deploy/'s pipeline files for the repository whose params file is `params_path`:
    the WorkflowTemplate and its RBAC; nothing when params.yaml has no `pipeline` section."""
    from mlgitops.deploy.render import documents

    params = read_params(params_path)
    pipeline = settings(params, str(params_path))
    if pipeline is None:
        return {}
    remote_secret(pipeline)  # before DVC reads anything: a missing name is said at once
    root = params_path.resolve().parent
    dask = dask_part.settings(params, str(params_path))
    stages = read_stages(root)
    on_dask = bool(dask_part.wanting(stages, dask))
    return {
        PIPELINE_FILE: HEADER + template(pipeline, stages, dask).to_yaml(),
        RBAC_FILE: HEADER + documents(rbac(pipeline, dask=on_dask)),
    }


def workflow(params_path: Path, parameters: Mapping[str, str]) -> dict[str, Any]:
    """A Workflow running the DAG this checkout renders, its parameters given: a pull request
    that adds, removes or resizes a stage runs its own pipeline, not the one last applied."""
    document = yaml.safe_load(files(params_path)[PIPELINE_FILE])
    spec = document["spec"]
    for parameter in spec["arguments"]["parameters"]:
        parameter["value"] = parameters[parameter["name"]]
    metadata = {"generateName": f"{TEMPLATE_NAME}-", "namespace": document["metadata"]["namespace"]}
    return {"apiVersion": document["apiVersion"], "kind": "Workflow", "metadata": metadata,
            "spec": spec}  # fmt: skip
