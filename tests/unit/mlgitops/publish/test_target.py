"""The PR a report goes to is resolved from the API: head repository, branch and commit."""

from __future__ import annotations

import pytest

from mlgitops.errors import CheckFailedError
from mlgitops.publish.github import GitHubClient
from mlgitops.publish.target import resolve_pull
from tests.standins.github import FakeGitHub
from tests.unit.mlgitops.publish.conftest import PR, REPO

SHA = "a" * 40  # the conftest's PR #7 is at this commit, from octo/churn:feature


def test_the_open_pr_from_the_runs_branch_at_the_runs_commit_is_the_target(
    client: GitHubClient,
) -> None:
    assert resolve_pull(client, REPO, PR, sha=SHA, head_repo=REPO, head_ref="feature")[1] is None


def test_a_pr_that_moved_on_is_left_for_the_newer_run(client: GitHubClient) -> None:
    _, reason = resolve_pull(client, REPO, PR, sha="b" * 40, head_repo=REPO, head_ref="feature")
    assert reason is not None and "not publishing" in reason


@pytest.mark.parametrize(
    ("head_repo", "head_ref"),
    [("octo/churn", "other-branch"), ("mallory/churn", "feature")],
    ids=["another branch", "a fork's branch of the same name"],
)
def test_an_artifact_naming_a_pr_of_another_branch_is_refused(
    client: GitHubClient, head_repo: str, head_ref: str
) -> None:
    """A fork's pr.json may name any number: the PR must come from the run's repo and branch."""
    with pytest.raises(CheckFailedError, match="not an open pull request from"):
        resolve_pull(client, REPO, PR, sha=SHA, head_repo=head_repo, head_ref=head_ref)


def test_a_fork_pr_is_resolved_though_the_event_names_no_pr(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    fake.add_pull(REPO, 9, head_sha="c" * 40, head_ref="feature", head_repo="mallory/churn")
    assert (
        resolve_pull(client, REPO, 9, sha="c" * 40, head_repo="mallory/churn", head_ref="feature")[
            1
        ]
        is None
    )
    with pytest.raises(CheckFailedError):
        resolve_pull(client, REPO, PR, sha=SHA, head_repo="mallory/churn", head_ref="feature")


def test_a_branch_with_several_prs_publishes_to_the_one_named(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    """One branch, two PRs (into two base branches): both are candidates, each its own."""
    fake.add_pull(REPO, 8, head_sha=SHA, head_ref="feature")
    for number in (PR, 8):
        assert (
            resolve_pull(client, REPO, number, sha=SHA, head_repo=REPO, head_ref="feature")[1]
            is None
        )
    fake.repos[REPO].pulls[8]["state"] = "closed"
    with pytest.raises(CheckFailedError, match="open ones from there: #7"):
        resolve_pull(client, REPO, 8, sha=SHA, head_repo=REPO, head_ref="feature")
