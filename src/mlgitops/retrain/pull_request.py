"""Finds the open retraining pull request, opens one, or updates the one that is open."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mlgitops.publish.github import GitHubClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenPull:
    """An open pull request from a retraining branch of the same repository."""

    number: int
    branch: str
    url: str


def find_open_pull(client: GitHubClient, repo: str, *, prefix: str) -> OpenPull | None:
    """The newest open pull request whose head branch (in `repo`, not a fork) has `prefix`."""
    found: list[OpenPull] = []
    for pull in client.list_pulls(repo, state="open"):
        head: dict[str, Any] = pull.get("head") or {}
        branch = str(head.get("ref") or "")
        owner = (head.get("repo") or {}).get("full_name")
        if branch.startswith(prefix) and owner in (None, repo):
            found.append(OpenPull(int(pull["number"]), branch, str(pull.get("html_url", ""))))
    if not found:
        return None
    found.sort(key=lambda pull: pull.number)
    if len(found) > 1:
        others = ", ".join(f"#{pull.number}" for pull in found[:-1])
        logger.warning("retrain: several retraining PRs are open; updating the newest (not %s)",
                       others)  # fmt: skip
    return found[-1]


def ever_had_a_pull(client: GitHubClient, repo: str, branch: str) -> bool:
    """Whether `branch` of `repo` is the head of any pull request, open or closed."""
    owner = repo.split("/")[0]
    query = {"state": "all", "head": f"{owner}:{branch}", "per_page": 100}
    return any(True for _ in client.pages(f"repos/{repo}/pulls", params=query))


def open_or_update(
    client: GitHubClient,
    repo: str,
    *,
    existing: OpenPull | None,
    branch: str,
    base: str,
    title: str,
    body: str,
) -> tuple[str, int, str]:
    """('opened' | 'updated', number, url) for the retraining pull request; its labels are
    added last (`flow._publish`), once body and pictures are in place."""
    if existing is not None:
        answer = client.update_pull(repo, existing.number, body=body)
        action, number = "updated", existing.number
    else:
        answer = client.create_pull(repo, title=title, head=branch, base=base, body=body)
        action, number = "opened", int(answer["number"])
    return action, number, str(answer.get("html_url", ""))
