"""params.yaml `train_backend` and the DaskCluster rendered from it for a training task."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mlgitops.dask_cluster import dask_cluster_manifest, scheduler_address
from mlgitops.errors import UsageError
from mlgitops.settings import parse_settings
from mlgitops.settings.compute import DaskSettings, TrainBackendSettings
from tests.unit.deploy import K8S_VERSION

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "ghcr.io/acme/model-tools@sha256:" + "0" * 64


def _section() -> dict[str, Any]:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    section: dict[str, Any] = params["train_backend"]
    return section


def _dask(**changes: Any) -> DaskSettings:
    section = copy.deepcopy(_section())
    section["backend"] = "dask"
    section["dask"].update(changes)
    settings = parse_settings(
        TrainBackendSettings, {"train_backend": section}, section="train_backend"
    )
    assert settings.dask is not None
    return settings.dask


def test_this_repository_trains_in_one_process_by_default() -> None:
    settings = parse_settings(
        TrainBackendSettings, {"train_backend": _section()}, section="train_backend"
    )
    assert settings.backend == "single"


def _renamed(mapping: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {new if key == old else key: value for key, value in mapping.items()}


def _wrong(case: str) -> dict[str, Any]:
    section = copy.deepcopy(_section())
    if case == "value":
        section["backend"] = "dsak"
    elif case == "key":
        section = _renamed(section, "backend", "backnd")
    elif case == "nested key":
        section["dask"] = _renamed(section["dask"], "workers", "worker")
    else:
        section["dask"]["partitions"] = 1
    return section


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("value", "train_backend.backend is 'dsak'; expected 'single' or 'dask'"),
        ("key", "train_backend.backnd is not a known key; did you mean `backend`?"),
        ("nested key", "train_backend.dask.worker is not a known key; did you mean `workers`?"),
        ("across keys", "train_backend.dask.partitions is 1: fewer than workers (2)"),
    ],
)
def test_a_wrong_backend_setting_is_refused_naming_the_key(case: str, message: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_settings(
            TrainBackendSettings, {"train_backend": _wrong(case)}, section="train_backend"
        )
    assert message in str(refused.value)
    assert "lacks" not in str(
        refused.value
    )  # a misspelt key is one mistake, not also a missing one


def test_the_dask_backend_needs_its_block() -> None:
    with pytest.raises(UsageError, match=r"train_backend\.dask is missing"):
        parse_settings(TrainBackendSettings, {"backend": "dask"})


def test_the_cluster_has_the_workers_threads_and_resources_of_the_settings() -> None:
    dask = _dask(workers=5, threads_per_worker=3, partitions=10)
    manifest = dask_cluster_manifest("train-7f3a", dask, image=IMAGE, namespace="ml")
    assert (manifest["apiVersion"], manifest["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    assert manifest["metadata"] == {"name": "train-7f3a", "namespace": "ml"}
    worker = manifest["spec"]["worker"]
    assert worker["replicas"] == 5
    (container,) = worker["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["args"][:2] == ["dask", "worker"]
    assert container["args"][container["args"].index("--nthreads") + 1] == "3"
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"},
        "limits": {"cpu": "1", "memory": "4Gi"},
    }
    assert manifest["spec"]["idleTimeout"] == 1800
    service = manifest["spec"]["scheduler"]["service"]
    assert service["selector"]["dask.org/cluster-name"] == "train-7f3a"
    assert scheduler_address("train-7f3a", "ml") == (
        "tcp://train-7f3a-scheduler.ml.svc.cluster.local:8786"
    )


def test_the_clusters_pods_and_service_are_valid_kubernetes() -> None:
    """The CRD embeds Kubernetes' PodSpec and ServiceSpec: each part validates strictly as one."""
    manifest = dask_cluster_manifest("train", _dask(), image=IMAGE, env={"DVC_REMOTE": "s3"})
    spec = manifest["spec"]
    assert set(spec) == {"idleTimeout", "worker", "scheduler"}
    assert set(spec["scheduler"]) == {"spec", "service"}  # both required by the CRD
    for name, pod_spec in [
        ("worker", spec["worker"]["spec"]),
        ("scheduler", spec["scheduler"]["spec"]),
    ]:
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": pod_spec}
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
        assert pod_spec["containers"][0]["env"][0] == {"name": "DVC_REMOTE", "value": "s3"}
    (scheduler,) = spec["scheduler"]["spec"]["containers"]
    assert {"name": "DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING", "value": "False"} in scheduler[
        "env"
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "train-scheduler"},
        "spec": spec["scheduler"]["service"],
    }
    kubernetes_validate.validate(service, K8S_VERSION, strict=True)
    probe_port = spec["scheduler"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"]
    ports = {p["name"] for p in spec["scheduler"]["spec"]["containers"][0]["ports"]}
    assert probe_port in ports
    assert {p["targetPort"] for p in spec["scheduler"]["service"]["ports"]} <= ports
