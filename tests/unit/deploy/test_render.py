"""deploy/ is what the code renders now; a render removes what it no longer renders."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.deploy import render, workflow
from mlgitops.errors import UsageError
from mlgitops.pipeline import render as pipeline_render
from tests.unit.deploy import (
    DEPLOY_DIR,
    deploy_settings,
    render_settings,
    rendered_workflow,
    repo_params,
    templates,
)

MLGITOPS = str(Path(sys.executable).with_name("mlgitops"))


def _mlgitops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLGITOPS, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def test_deploy_dir_is_exactly_what_params_yaml_renders() -> None:
    # With the pipeline DAG, rendered from params.yaml's `pipeline` and dvc.yaml.
    pipeline = pipeline_render.files(DEPLOY_DIR.parent / "params.yaml")
    expected = {**render.rendered(render_settings()), **pipeline}
    on_disk = {
        path.relative_to(DEPLOY_DIR).as_posix(): path.read_text()
        for path in DEPLOY_DIR.rglob("*")
        if path.is_file()
    }
    assert sorted(on_disk) == sorted(expected), "run `make render` and commit deploy/"
    for name, text in expected.items():
        assert on_disk[name] == text, f"deploy/{name} is stale: run `make render` and commit it"


def test_a_render_removes_files_it_no_longer_renders(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    (out / "old").mkdir(parents=True)
    (out / "old" / "renamed.yaml").write_text("kind: Gone\n")
    files = {
        **render.rendered(render_settings()),
        **pipeline_render.files(DEPLOY_DIR.parent / "params.yaml"),
    }
    done = _mlgitops(
        "render",
        "--params",
        str(DEPLOY_DIR.parent / "params.yaml"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "removed" in done.stderr and "renamed.yaml" in done.stderr
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == set(files)
    assert (out / render.WORKFLOW_FILE).read_text() == files[render.WORKFLOW_FILE]


def test_a_change_in_params_yaml_shows_in_the_render() -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"]["rollout_timeout_seconds"] = 123
    text = render.rendered(render_settings(params))[render.WORKFLOW_FILE]
    assert "--timeout=123s" in text
    assert text != render.rendered(render_settings())[render.WORKFLOW_FILE]


@pytest.mark.parametrize(
    ("key", "value"),
    [("port", "3000"), ("replicas", None), ("revision_history", 0), ("smoke", {})],
)
def test_a_bad_deploy_setting_is_named(key: str, value: Any) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"][key] = value
    with pytest.raises(UsageError, match=rf"params\.yaml: deploy\.{key}"):
        render_settings(params)


def test_render_of_bad_params_exits_2_naming_the_key(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"deploy": {"service": "x"}}))
    done = _mlgitops("render", "--params", str(params), "--out", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"UsageError: {params}: deploy lacks `namespace`, `port`" in done.stderr
    assert "`smoke`" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()


def test_a_misspelt_deploy_key_stops_the_render_with_one_sentence(tmp_path: Path) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"]["replica"] = params["deploy"].pop("replicas")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = _mlgitops("render", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "UsageError: params.yaml: deploy.replica is not a known key; did you mean `replicas`?"
    )
    assert not (tmp_path / "deploy").exists()


def test_a_misspelt_deploy_key_stops_the_deploy_dry_run_with_one_sentence(tmp_path: Path) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"]["smoke"]["max_p99"] = params["deploy"]["smoke"].pop("max_p99_ms")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = _mlgitops("deploy", "--dry-run", "--image", "ghcr.io/a/b:v1", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "UsageError: deploy: params.yaml: deploy.smoke.max_p99 is not a known key; "
        "did you mean `max_p99_ms`?"
    )


# The model version label: the workflow computes it from the image with an Argo expression;
# dry_run with model_version(). Both must give the same label.

_SPRIG = re.compile(
    r"^\{\{=sprig\.last\(sprig\.splitList\('(?P<sep>.)', sprig\.first\(sprig\.splitList\("
    r"'(?P<pin>.)', workflow\.parameters\.image\)\)\)\)\}\}$"
)


def _argo_expression(expression: str, image: str) -> str:
    """Evaluates exactly the form
    `sprig.last(sprig.splitList(SEP, sprig.first(sprig.splitList(PIN, ...image))))`."""
    match = _SPRIG.match(expression)
    assert match, f"not the expression form this evaluator knows: {expression}"
    return image.split(match.group("pin"))[0].split(match.group("sep"))[-1]


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/churn-service:2gx4kqhhkoy26ax4",
        "localhost:5000/churn-service:v1.2_3",
        "ghcr.io/acme/churn-service:2gx4kqhhkoy26ax4@sha256:" + "d" * 64,  # pinned by digest
    ],
)
def test_the_version_label_the_workflow_computes_is_the_dry_runs(image: str) -> None:
    (step,) = [
        step
        for group in templates(rendered_workflow())["deploy"]["steps"]
        for step in group
        if step["template"] == "apply-deployment"
    ]
    (argument,) = step["arguments"]["parameters"]
    assert _argo_expression(argument["value"], image) == render.model_version(image)
    deployment = next(yaml.safe_load_all(render.dry_run(deploy_settings(), image)))
    label = image.split("@")[0].split(":")[-1]
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == label
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/churn-service",
        "ghcr.io/a/b@sha256:" + "0" * 64,  # a digest alone has no tag for the version label
        "ghcr.io/a/b:v1@sha256:abc",  # not a whole digest
        "b:-x",
        "b:" + "v" * 64,
    ],
)
def test_an_image_without_a_usable_tag_is_refused(image: str) -> None:
    with pytest.raises(UsageError, match="needs a tag"):
        render.dry_run(deploy_settings(), image)


def test_dry_run_fills_the_image_in_everywhere_it_is_applied() -> None:
    image = "ghcr.io/acme/churn-service:abc123"
    docs = list(yaml.safe_load_all(render.dry_run(deploy_settings(), image)))
    kinds = [doc["kind"] for doc in docs]
    assert kinds == [
        "Deployment",
        "Service",
        "WorkflowTemplate",
        "ServiceAccount",
        "Role",
        "RoleBinding",
    ]
    (container,) = docs[0]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image
    arguments = docs[2]["spec"]["arguments"]["parameters"]
    assert {"name": workflow.IMAGE, "value": image} in [
        {k: p[k] for k in ("name", "value") if k in p} for p in arguments
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [("service", "Churn_Service"), ("namespace", "-prod"), ("service_account", "a" * 64)],
)
def test_a_name_kubernetes_would_refuse_is_named(key: str, value: str) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"][key] = value
    with pytest.raises(UsageError, match=rf"deploy\.{key}.*not a Kubernetes name"):
        render_settings(params)


@pytest.mark.parametrize(
    "image", ["registry.k8s.io/kubectl", "registry.k8s.io/kubectl:latest", "kubectl:v1.34"]
)
def test_the_kubectl_image_must_be_pinned(image: str) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"]["kubectl_image"] = image
    with pytest.raises(UsageError, match=r"deploy\.kubectl_image.*pin it"):
        render_settings(params)


def test_a_digest_pins_the_kubectl_image_too() -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"]["kubectl_image"] = "registry.k8s.io/kubectl@sha256:" + "a" * 64
    assert "kubectl@sha256:" in render.rendered(render_settings(params))[render.WORKFLOW_FILE]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("writable", {"tmp": "tmp"}),
        ("writable", {"Not_A_Name": "/tmp"}),
        ("env", {"PYTHONDONTWRITEBYTECODE": 1}),
        ("secret_env", {"KEY": {"secret": "s"}}),
    ],
)
def test_bad_container_settings_are_named(key: str, value: Any) -> None:
    params = copy.deepcopy(repo_params())
    params["deploy"][key] = value
    with pytest.raises(UsageError, match=rf"deploy\.{key}"):
        render_settings(params)
