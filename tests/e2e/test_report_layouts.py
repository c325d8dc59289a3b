"""`mlgitops report` run as a user runs it, on small real DVC repositories of several layouts.

Each layout is built in tmp_path (git init, dvc init, a tiny stage, base commit, change, head).
The report's `metrics` and `params` must equal what `dvc metrics diff --json` and
`dvc params diff --json` print for the same revisions in the same repository.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.unit.mlgitops.report.repos import (
    Layout,
    Run,
    base_without_metrics,
    command_env,
    deleted_at_head,
    missing_at_base,
    stage_flat,
    top_level_nested,
    two_files,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The schema the publishing workflow validates a downloaded report.json against.
SCHEMA = json.loads(
    (Path(__file__).parents[2] / ".github" / "schemas" / "report.schema.json").read_text()
)


def _report(layout: Layout, out: Path, *extra: str) -> tuple[dict[str, Any], str]:
    run = layout.repo.run("mlgitops", "report", *layout.report_args, "--out", str(out), *extra)
    assert run.returncode == 0, run
    report = json.loads(out.with_suffix(".json").read_text())
    jsonschema.validate(report, SCHEMA)
    return report, out.read_text()


def _dvc_json(layout: Layout, *command: str) -> Any:
    run = layout.repo.run("dvc", *command, "--json", *layout.revs)
    assert run.returncode == 0, run
    return json.loads(run.stdout)


def _assert_same_as_dvc(layout: Layout, report: dict[str, Any], *flags: str) -> None:
    """`metrics` and `params` equal DVC's own `--json` output (both commands run at once)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        metrics = pool.submit(_dvc_json, layout, "metrics", "diff", *flags)
        params = pool.submit(_dvc_json, layout, "params", "diff", *flags)
        assert report["metrics"] == metrics.result()
        assert report["params"] == params.result()


def test_stage_level_flat_metrics_with_plots(tmp_path: Path) -> None:
    layout = stage_flat(tmp_path / "repo")
    report, markdown = _report(layout, tmp_path / "report" / "report.md")

    _assert_same_as_dvc(layout, report)
    assert report["metrics"]["metrics.json"]["acc"] == {
        "old": 0.6,
        "new": 0.7,
        "diff": pytest.approx(0.1),
    }
    assert report["headline"][0] | {"diff": None} == {
        "metric": "acc",
        "path": "metrics.json",
        "old": 0.6,
        "new": 0.7,
        "diff": None,
        "better": "higher",
        "verdict": "better",
    }
    assert markdown.startswith("### ")
    assert "| **acc** | 0.6 | 0.7 | +0.1 | - | ✅ better (no interval) |" in markdown
    assert "| metrics.json | acc | 0.6 | 0.7 | +0.1 |" in markdown
    assert {"stage": "train", "why": ["params: train.lr"]} in report["stages"]
    # one PNG per declared plot, linked relative to report.md
    assert [plot["id"] for plot in report["plots"]] == [
        "plots/loss.csv",
        "plots/confusion.csv",
        "plots/importance.csv",
    ]
    for plot in report["plots"]:
        image = tmp_path / "report" / plot["image"]
        assert image.read_bytes().startswith(PNG_SIGNATURE)
        assert image.stat().st_size > 8_000, image
        assert f"]({plot['image']})" in markdown
    assert (tmp_path / "report" / "interactive" / "index.html").stat().st_size > 1_000


def test_top_level_nested_metrics_in_workspace(tmp_path: Path) -> None:
    layout = top_level_nested(tmp_path / "repo")
    run = layout.repo.run("mlgitops", "report", *layout.report_args, "--format", "json")
    assert run.returncode == 0, run
    report = json.loads(run.stdout)
    jsonschema.validate(report, SCHEMA)

    _assert_same_as_dvc(layout, report)
    scores = report["metrics"]["eval/scores.json"]
    assert set(scores) == {"test.auc", "test.by_class.a"}  # unchanged keys left out
    assert report["head"]["workspace"] is True
    assert report["headline"][0]["verdict"] == "worse"
    assert report["plots"] == []
    # no params `report:` section: no predictions, one note saying what to declare
    assert report["evidence"]["status"] == "undeclared"
    assert "report.predictions" in report["evidence"]["note"]


def test_two_metric_files_and_all(tmp_path: Path) -> None:
    layout = two_files(tmp_path / "repo")
    report, markdown = _report(layout, tmp_path / "report" / "report.md", "--all")

    _assert_same_as_dvc(layout, report, "--all")
    assert set(report["metrics"]) == {"metrics.json", "eval/extra.yaml"}
    assert report["metrics"]["eval/extra.yaml"]["rows"] == {"old": 100, "new": 100, "diff": 0}
    headline = report["headline"][0]
    assert (headline["path"], headline["old"], headline["new"]) == ("eval/extra.yaml", 0.5, 0.7)
    assert "| eval/extra.yaml | rows | 100 | 100 | 0 |" in markdown


def test_base_without_metrics_shows_dash(tmp_path: Path) -> None:
    layout = base_without_metrics(tmp_path / "repo")
    report, markdown = _report(layout, tmp_path / "report" / "report.md")

    _assert_same_as_dvc(layout, report)
    assert report["metrics"]["metrics.json"]["acc"] == {"old": None, "new": 0.6}
    assert report["metrics_errors"] == []
    assert "| metrics.json | acc | - | 0.6 | - |" in markdown


@pytest.mark.parametrize(
    ("build", "failing_rev"),
    [(missing_at_base, "base"), (deleted_at_head, "workspace")],
    ids=["declared-not-produced-at-base", "deleted-in-workspace"],
)
def test_metrics_file_missing_at_one_revision(
    tmp_path: Path, build: Callable[[Path], Layout], failing_rev: str
) -> None:
    layout = build(tmp_path / "repo")
    report, markdown = _report(layout, tmp_path / "report" / "report.md")

    _assert_same_as_dvc(layout, report)
    rev = layout.base if failing_rev == "base" else "workspace"
    assert report["metrics_errors"] == [
        {"rev": rev, "path": "metrics.json", "error": "file not found"}
    ]
    assert f"> ⚠️ `metrics.json` could not be loaded at `{rev}`: file not found" in markdown
    values = report["metrics"]["metrics.json"]["acc"]
    assert (values["old"] is None) == (failing_rev == "base")
    assert (values["new"] is None) == (failing_rev == "workspace")


def test_unknown_revision_exits_2(tmp_path: Path) -> None:
    layout = deleted_at_head(tmp_path / "repo")
    run = layout.repo.run("mlgitops", "report", "--base", "no-such-branch")

    assert run.returncode == 2, run
    message = " ".join(run.stderr.split())
    assert "unknown revision 'no-such-branch'" in message
    assert "git fetch origin no-such-branch" in message
    assert run.stdout == ""


@pytest.mark.parametrize("with_git", [False, True], ids=["plain-directory", "git-without-dvc"])
def test_not_a_dvc_repository_exits_2(tmp_path: Path, with_git: bool) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    env = command_env(tmp_path)
    if with_git:
        subprocess.run(["git", "init", "--quiet"], cwd=folder, env=env, check=True, timeout=60)
    done = subprocess.run(
        ["mlgitops", "report", "--base", "main"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    run = Run(done.returncode, done.stdout, done.stderr)

    assert run.returncode == 2, run
    message = " ".join(run.stderr.split())  # the console wraps long lines
    assert f"{folder} is not inside a DVC repository" in message
    assert "`git init && dvc init`" in message
