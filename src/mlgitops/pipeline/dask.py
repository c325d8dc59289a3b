"""A Dask cluster for the stages whose dvc.yaml `meta: {cluster: {dask: true}}` asks for one.

When params.yaml's `train_backend.backend` is `dask`, such a stage's task gets the
dask-kubernetes operator's DaskCluster (mlgitops.dask_cluster, shaped by
`train_backend.dask`): a task before it creates the cluster, named after the run so two runs
never share one, and the stage's pod reaches its scheduler through DASK_SCHEDULER_ADDRESS (Dask
reads it into its config). The run's exit handler deletes every cluster it created, whatever
the outcome; the owner reference on each also lets Kubernetes remove it with the Workflow.
With the `single` backend the stage trains in its own pod and no cluster is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from hera.workflows import Env, Resource

from mlgitops.dask_cluster import API_VERSION, KIND, dask_cluster_manifest, scheduler_address
from mlgitops.pipeline.stages import Stage
from mlgitops.settings import parse_settings
from mlgitops.settings.compute import DaskSettings, TrainBackendSettings

SECTION = "train_backend"
WORKFLOW = "{{workflow.name}}"
CLEANUP = "delete-dask-clusters"  # the exit handler
# What the pipeline's ServiceAccount needs for Argo's resource templates on the clusters.
RULE = {
    "apiGroups": [API_VERSION.split("/")[0]],
    "resources": ["daskclusters"],
    "verbs": ["create", "get", "delete"],
}


def settings(params: Mapping[str, Any], source: str) -> DaskSettings | None:
    """params.yaml's `train_backend.dask` when its backend is dask, else None."""
    if SECTION not in params:
        return None
    backend = parse_settings(TrainBackendSettings, params, source=source, section=SECTION)
    return backend.dask if backend.backend == "dask" else None


def wanting(stages: Sequence[Stage], dask: DaskSettings | None) -> list[Stage]:
    """The stages that get a Dask cluster: theirs asks for one and the backend is dask."""
    return [stage for stage in stages if dask is not None and stage.cluster.dask]


def cluster_name(stage: Stage) -> str:
    """The stage's cluster in this run: `<workflow name>-<task>`, unique per run."""
    return f"{WORKFLOW}-{stage.task}"


def create(stage: Stage, dask: DaskSettings, *, image: str, namespace: str) -> Resource:
    """The resource template creating `stage`'s DaskCluster."""
    manifest = dask_cluster_manifest(
        cluster_name(stage),
        dask,
        image=image,
        namespace=namespace,
        labels={"workflows.argoproj.io/workflow": WORKFLOW},
    )
    return Resource(
        name=f"{stage.task}-dask",
        action="create",
        manifest=yaml.safe_dump(manifest, sort_keys=False),
        set_owner_reference=True,  # gone with the Workflow, should the exit handler not run
    )


def scheduler_env(stage: Stage, namespace: str) -> Env:
    return Env(
        name="DASK_SCHEDULER_ADDRESS", value=scheduler_address(cluster_name(stage), namespace)
    )


def delete(stage: Stage, namespace: str) -> Resource:
    """The resource template deleting `stage`'s DaskCluster (none left is fine)."""
    manifest = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": cluster_name(stage), "namespace": namespace},
    }
    return Resource(
        name=f"{stage.task}-dask-delete",
        action="delete",
        manifest=yaml.safe_dump(manifest, sort_keys=False),
        flags=["--ignore-not-found"],
    )
