"""The Kubernetes objects: valid in strict mode, and the Deployment keeps the issue's promises."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from mlgitops.deploy import render
from tests.unit.deploy import (
    DEPLOY_DIR,
    K8S_VERSION,
    deploy_settings,
    rendered_workflow,
    repo_params,
    templates,
)

IMAGE = "ghcr.io/acme/churn-service:2gx4kqhhkoy26ax4"
VERSION = "2gx4kqhhkoy26ax4"


def _applied_by_the_workflow() -> list[dict[str, Any]]:
    """The manifests of the rendered workflow's resource templates, with the values Argo fills
    in at run time (the image parameter, the version the apply step is given)."""
    docs = []
    for template in templates(rendered_workflow()).values():
        if "resource" in template:
            text = template["resource"]["manifest"]
            text = text.replace("{{workflow.parameters.image}}", IMAGE)
            text = text.replace("{{inputs.parameters.model-version}}", VERSION)
            assert "{{" not in text, text
            docs.append(yaml.safe_load(text))
    return docs


def _all_manifests() -> list[dict[str, Any]]:
    rbac = list(yaml.safe_load_all((DEPLOY_DIR / render.RBAC_FILE).read_text()))
    dry = [d for d in yaml.safe_load_all(render.dry_run(deploy_settings(), IMAGE))]
    kubernetes = [d for d in dry if d["apiVersion"] != "argoproj.io/v1alpha1"]
    return [*_applied_by_the_workflow(), *rbac, *kubernetes]


@pytest.mark.parametrize("index", range(len(_all_manifests())))
def test_every_kubernetes_manifest_validates_strictly(index: int) -> None:
    manifest = _all_manifests()[index]
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_the_strict_validation_would_catch_an_unknown_field() -> None:
    deployment = _deployment()
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_the_workflow_applies_what_the_dry_run_shows() -> None:
    applied = {doc["kind"]: doc for doc in _applied_by_the_workflow()}
    dry = {doc["kind"]: doc for doc in yaml.safe_load_all(render.dry_run(deploy_settings(), IMAGE))}
    assert set(applied) == {"Deployment", "Service"}
    for kind, doc in applied.items():
        assert dry[kind] == doc, kind


def _deployment() -> dict[str, Any]:
    (deployment,) = [d for d in _applied_by_the_workflow() if d["kind"] == "Deployment"]
    return deployment


def _container() -> dict[str, Any]:
    (container,) = _deployment()["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def test_probes_readiness_on_readyz_liveness_on_livez_on_the_serving_port() -> None:
    container = _container()
    port = repo_params()["deploy"]["port"]
    (declared,) = container["ports"]
    assert declared["containerPort"] == port
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": declared["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": declared["name"]}


def test_requests_and_limits_come_from_params() -> None:
    wanted = repo_params()["deploy"]["resources"]
    resources = _container()["resources"]
    for kind in ("requests", "limits"):
        assert resources[kind] == {k: str(v) for k, v in wanted[kind].items()}


def test_non_root_read_only_no_escalation_no_capabilities() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    security = _container()["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is False


def test_bentoml_gets_writable_scratch_for_what_it_writes() -> None:
    container = _container()
    pod = _deployment()["spec"]["template"]["spec"]
    scratch = {v["name"] for v in pod["volumes"] if v.get("emptyDir") == {}}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    # BentoML's home (its prometheus multiprocess dir), the request log and /tmp.
    for path in (env["BENTOML_HOME"], env["MLGITOPS_REQUEST_LOG_DIR"], "/tmp"):
        assert mounts[path] in scratch, path


def test_a_rollout_never_takes_a_serving_pod_away_first() -> None:
    strategy = _deployment()["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1
    assert _deployment()["spec"]["revisionHistoryLimit"] >= 1  # something to roll back to


def test_pods_carry_the_model_version_and_the_service_selects_them() -> None:
    deployment = _deployment()
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/version"] == VERSION
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == VERSION
    (service,) = [d for d in _applied_by_the_workflow() if d["kind"] == "Service"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert "app.kubernetes.io/version" not in selector  # a selector cannot change between versions
    assert service["spec"]["selector"] == selector
    assert selector.items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == _container()["ports"][0]["name"]


def test_secret_env_comes_from_optional_secrets_named_in_params() -> None:
    wanted = repo_params()["deploy"]["secret_env"]
    from_secrets = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in _container()["env"] if "valueFrom" in e
    }
    assert from_secrets == {
        name: {"name": ref["secret"], "key": ref["key"], "optional": True}
        for name, ref in wanted.items()
    }
