"""Which pull request a report may be published to, asked of the API, not of the artifact.

The artifact (written by the PR's code, maybe a fork's) names a PR number; GitHub's record of
the run names the head repository, branch and commit. The report goes to that PR only when it
is one of the open PRs from that repository's branch (a branch may have several, e.g. into
two base branches) and still points at the reported commit.
"""

from __future__ import annotations

from typing import Any

from mlgitops.errors import CheckFailedError, NotFoundError
from mlgitops.publish.github import GitHubClient


def resolve_pull(
    client: GitHubClient,
    repo: str,
    pr: int,
    *,
    sha: str,
    head_repo: str | None = None,
    head_ref: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """(the PR, None) when `pr` may get the report; else (the PR, why not: it moved on).

    CheckFailedError when `pr` is not an open PR from `head_repo`:`head_ref`: an artifact
    naming someone else's PR is never published.
    """
    pull = _pull(client, repo, pr, head_repo=head_repo, head_ref=head_ref)
    current = str(pull.get("head", {}).get("sha", ""))
    if current != sha:
        why = f"PR #{pr} is at {current[:12]}, this report is for {sha[:12]}; not publishing it"
        return pull, why
    return pull, None


def _pull(
    client: GitHubClient, repo: str, pr: int, *, head_repo: str | None, head_ref: str | None
) -> dict[str, Any]:
    if head_repo is None or head_ref is None:
        try:
            return client.get_pull(repo, pr)
        except NotFoundError as error:
            raise error.with_message(f"{repo} has no pull request #{pr}") from None
    owner = head_repo.split("/")[0]
    branch_pulls = [
        pull
        for pull in client.list_pulls(repo, state="open", head=f"{owner}:{head_ref}")
        if pull.get("head", {}).get("ref") == head_ref
        and (pull.get("head", {}).get("repo") or {}).get("full_name") == head_repo
    ]
    for pull in branch_pulls:
        if pull.get("number") == pr:
            return pull
    numbers = ", ".join(f"#{pull['number']}" for pull in branch_pulls) or "none"
    raise CheckFailedError(
        f"the report names PR #{pr}, which is not an open pull request from "
        f"{head_repo}:{head_ref} (open ones from there: {numbers}); not publishing"
    )
