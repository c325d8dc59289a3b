"""Metrics committed to git (`cache: false`): read at every commit with one `cat-file --batch`;
an unreadable file is missing with the reason, never zeros."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mlgitops.history.commits import branch_commits
from mlgitops.history.metrics import declared_metrics, metrics_at


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=a", "-c", "user.email=a@x", *args],
                   check=True, timeout=30, capture_output=True)  # fmt: skip


def test_committed_metrics_are_read_at_each_commit(tmp_path: Path) -> None:
    from dvc.repo import Repo

    _git(tmp_path, "init", "-q", "-b", "main")
    Repo.init(str(tmp_path)).close()
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  fit:\n    cmd: python fit.py\n    metrics:\n"
        "      - scores/metrics.json:\n          cache: false\n"
    )
    (tmp_path / "scores").mkdir()
    written = [{"test": {"auc": 0.7}}, {"test": {"auc": 0.75}, "n": 3}, "{not json", None]
    for number, metrics in enumerate(written):
        target = tmp_path / "scores" / "metrics.json"
        if metrics is None:
            target.unlink()
        else:
            target.write_text(metrics if isinstance(metrics, str) else json.dumps(metrics))
        _git(tmp_path, "add", "-A")
        _git(tmp_path, "commit", "-q", "-m", f"change {number}")
    files = declared_metrics(tmp_path)
    assert [(f.path, f.cached) for f in files] == [("scores/metrics.json", False)]
    points = metrics_at(tmp_path, branch_commits(tmp_path, "main"), files)
    assert [p.values for p in points] == [{"test.auc": 0.7}, {"test.auc": 0.75, "n": 3.0}, {}, {}]
    assert points[0].missing == points[1].missing == {}
    assert "scores/metrics.json is not valid" in points[2].missing["scores/metrics.json"]
    assert "not in git" in points[3].missing["scores/metrics.json"]


def test_a_charted_metric_no_commit_has_is_named(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from mlgitops.history.measures import Window
    from mlgitops.history.record import build_record
    from mlgitops.history.settings import HistorySettings

    test_committed_metrics_are_read_at_each_commit(tmp_path)
    window = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    settings = HistorySettings(metrics=("test.auc", "test.roc_auc"))
    record = build_record(tmp_path, settings, window, branch="main", client=None, repo=None)
    assert record.metrics == ["test.auc"]
    assert "metrics: no commit in the window has test.roc_auc" in " ".join(record.missing)
