"""The branch a retraining PR is opened from: retrain/<date>, the next free suffix after a
closed PR's branch, or the branch an earlier run pushed but opened no PR for (a 5xx on opening
it): a re-run reuses that one, so no `retrain/<date>-2` is opened beside an orphan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from mlgitops.errors import UsageError
from mlgitops.publish.github import GitHubClient
from mlgitops.retrain.pull_request import ever_had_a_pull
from mlgitops.retrain.workspace import Workspace

_MAX_SAME_DAY_BRANCHES = 20
COMMIT_PREFIX = "Retrain: "  # the subject of every commit retrain-pr makes


def new_branch(
    workspace: Workspace,
    prefix: str,
    today: date,
    orphaned: Callable[[str], bool] = lambda _: False,
) -> tuple[str, bool]:
    """retrain/<date>, or retrain/<date>-2... when a closed PR's branch is still there; and
    whether it is a branch an earlier run pushed but opened no PR for (`orphaned`, e.g. a 5xx
    on opening it): that one is reused rather than left behind for a `-2`."""
    name = f"{prefix}{today.isoformat()}"
    for attempt in range(1, _MAX_SAME_DAY_BRANCHES + 1):
        candidate = name if attempt == 1 else f"{name}-{attempt}"
        if not workspace.remote_branch_exists(candidate):
            return candidate, False
        if orphaned(candidate):
            return candidate, True
    raise UsageError(f"origin has {_MAX_SAME_DAY_BRANCHES} branches {name}-*; delete old ones")


def ours_without_pull(
    workspace: Workspace, client: GitHubClient, repo: str
) -> Callable[[str], bool]:
    """Whether a branch on origin was left by a run of ours: never the head of a PR, and its
    last commit is a retraining commit (a person's branch of that name is not touched)."""

    def orphaned(branch: str) -> bool:
        if ever_had_a_pull(client, repo, branch):
            return False
        subject = workspace.git("log", "-1", "--format=%s", workspace.fetch(branch))
        return subject.startswith(COMMIT_PREFIX)

    return orphaned
