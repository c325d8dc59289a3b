"""The small foreach/matrix repository the pipeline tests render, made once for them all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pipeline_repo


@pytest.fixture(scope="package")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The foreach/matrix repository (tests/pipeline_repo.py), committed, never reproduced."""
    tmp = tmp_path_factory.mktemp("pipeline-render")
    env = pipeline_repo.environment(tmp / "home")
    pipeline_repo.make(tmp / "repo", env, remote=tmp / "remote")
    return tmp / "repo", env


@pytest.fixture
def edited(small: tuple[Path, dict[str, str]]) -> Iterator[Path]:
    """The small repository's dvc.yaml, to edit in a test; it and params.yaml are put back
    afterwards."""
    root, _ = small
    before = {name: (root / name).read_text() for name in ("dvc.yaml", "params.yaml")}
    yield root / "dvc.yaml"
    for name, text in before.items():
        (root / name).write_text(text)
