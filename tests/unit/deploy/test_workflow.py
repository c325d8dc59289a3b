"""The rendered WorkflowTemplate: it loads back into Hera, its steps run in order, and its exit
handler rolls back only a run that did not succeed, to the recorded revision, of the Deployment
the run applies.

The kubectl steps' bash scripts run here for real, read from the rendered file, against a
stand-in `kubectl` (the cluster cannot run here) that records what it is asked and answers what
the test says the cluster holds. Argo's part, which step runs when, is played by a small
interpreter of exactly the forms the file uses: `{{name}}` substitution and `A == B`, `A != B`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import WorkflowTemplate

from mlgitops.deploy import render, workflow
from tests.unit.deploy import DEPLOY_DIR, rendered_workflow, repo_params, templates

NEW_IMAGE = "ghcr.io/acme/churn-service:new"
OLD_IMAGE = "ghcr.io/acme/churn-service:old"

STAND_IN_KUBECTL = """#!/usr/bin/env bash
# Stand-in for kubectl against a cluster: logs its arguments, answers `get` from the test.
{ printf '%q ' "$@"; echo; } >> "$KUBECTL_LOG"
if [ "$1" = get ]; then printf '%s' "$KUBECTL_GET"; fi
if [ "$1 $2" = "rollout undo" ]; then echo "deployment.apps/${3#*/} rolled back"; fi
"""


def test_the_workflow_template_loads_back_into_hera_unchanged() -> None:
    text = (DEPLOY_DIR / render.WORKFLOW_FILE).read_text()
    loaded = WorkflowTemplate.from_yaml(text)
    assert isinstance(loaded, WorkflowTemplate)
    assert loaded.to_dict() == yaml.safe_load(text)
    assert loaded.name == workflow.TEMPLATE_NAME


def test_the_template_takes_the_image_parameter() -> None:
    parameters = rendered_workflow()["spec"]["arguments"]["parameters"]
    assert [p["name"] for p in parameters] == [workflow.IMAGE]
    assert "value" not in parameters[0]  # required: a submit must give it


# A small Argo: substitution, `when`, steps templates, container templates run in bash.


def substitute(text: str, scope: dict[str, str]) -> str:
    """Argo's `{{name}}` substitution; an unknown name fails, as Argo fails the step."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        assert name in scope, f"Argo could not resolve {{{{{name}}}}}"
        return scope[name]

    return re.sub(r"\{\{([^=][^}]*)\}\}", value, text)


def evaluate_when(expression: str, scope: dict[str, str]) -> bool:
    """`A == B` or `A != B` after substitution: the only forms the rendered file may use."""
    match = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", substitute(expression, scope))
    assert match, f"a when-expression of a form this test cannot evaluate: {expression}"
    left, operator, right = match.groups()
    return (left == right) == (operator == "==")


@dataclass
class Cluster:
    """What the stand-in kubectl answers, and what it was asked."""

    root: Path
    get_answer: str = ""
    calls: list[list[str]] = field(default_factory=list)
    ran: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    printed: str = ""


def _run_container(
    template: dict[str, Any], scope: dict[str, str], cluster: Cluster
) -> dict[str, str]:
    """Runs a kubectl template's script in bash; returns its output parameters."""
    container = template["container"]
    assert container["command"][0] == "bash", template["name"]
    outputs = template.get("outputs", {}).get("parameters", [])
    script = substitute(container["args"][0], scope)
    for output in outputs:  # the steps write their outputs under /tmp (an emptyDir)
        script = script.replace(output["valueFrom"]["path"], str(cluster.root / output["name"]))
    bin_dir = cluster.root / "bin"
    bin_dir.mkdir(exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(STAND_IN_KUBECTL)
    kubectl.chmod(0o755)
    log = cluster.root / "kubectl.log"
    log.write_text("")
    env = {e["name"]: substitute(e["value"], scope) for e in container.get("env", [])}
    env |= {"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECTL_LOG": str(log)}
    env["KUBECTL_GET"] = cluster.get_answer
    result = subprocess.run(
        [*container["command"], script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    cluster.printed += result.stdout
    cluster.calls += [shlex.split(line) for line in log.read_text().splitlines()]
    return {o["name"]: (cluster.root / o["name"]).read_text().strip() for o in outputs}


def run_template(
    name: str,
    globals_: dict[str, str],
    arguments: dict[str, str],
    cluster: Cluster,
    spec: dict[str, Any],
) -> dict[str, str]:
    """Runs template `name` as Argo would; smoke and resource steps are recorded, not run."""
    template = templates(spec)[name]
    local = globals_ | {f"inputs.parameters.{k}": v for k, v in arguments.items()}
    if "steps" in template:
        for group in template["steps"]:
            for step in group:
                if "when" in step and not evaluate_when(step["when"], local):
                    continue
                given = {
                    p["name"]: substitute(p["value"], local)
                    for p in step.get("arguments", {}).get("parameters", [])
                }
                outputs = run_template(step["template"], globals_, given, cluster, spec)
                for key, value in outputs.items():
                    local[f"steps.{step['name']}.outputs.parameters.{key}"] = value
        return {}
    cluster.ran.append((name, arguments))
    if name == "smoke" or "resource" in template:
        return {}
    return _run_container(template, local, cluster)


def run_exit_handler(
    status: str, recorded: str | None, cluster: Cluster, *, image: str = NEW_IMAGE
) -> None:
    spec = rendered_workflow()
    scope = {"workflow.status": status, "workflow.parameters.image": image}
    if recorded is not None:
        scope[f"workflow.outputs.parameters.{workflow.PREVIOUS_REVISION}"] = recorded
    run_template(spec["spec"]["onExit"], scope, {}, cluster, spec)


def _applied_deployment() -> dict[str, Any]:
    for template in templates(rendered_workflow()).values():
        manifest = yaml.safe_load(template.get("resource", {}).get("manifest", "kind: none"))
        if manifest["kind"] == "Deployment":
            return dict(manifest)
    raise AssertionError("the workflow applies no Deployment")


def _target() -> list[str]:
    metadata = _applied_deployment()["metadata"]
    return [f"deployment/{metadata['name']}", "-n", metadata["namespace"]]


# The exit handler.


def test_the_exit_handler_is_set_and_is_a_template_of_the_file() -> None:
    spec = rendered_workflow()["spec"]
    assert spec["onExit"] in templates(rendered_workflow())
    assert spec["onExit"] != spec["entrypoint"]


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Error"])
def test_rollback_runs_only_when_the_run_did_not_succeed(status: str, tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, get_answer=OLD_IMAGE)
    run_exit_handler(status, "3", cluster)
    ran = [name for name, _ in cluster.ran]
    if status == "Succeeded":
        assert ran == [] and cluster.calls == []
    else:
        assert ran == ["roll-back", "wait-for-rollout", "smoke"]


def test_rollback_goes_to_the_recorded_revision_of_the_applied_deployment(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, get_answer=OLD_IMAGE)
    run_exit_handler("Failed", "3", cluster)
    undo, image, status = cluster.calls
    assert undo == ["rollout", "undo", *_target(), "--to-revision=3"]
    assert image[:4] == ["get", *_target()]
    timeout = repo_params()["deploy"]["rollout_timeout_seconds"]
    assert status == ["rollout", "status", *_target(), f"--timeout={timeout}s"]


def test_the_rolled_back_pods_are_smoke_tested_with_their_own_image(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, get_answer=OLD_IMAGE)
    run_exit_handler("Failed", "3", cluster)
    assert cluster.ran[-1] == ("smoke", {"image": OLD_IMAGE})


def test_a_failed_first_deploy_says_there_is_nothing_to_roll_back_to(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    run_exit_handler("Failed", workflow.NO_REVISION, cluster)
    assert [name for name, _ in cluster.ran] == ["roll-back"]
    assert cluster.calls == []
    assert "no earlier revision to roll back to" in cluster.printed


def test_the_recorded_revision_is_the_global_the_exit_handler_reads(tmp_path: Path) -> None:
    record = templates(rendered_workflow())["record-revision"]
    (output,) = record["outputs"]["parameters"]
    assert output["globalName"] == workflow.PREVIOUS_REVISION
    # Without it, the exit handler's argument cannot be resolved.
    with pytest.raises(AssertionError, match="could not resolve"):
        run_exit_handler("Failed", None, Cluster(tmp_path))


@pytest.mark.parametrize(("cluster_has", "recorded"), [("4", "4"), ("", workflow.NO_REVISION)])
def test_record_revision_reads_the_deployments_revision(
    cluster_has: str, recorded: str, tmp_path: Path
) -> None:
    cluster = Cluster(tmp_path, get_answer=cluster_has)
    outputs = _run_container(templates(rendered_workflow())["record-revision"], {}, cluster)
    assert outputs == {"revision": recorded}
    (call,) = cluster.calls
    assert call[:5] == ["get", *_target(), "--ignore-not-found"]
    assert "deployment\\.kubernetes\\.io/revision" in call[-1]


# The deploy steps.


def test_deploy_records_applies_waits_then_smoke_tests_the_new_image(tmp_path: Path) -> None:
    spec = rendered_workflow()
    cluster = Cluster(tmp_path, get_answer="2")
    scope = {"workflow.parameters.image": NEW_IMAGE}
    run_template(spec["spec"]["entrypoint"], scope, {}, cluster, spec)
    ran = [name for name, _ in cluster.ran]
    assert ran == [
        "record-revision",
        "apply-deployment",
        "apply-service",
        "wait-for-rollout",
        "smoke",
    ]
    groups = [[s["template"] for s in group] for group in templates(spec)["deploy"]["steps"]]
    assert ["apply-deployment", "apply-service"] in groups  # one group: applied together
    assert cluster.ran[-1] == ("smoke", {"image": NEW_IMAGE})


def test_the_smoke_step_goes_through_the_service_with_the_card() -> None:
    deploy = repo_params()["deploy"]
    container = templates(rendered_workflow())["smoke"]["container"]
    argv = container["command"] + container["args"]
    assert argv[:3] == ["python", "-m", "mlgitops.smoke"]
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert (
        options["--url"] == f"http://{deploy['service']}.{deploy['namespace']}.svc:{deploy['port']}"
    )
    assert options["--card"] == deploy["smoke"]["card"]
    assert float(options["--max-p99-ms"]) == deploy["smoke"]["max_p99_ms"]
    assert container["image"] == "{{inputs.parameters.image}}"
    service = [
        yaml.safe_load(t["resource"]["manifest"])
        for t in templates(rendered_workflow()).values()
        if "resource" in t and "kind: Service" in t["resource"]["manifest"]
    ]
    assert service[0]["metadata"]["name"] == deploy["service"]


def test_every_step_pod_is_non_root_with_a_read_only_root() -> None:
    for template in templates(rendered_workflow()).values():
        if "container" in template:
            security = template["container"]["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
