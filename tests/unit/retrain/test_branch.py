"""The branch a new retraining PR gets, checked against a real origin (a bare git repository)."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

from mlgitops.retrain.flow import _new_branch
from mlgitops.retrain.workspace import Workspace

DAY = date(2026, 11, 23)


def _git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def test_the_branch_is_the_date_or_the_next_free_suffix(tmp_path: Path) -> None:
    bare, clone = tmp_path / "origin.git", tmp_path / "clone"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    _git("clone", "--quiet", str(bare), str(clone), cwd=tmp_path)
    _git("commit", "--quiet", "--allow-empty", "-m", "first", cwd=clone)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
    workspace = Workspace(clone)
    assert _new_branch(workspace, "retrain/", DAY) == "retrain/2026-11-23"
    # A closed PR's branch of the same day is still on origin: never push over it.
    for name in ("retrain/2026-11-23", "retrain/2026-11-23-2"):
        _git("push", "--quiet", "origin", f"HEAD:refs/heads/{name}", cwd=clone)
    assert _new_branch(workspace, "retrain/", DAY) == "retrain/2026-11-23-3"
