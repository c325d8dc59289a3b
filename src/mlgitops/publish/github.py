"""A small GitHub REST client: the calls the publisher and the retraining PR need.

Retries, pages and errors are `mlgitops.http`'s; this module knows GitHub's paths, headers and
what to advise when it refuses. It takes an `httpx.Client` whose base URL, auth header and
timeout the caller set (`make_http_client`), so tests can hand it a `MockTransport`.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from mlgitops.errors import (
    ForbiddenError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
)
from mlgitops.http import Remote, RestClient, RetryPolicy, make_client

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN's comments are written by
_PAGE = {"per_page": 100}  # GitHub's largest page
GITHUB = Remote(
    name="GitHub",
    reach="GitHub",
    where="check the network and GITHUB_API_URL",
    hints={
        UnauthorizedError: "check GITHUB_TOKEN: it is invalid or expired",
        ForbiddenError: (
            "the token lacks a permission: the job needs `pull-requests: write` for the "
            "comment and `contents: write` for the assets branch"
        ),
        NotFoundError: (
            "check the repository (OWNER/NAME) and the pull request number, and that the "
            "token can see the repository"
        ),
        ServerError: "GitHub is failing; re-run the job later",
    },
    tls="check GITHUB_API_URL",
)


def make_http_client(
    token: str,
    *,
    base_url: str = DEFAULT_API_URL,
    transport: httpx.BaseTransport | None = None,
    allow_plain_http: bool = False,
) -> httpx.Client:
    """An httpx client set up for GitHub's REST API: base URL, auth, API version, timeout.

    `transport` is for tests (an `httpx.MockTransport`); by default it is httpx's own. A token
    over plain http:// to another host is refused unless `allow_plain_http`.
    """
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }
    return make_client(base_url, headers, transport=transport, allow_plain_http=allow_plain_http)


class GitHubClient(RestClient):
    """The REST calls of the publisher; retries 5xx and rate limits with bounded backoff."""

    remote = GITHUB
    retry = RetryPolicy(attempts=5, backoff=1.0, max_wait=120.0)

    def identity(self) -> str:
        """The login the token posts as: a user's, or github-actions[bot] for GITHUB_TOKEN
        (an app's installation token, which GET /user refuses with 403)."""
        try:
            return str(self.request_object("GET", "user")["login"])
        except ForbiddenError:
            return ACTIONS_BOT

    # Comments on a pull request are issue comments.
    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """Every comment of an issue or pull request, following the Link headers page by page."""
        return list(self.pages(f"repos/{repo}/issues/{number}/comments", params=_PAGE))

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        """Adds a comment; not retried on 5xx, as GitHub may have created it anyway."""
        path = f"repos/{repo}/issues/{number}/comments"
        return self.request_object("POST", path, json={"body": body}, idempotent=False)

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        """Replaces the body of a comment (PATCH is idempotent, so retried)."""
        return self.request_object(
            "PATCH", f"repos/{repo}/issues/comments/{comment_id}", json={"body": body}
        )

    def delete_issue_comment(self, repo: str, comment_id: int) -> None:
        """Deletes a comment (used only to remove a duplicate of ours)."""
        self.request("DELETE", f"repos/{repo}/issues/comments/{comment_id}")

    def get_pull(self, repo: str, number: int) -> dict[str, Any]:
        """A pull request; NotFoundError when the repository has no such pull request."""
        return self.request_object("GET", f"repos/{repo}/pulls/{number}")

    def get_repo(self, repo: str) -> dict[str, Any]:
        """The repository's metadata, such as its `default_branch`."""
        return self.request_object("GET", f"repos/{repo}")

    def get_ref(self, repo: str, ref: str) -> dict[str, Any]:
        """A git reference such as `heads/main`; NotFoundError when it does not exist."""
        return self.request_object("GET", f"repos/{repo}/git/ref/{ref}")

    def create_ref(self, repo: str, ref: str, sha: str) -> dict[str, Any]:
        """Creates `refs/...` at `sha`; ConflictError (422) when it already exists."""
        return self.request_object("POST", f"repos/{repo}/git/refs", json={"ref": ref, "sha": sha})

    def get_file(self, repo: str, path: str, *, ref: str) -> dict[str, Any]:
        """A file's metadata (its blob `sha`) on a branch; NotFoundError when it is not there."""
        return self.request_object("GET", f"repos/{repo}/contents/{path}", params={"ref": ref})

    def put_file(
        self,
        repo: str,
        path: str,
        content: bytes,
        *,
        message: str,
        branch: str,
        sha: str | None = None,
    ) -> str:
        """Creates or replaces a file on a branch in one commit; returns the commit's sha."""
        body: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(content).decode("ascii"),
            "branch": branch,
        }
        if sha is not None:
            body["sha"] = sha
        answer = self.request_object("PUT", f"repos/{repo}/contents/{path}", json=body)
        return str(answer["commit"]["sha"])

    # Pull requests (the retraining PR).
    def list_pulls(
        self, repo: str, *, state: str = "open", head: str | None = None
    ) -> list[dict[str, Any]]:
        """Every pull request in `state` (open, closed, all), from `head` (`owner:branch`)
        when given, page by page."""
        params: dict[str, Any] = {**_PAGE, "state": state}
        if head is not None:
            params["head"] = head
        return list(self.pages(f"repos/{repo}/pulls", params=params))

    def create_pull(
        self, repo: str, *, title: str, head: str, base: str, body: str
    ) -> dict[str, Any]:
        """Opens a pull request from branch `head` into `base`; not retried on 5xx, as GitHub
        may have opened it anyway (ConflictError if one from `head` is open already)."""
        payload = {"title": title, "head": head, "base": base, "body": body}
        return self.request_object("POST", f"repos/{repo}/pulls", json=payload, idempotent=False)

    def update_pull(
        self, repo: str, number: int, *, title: str | None = None, body: str | None = None
    ) -> dict[str, Any]:
        """Replaces a pull request's title and/or body (PATCH is idempotent, so retried)."""
        payload = {key: value for key, value in (("title", title), ("body", body)) if value}
        return self.request_object("PATCH", f"repos/{repo}/pulls/{number}", json=payload)

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        """Adds labels to an issue or pull request (existing labels stay; adding is idempotent)."""
        self.request("POST", f"repos/{repo}/issues/{number}/labels", json={"labels": labels})
