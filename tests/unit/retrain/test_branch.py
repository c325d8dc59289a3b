"""The branch a new retraining PR gets, checked against a real origin (a bare git repository)."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import httpx

from mlgitops.publish.github import GitHubClient, make_http_client
from mlgitops.retrain import flow
from mlgitops.retrain.branch import COMMIT_PREFIX, new_branch, ours_without_pull
from mlgitops.retrain.workspace import Workspace
from tests.standins.github import FakeGitHub
from tests.unit.retrain.test_publish import request_for

DAY = date(2026, 11, 23)
REPO = "octo/churn"


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
    assert new_branch(workspace, "retrain/", DAY) == ("retrain/2026-11-23", False)
    # A closed PR's branch of the same day is still on origin: never push over it.
    for name in ("retrain/2026-11-23", "retrain/2026-11-23-2"):
        _git("push", "--quiet", "origin", f"HEAD:refs/heads/{name}", cwd=clone)
    assert new_branch(workspace, "retrain/", DAY) == ("retrain/2026-11-23-3", False)


def test_a_branch_an_earlier_run_pushed_without_a_pr_is_reused(tmp_path: Path) -> None:
    """A 5xx on opening the PR left retrain/<date> pushed with no PR: the re-run reuses it
    rather than opening retrain/<date>-2 beside an orphan (issue 18, item 8)."""
    bare, clone = tmp_path / "origin.git", tmp_path / "clone"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    _git("clone", "--quiet", str(bare), str(clone), cwd=tmp_path)
    _git("commit", "--quiet", "--allow-empty", "-m", "first", cwd=clone)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
    person = "HEAD:refs/heads/retrain/2026-11-23-2"  # a person's branch, not ours
    _git("push", "--quiet", "origin", person, cwd=clone)
    _git("commit", "--quiet", "--allow-empty", "-m", f"{COMMIT_PREFIX}data/raw/t.csv", cwd=clone)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/retrain/2026-11-23", cwd=clone)
    fake = FakeGitHub()
    fake.add_repo(REPO)
    workspace = Workspace(clone)
    transport = httpx.MockTransport(fake)
    with make_http_client(fake.token, base_url="https://api.github.test", transport=transport) as h:
        orphaned = ours_without_pull(workspace, GitHubClient(h, sleep=lambda _: None), REPO)
        assert new_branch(workspace, "retrain/", DAY, orphaned) == ("retrain/2026-11-23", True)
        # Once it has had a PR (closed since), it is never reused; nor is a branch whose last
        # commit is not a retraining commit.
        fake.add_pull(REPO, 7, head_sha="0" * 40, head_ref="retrain/2026-11-23")
        fake.repos[REPO].pulls[7]["state"] = "closed"
        assert new_branch(workspace, "retrain/", DAY, orphaned) == ("retrain/2026-11-23-3", False)
    assert fake.calls("GET", "/pulls$"), "the stand-in was asked about the branch's PRs"


def test_the_run_starts_from_the_orphaned_branch_and_says_so(tmp_path: Path) -> None:
    bare, clone = tmp_path / "origin.git", tmp_path / "clone"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    _git("clone", "--quiet", str(bare), str(clone), cwd=tmp_path)
    _git("commit", "--quiet", "--allow-empty", "-m", "first", cwd=clone)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
    _git("commit", "--quiet", "--allow-empty", "-m", f"{COMMIT_PREFIX}data/raw/t.csv", cwd=clone)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/retrain/2026-11-23", cwd=clone)
    fake = FakeGitHub()
    fake.add_repo(REPO)
    (tmp_path / "report").mkdir()
    request = request_for(tmp_path / "report")
    said: list[str] = []
    transport = httpx.MockTransport(fake)
    with make_http_client(fake.token, base_url="https://api.github.test", transport=transport) as h:
        client = GitHubClient(h, sleep=lambda _: None)
        start = flow._choose_start(request, Workspace(clone), client, said.append)
    assert (start.branch, start.orphan, start.existing) == ("retrain/2026-11-23", True, None)
    assert start.rev == "refs/remotes/origin/retrain/2026-11-23" != start.base_rev
    assert said == ["retrain/2026-11-23 was pushed by an earlier run that opened no PR: reusing it"]
