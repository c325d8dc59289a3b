"""read_repository on real git+DVC repositories made in tmp_path."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from mlgitops.adopt.repository import (
    Metric,
    Output,
    ParamsFile,
    ParamsUse,
    RepositoryError,
    read_repository,
    read_values,
)
from mlgitops.errors import UsageError
from tests.adopt_repos import FOREACH, NESTED, OLD_STYLE, make_repo, run


def test_nested_dvc_yaml_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    repo = read_repository(make_repo(tmp_path / "r", NESTED))
    assert repo.dvcfiles == ("dvc.yaml", "evaluation/dvc.yaml")
    evaluate = next(stage for stage in repo.stages if stage.name == "evaluate")
    assert evaluate.address == "evaluation/dvc.yaml:evaluate"
    assert evaluate.wdir == "evaluation"
    assert evaluate.deps == ("write.py", "curve.py", "data/prepared.json")
    assert evaluate.params == (ParamsUse("evaluation/params.yaml", ("evaluate.threshold",)),)
    assert repo.metrics == (
        Metric("evaluation/scores.json", "evaluation/dvc.yaml", evaluate.address, cached=False),
    )
    assert [(plot.name, plot.files, plot.cached) for plot in repo.plots] == [
        ("evaluation/roc.csv", ("evaluation/roc.csv",), False)
    ]
    assert ParamsFile("evaluation/params.yaml", "yaml", exists=True) in repo.params_files
    assert repo.default_remote is not None
    assert repo.default_remote.name == "local"


def test_foreach_items_are_stages_and_json_params_are_read(tmp_path: Path) -> None:
    repo = read_repository(make_repo(tmp_path / "r", FOREACH))
    folds = [stage for stage in repo.stages if stage.generated_from == "fold"]
    assert [stage.address for stage in folds] == ["fold@a", "fold@b"]
    assert folds[0].cmd == ("python write.py folds/a.json accuracy=0.9",)
    assert folds[1].outs == (Output("folds/b.json", "out", cached=True),)
    assert folds[0].params == (ParamsUse("params.json", ("fit.alpha",)),)
    # The top-level `metrics:` names a file the summary stage writes, uncached.
    assert repo.metrics == (Metric("summary.json", "dvc.yaml", "summary", cached=False),)
    assert repo.plots == ()
    assert repo.params_files == (ParamsFile("params.json", "json", exists=True),)


def test_old_style_stage_metrics_are_cached_by_default(tmp_path: Path) -> None:
    repo = read_repository(make_repo(tmp_path / "r", OLD_STYLE))
    assert repo.metrics == (Metric("metrics.json", "dvc.yaml", "train", cached=True),)
    assert repo.params_files == (ParamsFile("params.toml", "toml", exists=True),)


def test_matrix_top_level_plots_python_params_and_remote_url(tmp_path: Path) -> None:
    files = {
        "params.py": "ALPHA = 1\n",
        "dvc.yaml": dedent(
            """\
            stages:
              grid:
                matrix:
                  model: [lin, tree]
                  size: [1, 2]
                cmd: echo ${item.model} ${item.size}
                params:
                  - params.py:
                      - ALPHA
                outs: ["out/${item.model}-${item.size}.txt"]
            plots:
              - out/curve.csv
              - accuracy:
                  x: step
                  y:
                    out/train.csv: acc
                    out/test.csv: acc
            """
        ),
    }
    root = make_repo(tmp_path / "r", files)
    run("dvc", "remote", "add", "--default", "--force", "store", "s3://bucket/prefix", cwd=root)
    repo = read_repository(root)
    assert [stage.address for stage in repo.stages] == [
        "grid@lin-1",
        "grid@lin-2",
        "grid@tree-1",
        "grid@tree-2",
    ]
    assert {stage.generated_from for stage in repo.stages} == {"grid"}
    assert [(plot.name, plot.files, plot.stage) for plot in repo.plots] == [
        ("out/curve.csv", ("out/curve.csv",), None),
        ("accuracy", ("out/train.csv", "out/test.csv"), None),
    ]
    assert ParamsFile("params.py", "python", exists=True) in repo.params_files
    assert repo.default_remote is not None
    assert repo.default_remote.url == "s3://bucket/prefix"
    assert {remote.name for remote in repo.remotes} == {"local", "store"}


def test_read_values_flattens_with_dvcs_loaders(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"test": {"auc": 0.8}, "n": 3}')
    (tmp_path / "p.toml").write_text("[train]\nlr = 0.1\n")
    assert read_values(tmp_path, "m.json") == {"test.auc": 0.8, "n": 3}
    assert read_values(tmp_path, "p.toml") == {"train.lr": 0.1}
    assert read_values(tmp_path, "missing.json") is None


@pytest.mark.parametrize(
    ("dvc", "dvc_yaml", "missing", "words"),
    [
        (None, False, "git", "git init"),
        (False, False, "dvc", "dvc init"),
        (True, False, "pipeline", "dvc stage add"),
    ],
)
def test_what_is_missing_is_said(
    tmp_path: Path, dvc: bool | None, dvc_yaml: bool, missing: str, words: str
) -> None:
    root = tmp_path / "r"
    if dvc is None:
        root.mkdir()
    else:
        make_repo(root, {"README.md": "x\n"}, dvc=dvc)
    with pytest.raises(RepositoryError) as raised:
        read_repository(root)
    assert raised.value.missing == missing
    assert words in str(raised.value)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("text", ["stages:\n  a:\n    cmd: [x\n", "stages:\n  a:\n    cmdd: x\n"])
def test_a_dvc_yaml_dvc_cannot_read_is_a_usage_error(tmp_path: Path, text: str) -> None:
    root = make_repo(tmp_path / "r", {"dvc.yaml": text})
    with pytest.raises(UsageError, match=r"DVC cannot read the pipeline: .*dvc\.yaml"):
        read_repository(root)
