"""The Kubernetes objects of a deploy, as plain dicts built from params.yaml's `deploy:` section
(parsed once into a DeploySettings).

The service's Deployment and Service (the image and model version are passed in, so the
workflow can give Argo placeholders and a dry run real values), and the ServiceAccount, Role and
RoleBinding the deploy workflow runs as, granting only what its steps use.
"""

from __future__ import annotations

from typing import Any

from mlgitops.settings import DeploySettings

Manifest = dict[str, Any]

HEADER = "# Rendered from params.yaml by `make render` (mlgitops render); do not edit.\n"
BENTO_SRC = "/home/bentoml/bento/src"  # where BentoML's image puts the Bento's src/ (its workdir)


def selector(deploy: DeploySettings) -> dict[str, str]:
    """The labels that pick the service's pods (never change: a Deployment's selector is fixed)."""
    return {"app.kubernetes.io/name": deploy.service}


def labels(deploy: DeploySettings, version: str) -> dict[str, str]:
    """The pods' and objects' labels, the model version among them."""
    return {
        **selector(deploy),
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/managed-by": "mlgitops",
    }


def container_security() -> dict[str, Any]:
    """Every container we run: no root, no privilege escalation, no capabilities."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def deployment(deploy: DeploySettings, *, image: str, version: str) -> Manifest:
    """The service's Deployment: probes, limits, non-root, read-only root, no unavailable pods."""
    probes = deploy.probes
    http = {"port": "http"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deploy.service,
            "namespace": deploy.namespace,
            "labels": labels(deploy, version),
        },
        "spec": {
            "replicas": deploy.replicas,
            "revisionHistoryLimit": deploy.revision_history,
            "progressDeadlineSeconds": deploy.rollout_timeout_seconds,
            "selector": {"matchLabels": selector(deploy)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": deploy.max_surge},
            },
            "template": {
                "metadata": {"labels": labels(deploy, version)},
                "spec": {
                    "automountServiceAccountToken": False,  # the service never calls the API
                    "imagePullSecrets": [{"name": deploy.image_pull_secret}],
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": deploy.run_as_user,
                        "runAsGroup": deploy.run_as_user,
                        "fsGroup": deploy.run_as_user,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "service",
                            "image": image,
                            "ports": [
                                {"name": "http", "containerPort": deploy.port, "protocol": "TCP"}
                            ],
                            "env": _container_env(deploy),
                            "resources": deploy.resources.as_dict(),
                            "startupProbe": {
                                "httpGet": {"path": "/livez", **http},
                                "periodSeconds": 2,
                                "failureThreshold": probes.startup_failures,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/livez", **http},
                                "initialDelaySeconds": probes.liveness_delay,
                                "periodSeconds": probes.liveness_period,
                                "failureThreshold": probes.liveness_failures,
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/readyz", **http},
                                "periodSeconds": probes.readiness_period,
                                "failureThreshold": probes.readiness_failures,
                            },
                            "securityContext": container_security(),
                            "volumeMounts": [
                                {"name": name, "mountPath": path}
                                for name, path in deploy.writable.items()
                            ],
                        }
                    ],
                    "volumes": [{"name": name, "emptyDir": {}} for name in deploy.writable],
                },
            },
        },
    }


def _container_env(deploy: DeploySettings) -> list[dict[str, Any]]:
    """deploy.env as values, deploy.secret_env from optional Secrets (a missing one is skipped)."""
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in deploy.env.items()]
    for name, ref in deploy.secret_env.items():
        selector = {"name": ref.secret, "key": ref.key, "optional": True}
        env.append({"name": name, "valueFrom": {"secretKeyRef": selector}})
    return env


def service(deploy: DeploySettings) -> Manifest:
    """The ClusterIP Service in front of the pods (the smoke test goes through it)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": deploy.service,
            "namespace": deploy.namespace,
            "labels": selector(deploy),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector(deploy),
            "ports": [{"name": "http", "port": deploy.port, "targetPort": "http"}],
        },
    }


def service_account(deploy: DeploySettings) -> Manifest:
    """What the deploy workflow's pods run as."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": deploy.service_account, "namespace": deploy.namespace},
    }


def role(deploy: DeploySettings) -> Manifest:
    """Only what the steps do, on only the service's objects where Kubernetes allows naming them.

    apply (Argo resource template): get, create, patch the Deployment and Service; rollout
    status: get, list, watch the Deployment; rollout undo: get and patch it, list ReplicaSets
    (the revisions); recording the revision: get. Argo's executor reports each step's outputs
    as a WorkflowTaskResult. `create` and a list by label cannot be limited by name.
    """
    names = [deploy.service]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": deploy.service_account, "namespace": deploy.namespace},
        "rules": [
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "resourceNames": names,
                "verbs": ["get", "list", "watch", "patch"],
            },
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]},
            {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list"]},
            {
                "apiGroups": [""],
                "resources": ["services"],
                "resourceNames": names,
                "verbs": ["get", "patch"],
            },
            {"apiGroups": [""], "resources": ["services"], "verbs": ["create"]},
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["workflowtaskresults"],
                "verbs": ["create", "patch"],
            },
        ],
    }


def role_binding(deploy: DeploySettings) -> Manifest:
    """The Role, given to the workflow's ServiceAccount."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": deploy.service_account, "namespace": deploy.namespace},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": deploy.service_account,
        },
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": deploy.service_account,
                "namespace": deploy.namespace,
            }
        ],
    }


def rbac(deploy: DeploySettings) -> list[Manifest]:
    """ServiceAccount, Role and RoleBinding, in the order to apply them."""
    return [service_account(deploy), role(deploy), role_binding(deploy)]
