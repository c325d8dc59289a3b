"""The Kubernetes objects of a deploy, as plain dicts built from params.yaml's `deploy:` section.

The service's Deployment and Service (the image and model version are passed in, so the
workflow can give Argo placeholders and a dry run real values), and the ServiceAccount, Role and
RoleBinding the deploy workflow runs as, granting only what its steps use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgitops.errors import UsageError

Manifest = dict[str, Any]

BENTO_SRC = "/home/bentoml/bento/src"  # where BentoML's image puts the Bento's src/ (its workdir)


@dataclass(frozen=True)
class DeploySettings:
    """params.yaml's `deploy:` section, checked once."""

    service: str
    namespace: str
    port: int
    replicas: int
    max_surge: int
    revision_history: int
    resources: dict[str, dict[str, str]]
    probes: dict[str, int]
    run_as_user: int
    image_pull_secret: str
    writable: dict[str, str]
    env: dict[str, str]
    secret_env: dict[str, dict[str, str]]
    rollout_timeout_seconds: int
    workflow_timeout_seconds: int
    smoke_card: str
    smoke_max_p99_ms: float
    smoke_requests: int
    service_account: str
    kubectl_image: str
    step_resources: dict[str, dict[str, str]]

    @classmethod
    def from_params(cls, settings: Mapping[str, Any]) -> DeploySettings:
        """From the whole parsed params.yaml; UsageError naming the key that is missing or bad."""
        section = _mapping(settings.get("deploy"), "deploy")
        smoke = _mapping(section.get("smoke"), "deploy.smoke")
        probes = _mapping(section.get("probes"), "deploy.probes")
        if _value(section, "revision_history", int) < 1:
            raise UsageError(
                "params.yaml: `deploy.revision_history` must be at least 1, or there is no "
                "earlier revision to roll back to"
            )
        for key in ("service", "namespace", "service_account", "image_pull_secret"):
            name = _value(section, key, str)
            if not _DNS_LABEL.fullmatch(name):
                raise UsageError(
                    f"params.yaml: `deploy.{key}` is {name!r}, not a Kubernetes name (lower-case "
                    "letters, digits and '-', at most 63, starting and ending alphanumeric)"
                )
        kubectl = _value(section, "kubectl_image", str)
        if not _PINNED.search(kubectl):
            raise UsageError(
                f"params.yaml: `deploy.kubectl_image` is {kubectl!r}; pin it to an exact version "
                "tag (registry.k8s.io/kubectl:v1.34.1) or a digest (...@sha256:<64 hex>)"
            )
        return cls(
            service=_value(section, "service", str),
            namespace=_value(section, "namespace", str),
            port=_value(section, "port", int),
            replicas=_value(section, "replicas", int),
            max_surge=_value(section, "max_surge", int),
            revision_history=_value(section, "revision_history", int),
            resources=_resources(section, "resources"),
            probes={key: _value(probes, key, int, "deploy.probes") for key in _PROBE_KEYS},
            run_as_user=_value(section, "run_as_user", int),
            image_pull_secret=_value(section, "image_pull_secret", str),
            writable=_writable(section),
            env=_env(section),
            secret_env=_secret_env(section),
            rollout_timeout_seconds=_value(section, "rollout_timeout_seconds", int),
            workflow_timeout_seconds=_value(section, "workflow_timeout_seconds", int),
            smoke_card=_value(smoke, "card", str, "deploy.smoke"),
            smoke_max_p99_ms=float(_value(smoke, "max_p99_ms", int | float, "deploy.smoke")),
            smoke_requests=_value(smoke, "requests", int, "deploy.smoke"),
            service_account=_value(section, "service_account", str),
            kubectl_image=_value(section, "kubectl_image", str),
            step_resources=_resources(section, "step_resources"),
        )

    @property
    def url(self) -> str:
        """The Service as pods in the cluster reach it."""
        return f"http://{self.service}.{self.namespace}.svc:{self.port}"


_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# An exact version tag (v1.34.1, 1.34.1) or a digest: never `latest` or a moving `v1.34`.
_PINNED = re.compile(r"(:v?\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$")

_PROBE_KEYS = (
    "readiness_period",
    "readiness_failures",
    "liveness_delay",
    "liveness_period",
    "liveness_failures",
    "startup_failures",
)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise UsageError(f"params.yaml: `{where}` is missing or empty; see docs/deploy.md")
    return value


def _value(section: Mapping[str, Any], key: str, kind: Any, where: str = "deploy") -> Any:
    value = section.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise UsageError(f"params.yaml: `{where}.{key}` is {value!r}; see docs/deploy.md")
    return value


def _writable(section: Mapping[str, Any]) -> dict[str, str]:
    """Volume name -> absolute mount path."""
    writable = {}
    for name, path in _mapping(section.get("writable"), "deploy.writable").items():
        if not _DNS_LABEL.fullmatch(str(name)) or not str(path).startswith("/"):
            raise UsageError(
                f"params.yaml: `deploy.writable.{name}: {path}` needs a volume name (lower-case "
                "letters, digits, '-') and an absolute path"
            )
        writable[str(name)] = str(path)
    return writable


def _env(section: Mapping[str, Any]) -> dict[str, str]:
    env = _mapping(section.get("env"), "deploy.env")
    for name, value in env.items():
        if not isinstance(value, str):
            raise UsageError(f"params.yaml: `deploy.env.{name}` is {value!r}; quote it as a string")
    return {str(name): str(value) for name, value in env.items()}


def _secret_env(section: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Variable -> {secret, key}; the section may be absent or empty."""
    secret_env = section.get("secret_env") or {}
    if not isinstance(secret_env, Mapping):
        raise UsageError("params.yaml: `deploy.secret_env` must map NAME: {secret: S, key: K}")
    out = {}
    for name, ref in secret_env.items():
        where = f"deploy.secret_env.{name}"
        ref = _mapping(ref, where)
        out[str(name)] = {field: _value(ref, field, str, where) for field in ("secret", "key")}
    return out


def _resources(section: Mapping[str, Any], key: str) -> dict[str, dict[str, str]]:
    resources = _mapping(section.get(key), f"deploy.{key}")
    out = {}
    for kind in ("requests", "limits"):
        amounts = _mapping(resources.get(kind), f"deploy.{key}.{kind}")
        out[kind] = {name: str(amounts[name]) for name in ("cpu", "memory") if name in amounts}
        if set(out[kind]) != {"cpu", "memory"}:
            raise UsageError(f"params.yaml: `deploy.{key}.{kind}` needs both cpu and memory")
    return out


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
                            "resources": deploy.resources,
                            "startupProbe": {
                                "httpGet": {"path": "/livez", **http},
                                "periodSeconds": 2,
                                "failureThreshold": probes["startup_failures"],
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/livez", **http},
                                "initialDelaySeconds": probes["liveness_delay"],
                                "periodSeconds": probes["liveness_period"],
                                "failureThreshold": probes["liveness_failures"],
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/readyz", **http},
                                "periodSeconds": probes["readiness_period"],
                                "failureThreshold": probes["readiness_failures"],
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
        selector = {"name": ref["secret"], "key": ref["key"], "optional": True}
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
