"""The dask-kubernetes operator's `DaskCluster` (kubernetes.dask.org/v1) for a training task.

A plain manifest, shaped as the operator's CRD requires (spec.worker.spec and
spec.scheduler.spec are PodSpecs, spec.scheduler.service a ServiceSpec), so a workflow can
create it before the task and delete it after. The operator gives each worker container
DASK_SCHEDULER_ADDRESS and DASK_WORKER_NAME; the task reaches the scheduler at
`scheduler_address(name, namespace)`, the Service the operator names `<name>-scheduler`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgitops.settings.compute import DaskSettings

API_VERSION = "kubernetes.dask.org/v1"
KIND = "DaskCluster"
SCHEDULER_PORT = 8786
DASHBOARD_PORT = 8787
WORKER_DASHBOARD_PORT = 8788
# The operator's own labels on the scheduler pod, which the Service selects.
_CLUSTER_LABEL = "dask.org/cluster-name"
_COMPONENT_LABEL = "dask.org/component"


def scheduler_address(name: str, namespace: str) -> str:
    """Where a pod in the cluster reaches the scheduler of DaskCluster `name` (its Service)."""
    return f"tcp://{name}-scheduler.{namespace}.svc.cluster.local:{SCHEDULER_PORT}"


def dask_cluster_manifest(
    name: str,
    dask: DaskSettings,
    *,
    image: str,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The DaskCluster `name`: `dask.workers` worker pods of `dask.threads_per_worker` threads.

    `image` runs the scheduler and the workers: it must hold the training code's libraries
    at the same versions as the task (the image built from the repository). `env` is given
    to both (a remote's settings, never a secret's value). Memory: Dask's `auto` limit reads
    the pod's cgroup, so it follows `cluster.worker_resources.limits.memory`.
    """
    cluster = dask.cluster
    environment = [{"name": key, "value": value} for key, value in sorted((env or {}).items())]
    worker: dict[str, Any] = {
        "name": "worker",
        "image": image,
        "args": [
            "dask",
            "worker",
            "--name",
            "$(DASK_WORKER_NAME)",
            "--nthreads",
            str(dask.threads_per_worker),
            "--nworkers",
            "1",
            "--dashboard-address",
            f":{WORKER_DASHBOARD_PORT}",
        ],
        "ports": [_port("http-dashboard", WORKER_DASHBOARD_PORT)],
        "resources": cluster.worker_resources.as_dict(),
        **({"env": environment} if environment else {}),
    }
    probe: dict[str, Any] = {"httpGet": {"port": "http-dashboard", "path": "/health"}}
    scheduler: dict[str, Any] = {
        "name": "scheduler",
        "image": image,
        "args": ["dask", "scheduler"],
        "ports": [_port("tcp-comm", SCHEDULER_PORT), _port("http-dashboard", DASHBOARD_PORT)],
        "readinessProbe": {**probe, "initialDelaySeconds": 5, "periodSeconds": 10},
        "livenessProbe": {**probe, "initialDelaySeconds": 15, "periodSeconds": 20},
        "resources": cluster.scheduler_resources.as_dict(),
        # lightgbm.dask trains each worker on the parts it holds: work stealing could move a
        # part to another worker, and the model would depend on the moment's load.
        "env": [
            *environment,
            {"name": "DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING", "value": "False"},
        ],
    }
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {
            "idleTimeout": cluster.idle_timeout_seconds,
            "worker": {"replicas": dask.workers, "spec": {"containers": [worker]}},
            "scheduler": {
                "spec": {"containers": [scheduler]},
                "service": {
                    "type": "ClusterIP",
                    "selector": {_CLUSTER_LABEL: name, _COMPONENT_LABEL: "scheduler"},
                    "ports": [
                        _service_port("tcp-comm", SCHEDULER_PORT),
                        _service_port("http-dashboard", DASHBOARD_PORT),
                    ],
                },
            },
        },
    }


def _port(name: str, number: int) -> dict[str, Any]:
    return {"name": name, "containerPort": number, "protocol": "TCP"}


def _service_port(name: str, number: int) -> dict[str, Any]:
    return {"name": name, "protocol": "TCP", "port": number, "targetPort": name}
