"""The Role grants exactly what the rendered workflow's steps use, nothing wider.

What each step needs is derived from the rendered file: the kinds its resource templates apply,
and the kubectl commands in its scripts. The table below is kubectl's and Argo's behaviour (the
API calls each command makes), not a copy of the Role.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml

from mlgitops.deploy import render
from tests.unit.deploy import DEPLOY_DIR, rendered_workflow, templates

Grant = tuple[str, str, str, str | None]  # api group, resource, verb, object name (None: any)

# kind -> (api group, resource)
KINDS = {"Deployment": ("apps", "deployments"), "Service": ("", "services")}
# `kubectl apply` (client side, as Argo's resource template runs it): read, then create or patch.
APPLY = ("get", "create", "patch")
# kubectl command -> API calls on the named object, and calls not limited to one name.
KUBECTL: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]] = {
    ("get",): (("get",), ()),
    # a watch of the one Deployment (list and watch by metadata.name field selector)
    ("rollout", "status"): (("get", "list", "watch"), ()),
    # reads the Deployment, lists its ReplicaSets (the revisions), patches the template back
    ("rollout", "undo"): (("get", "patch"), (("apps", "replicasets", "list"),)),
}
# Argo's executor records every step's outputs as a WorkflowTaskResult (Argo >= 3.4).
EXECUTOR: set[Grant] = {
    ("argoproj.io", "workflowtaskresults", "create", None),
    ("argoproj.io", "workflowtaskresults", "patch", None),
}


def _kubectl_calls(script: str) -> list[list[str]]:
    calls = []
    for line in script.splitlines():
        for match in re.finditer(r"\bkubectl\s+([^;|)&>]*)", line):
            calls.append(shlex.split(match.group(1)))
    return calls


def _object(args: list[str]) -> tuple[str, str, str]:
    """(api group, resource, name) of the `kind/name` a kubectl command line acts on."""
    (target,) = [a for a in args if re.fullmatch(r"[a-z]+/[a-z0-9.-]+", a)]
    kind, name = target.split("/")
    group, resource = {"deployment": KINDS["Deployment"], "service": KINDS["Service"]}[kind]
    return group, resource, name


def needed(workflow: dict[str, Any]) -> set[Grant]:
    grants = set(EXECUTOR)
    for template in templates(workflow).values():
        if "resource" in template:
            manifest = yaml.safe_load(template["resource"]["manifest"])
            assert template["resource"]["action"] == "apply"
            group, resource = KINDS[manifest["kind"]]
            name = manifest["metadata"]["name"]
            grants |= {(group, resource, verb, name) for verb in APPLY if verb != "create"}
            grants.add((group, resource, "create", None))  # a create cannot be limited by name
        if "container" in template and template["container"]["command"][0] == "bash":
            for args in _kubectl_calls(template["container"]["args"][0]):
                command = next(key for key in KUBECTL if tuple(args[: len(key)]) == key)
                named, other = KUBECTL[command]
                group, resource, name = _object(args)
                grants |= {(group, resource, verb, name) for verb in named}
                grants |= {(g, r, verb, None) for g, r, verb in other}
    return grants


def granted(role: dict[str, Any]) -> set[Grant]:
    grants = set()
    for rule in role["rules"]:
        names = rule.get("resourceNames") or [None]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    grants |= {(group, resource, verb, name) for name in names}
    return grants


def _rbac() -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all((DEPLOY_DIR / render.RBAC_FILE).read_text())
    return {doc["kind"]: doc for doc in docs}


def test_the_role_grants_exactly_what_the_steps_use() -> None:
    assert granted(_rbac()["Role"]) == needed(rendered_workflow())


def test_the_derivation_sees_every_kubectl_command_of_the_steps() -> None:
    commands = {
        tuple(args[:2])
        for template in templates(rendered_workflow()).values()
        if "container" in template and template["container"]["command"][0] == "bash"
        for args in _kubectl_calls(template["container"]["args"][0])
    }
    assert {("rollout", "status"), ("rollout", "undo")} <= commands
    assert any(command[0] == "get" for command in commands)


def test_no_wildcard_anywhere() -> None:
    for rule in _rbac()["Role"]["rules"]:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule
        assert not any(resource.endswith("/*") for resource in rule["resources"])


def test_the_role_is_bound_to_the_workflows_service_account_in_its_namespace() -> None:
    rbac = _rbac()
    spec = rendered_workflow()
    account = spec["spec"]["serviceAccountName"]
    namespace = spec["metadata"]["namespace"]
    assert rbac["ServiceAccount"]["metadata"] == {"name": account, "namespace": namespace}
    binding = rbac["RoleBinding"]
    assert binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": rbac["Role"]["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    ]
    assert rbac["Role"]["metadata"]["namespace"] == namespace
