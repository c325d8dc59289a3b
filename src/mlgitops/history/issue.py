"""The record as one GitHub issue, edited in place every month, like the one PR comment.

Ours is an open or closed issue carrying the label, whose body opens with the marker and whose
author is the token's login (anyone can type the marker). The chart goes to the assets branch,
as the report's images do, linked by commit.
"""

from __future__ import annotations

import logging
from typing import Any

from mlgitops.history.github import HistoryClient
from mlgitops.history.markdown import IMAGE
from mlgitops.publish.assets import DEFAULT_BRANCH, upload_images
from mlgitops.publish.comment import fit_limit, rewrite_image_links

logger = logging.getLogger(__name__)


def marker(branch: str) -> str:
    """The hidden first line that identifies the record's issue for `branch`."""
    return f"<!-- mlgitops-history branch={branch} -->"


def upsert_issue(
    client: HistoryClient,
    repo: str,
    markdown: str,
    *,
    branch: str,
    title: str,
    label: str,
    png: bytes | None,
    sha: str,
    author: str,
    site: str = "https://github.com",
) -> tuple[str, dict[str, Any]]:
    """Edits our issue, or creates it; returns ("updated"|"created", issue)."""
    tag = marker(branch)
    ours = [
        issue
        for issue in client.list_issues(repo, labels=label)
        if str(issue.get("body") or "").startswith(tag)
        and (issue.get("user") or {}).get("login") == author
    ]
    action = "updated"
    if ours:
        issue = min(ours, key=lambda found: int(found["number"]))
    else:
        # Created first without the chart: its link is under the issue's number.
        text = fit_limit(f"{tag}\n{markdown}")
        issue = client.create_issue(repo, title=title, body=text, labels=[label])
        action = "created"
        if png is None:
            return action, issue
    number = int(issue["number"])
    urls = {}
    if png is not None:
        urls = upload_images(
            client, repo, {IMAGE: png}, pr=number, sha=sha, branch=DEFAULT_BRANCH, site=site
        )
    body = fit_limit(rewrite_image_links(f"{tag}\n{markdown}", urls))
    logger.info("%s issue #%s", action, number)
    return action, client.update_issue(repo, number, title=title, body=body)
