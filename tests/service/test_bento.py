"""The Bento holds the service, its model, the smoke test and nothing else; pins; labelled."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.checkout import sha256
from tests.service.server import Built

pytestmark = pytest.mark.e2e

SERVICE_MODULES = {
    "__init__",
    "service",
    "answers",
    "model",
    "schema",
    "request",
    "encode",
    "upload",
    "validate",
    "io",
    "timing",
}
# `mlgitops smoke`, which the deploy workflow runs from the image it deploys (bentofile.yaml)
SMOKE_MODULES = {"__init__", "smoke", "smoke_checks", "errors", "plugin"}
# the serving runtime (its packages whole), and what it imports
RUNTIME_PACKAGES = ("serving", "settings")
RUNTIME_MODULES = {"card", "golden", "params"}


def test_the_bento_holds_only_the_service_its_model_and_the_threshold(built: Built) -> None:
    src = built.bento / "src"
    files = {
        path.relative_to(src).as_posix()
        for path in src.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts  # written when it is served
    }
    assert files == {
        "bentofile.yaml",
        "params.yaml",
        "models/model.txt",
        "models/card.json",
        *(f"churn/{name}.py" for name in SERVICE_MODULES),
        *(f"mlgitops/{name}.py" for name in SMOKE_MODULES | RUNTIME_MODULES),
        *(
            path.relative_to(built.checkout.path / "src").as_posix()
            for package in RUNTIME_PACKAGES
            for path in (built.checkout.path / "src/mlgitops" / package).glob("*.py")
        ),
    }
    assert sha256(src / "models/model.txt") == sha256(built.checkout.path / "models/model.txt")


def test_the_bento_is_labelled_with_the_revision_and_the_model(built: Built) -> None:
    info = yaml.safe_load((built.bento / "bento.yaml").read_text())
    card = json.loads((built.checkout.path / "models/card.json").read_text())
    head = built.checkout.run("git", "rev-parse", "HEAD").stdout.strip()
    assert info["labels"]["git_revision"].removesuffix("-dirty") == head
    assert info["labels"]["model_sha256"] == card["model"]["sha256"]
    assert set(info["labels"]) == {"git_revision", "model_sha256"}


def _locked_versions(lock: Path) -> dict[str, str]:
    packages = tomllib.loads(lock.read_text())["package"]
    return {p["name"]: p["version"] for p in packages if "version" in p}


def test_the_image_installs_the_locked_versions_and_libgomp(built: Built) -> None:
    locked = _locked_versions(built.checkout.path / "uv.lock")
    requirements = (built.bento / "env/python/requirements.txt").read_text().splitlines()
    pins = {
        requirement.name: str(requirement.specifier).removeprefix("==")
        for requirement in map(Requirement, filter(None, requirements))
    }
    for name in ("bentoml", "lightgbm", "numpy", "pandas", "pandera", "pyarrow", "pydantic"):
        assert pins[name] == locked[name], name
    assert all(locked[name.lower()] == version for name, version in pins.items()), pins
    assert "scikit-learn" not in pins and "dvc" not in pins  # only what the service imports
    assert "libgomp1" in (built.bento / "env/docker/Dockerfile").read_text()
