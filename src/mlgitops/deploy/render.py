"""Render deploy/ from params.yaml: the WorkflowTemplate, the RBAC it runs as, the monitoring.

    mlgitops render [--params params.yaml] [--out deploy]   # or: make render

deploy/ holds only rendered files: a render writes every file and removes any other file there
(one left over from a renamed file would otherwise go on being applied). A test compares deploy/
with `rendered()`, so the committed YAML is always what this code renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mlgitops.deploy import manifests, monitoring, workflow
from mlgitops.deploy.manifests import HEADER
from mlgitops.errors import UsageError
from mlgitops.settings import DeploySettings, RenderSettings

WORKFLOW_FILE = "workflow-template.yaml"
RBAC_FILE = "rbac.yaml"
# A tag that is also a valid label value (what the version label needs).
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def documents(docs: Iterable[Mapping[str, Any]]) -> str:
    """Several objects as one YAML stream, keys in the order they were built."""
    return yaml.safe_dump_all([dict(doc) for doc in docs], sort_keys=False)


def rendered(settings: RenderSettings) -> dict[str, str]:
    """File name under deploy/ -> its text, from params.yaml's deploy, retrain and serving."""
    deploy = settings.deploy
    files = {
        WORKFLOW_FILE: HEADER + workflow.template(deploy).to_yaml(),
        RBAC_FILE: HEADER + documents(manifests.rbac(deploy)),
    }
    extra = monitoring.files(settings)
    clash = set(files) & set(extra)
    if clash:
        raise UsageError(f"render: monitoring renders {sorted(clash)}, which deploy renders too")
    return {**files, **extra}


def model_version(image: str) -> str:
    """The image's tag, which the workflow puts in the version label; UsageError if untagged.

    An image pinned by digest keeps its tag for the label: NAME:TAG@sha256:<digest>.
    """
    named, _, digest = image.partition("@")
    name = named.rsplit("/", 1)[-1]
    tag = name.rsplit(":", 1)[-1] if ":" in name else ""
    if (digest and not _DIGEST.fullmatch(digest)) or not _LABEL_VALUE.match(tag):
        raise UsageError(
            f"deploy: image {image!r} needs a tag of letters, digits, '.', '_' or '-' (at most "
            "63), as REGISTRY/NAME:TAG[@sha256:DIGEST]; release.yml tags it with the Bento "
            "version, which becomes the model version label"
        )
    return tag


def dry_run(deploy: DeploySettings, image: str) -> str:
    """Every object a deploy of `image` applies, with the image filled in, as one YAML stream:
    the Deployment and Service as the workflow applies them, then the WorkflowTemplate and the
    RBAC it runs as."""
    version = model_version(image)
    template = workflow.template(deploy).to_dict()
    for parameter in template["spec"]["arguments"]["parameters"]:
        if parameter["name"] == workflow.IMAGE:
            parameter["value"] = image
    objects = [
        manifests.deployment(deploy, image=image, version=version),
        manifests.service(deploy),
        template,
        *manifests.rbac(deploy),
    ]
    return f"# What a deploy of {image} applies (model version {version}).\n" + documents(objects)


def write(files: Mapping[str, str], out: Path) -> list[Path]:
    """Write `files` under `out`, remove every other file there; returns the removed ones."""
    out.mkdir(parents=True, exist_ok=True)
    removed = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.relative_to(out).as_posix() not in files:
            path.unlink()
            removed.append(path)
    for name, text in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return removed
