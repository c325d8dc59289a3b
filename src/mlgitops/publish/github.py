"""A small GitHub REST client: the calls the publisher needs, with retries, pages and errors.

It takes an `httpx.Client` whose base URL, auth header and timeout the caller set (see
`make_http_client`), so tests can hand it a `MockTransport` and nothing here knows the token.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from mlgitops.publish.errors import (
    GitHubError,
    RateLimitError,
    UnreachableError,
    error_class,
)

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
_MAX_PAGES = 100  # 10,000 comments at 100 a page: far beyond any real pull request


def make_http_client(
    token: str,
    *,
    base_url: str = DEFAULT_API_URL,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client set up for GitHub's REST API: base URL, auth, API version, timeout.

    `transport` is for tests (an `httpx.MockTransport`); by default it is httpx's own.
    """
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "mlgitops",
        },
        timeout=httpx.Timeout(30.0, connect=10.0),
        transport=transport,
    )


class GitHubClient:
    """The REST calls of the publisher; retries 5xx and rate limits with bounded backoff."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock

    # Comments on a pull request are issue comments.
    def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """Every comment of an issue or pull request, following the Link headers page by page."""
        return list(self._paginate(f"repos/{repo}/issues/{number}/comments"))

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        """Adds a comment; not retried on 5xx, as GitHub may have created it anyway."""
        path = f"repos/{repo}/issues/{number}/comments"
        return self._json("POST", path, json={"body": body}, idempotent=False)

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        """Replaces the body of a comment (PATCH is idempotent, so retried)."""
        return self._json(
            "PATCH", f"repos/{repo}/issues/comments/{comment_id}", json={"body": body}
        )

    def delete_issue_comment(self, repo: str, comment_id: int) -> None:
        """Deletes a comment (used only to remove a duplicate of ours)."""
        self._request("DELETE", f"repos/{repo}/issues/comments/{comment_id}")

    def get_pull(self, repo: str, number: int) -> dict[str, Any]:
        """A pull request; NotFoundError when the repository has no such pull request."""
        return self._json("GET", f"repos/{repo}/pulls/{number}")

    def get_repo(self, repo: str) -> dict[str, Any]:
        """The repository's metadata, such as its `default_branch`."""
        return self._json("GET", f"repos/{repo}")

    def get_ref(self, repo: str, ref: str) -> dict[str, Any]:
        """A git reference such as `heads/main`; NotFoundError when it does not exist."""
        return self._json("GET", f"repos/{repo}/git/ref/{ref}")

    def create_ref(self, repo: str, ref: str, sha: str) -> dict[str, Any]:
        """Creates `refs/...` at `sha`; ConflictError (422) when it already exists."""
        return self._json("POST", f"repos/{repo}/git/refs", json={"ref": ref, "sha": sha})

    def get_file(self, repo: str, path: str, *, ref: str) -> dict[str, Any]:
        """A file's metadata (its blob `sha`) on a branch; NotFoundError when it is not there."""
        return self._json("GET", f"repos/{repo}/contents/{path}", params={"ref": ref})

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
        answer = self._json("PUT", f"repos/{repo}/contents/{path}", json=body)
        return str(answer["commit"]["sha"])

    # Pull requests (the retraining PR).
    def list_pulls(self, repo: str, *, state: str = "open") -> list[dict[str, Any]]:
        """Every pull request in `state` (open, closed, all), page by page."""
        return list(self._paginate(f"repos/{repo}/pulls?state={state}"))

    def create_pull(
        self, repo: str, *, title: str, head: str, base: str, body: str
    ) -> dict[str, Any]:
        """Opens a pull request from branch `head` into `base`; not retried on 5xx, as GitHub
        may have opened it anyway (ConflictError if one from `head` is open already)."""
        payload = {"title": title, "head": head, "base": base, "body": body}
        return self._json("POST", f"repos/{repo}/pulls", json=payload, idempotent=False)

    def update_pull(
        self, repo: str, number: int, *, title: str | None = None, body: str | None = None
    ) -> dict[str, Any]:
        """Replaces a pull request's title and/or body (PATCH is idempotent, so retried)."""
        payload = {key: value for key, value in (("title", title), ("body", body)) if value}
        return self._json("PATCH", f"repos/{repo}/pulls/{number}", json=payload)

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        """Adds labels to an issue or pull request (existing labels stay; adding is idempotent)."""
        self._request("POST", f"repos/{repo}/issues/{number}/labels", json={"labels": labels})

    def pause(self, attempt: int) -> None:
        """Waits the backoff of `attempt` (0-based): for callers that retry on their own."""
        self.sleep(min(self.backoff * 2.0**attempt, self.max_wait))

    def _json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        answer = self._request(method, path, json=json, params=params, idempotent=idempotent)
        data = answer.json()
        if not isinstance(data, dict):
            raise GitHubError(method, str(answer.url), answer.status_code, "expected an object")
        return data

    def _paginate(self, path: str) -> Iterator[dict[str, Any]]:
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": 100}
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            answer = self._request("GET", url, params=params)
            page = answer.json()
            if not isinstance(page, list):
                raise GitHubError("GET", str(answer.url), answer.status_code, "expected a list")
            yield from page
            url = answer.links.get("next", {}).get("url")
            if url is not None and httpx.URL(url).netloc != self.http.base_url.netloc:
                # The token goes wherever we send the next request: only to the API's own host.
                raise GitHubError("GET", str(answer.url), 200, f"next page on another host: {url}")
            params = None  # the next link carries the query already
        raise GitHubError("GET", path, 200, f"more than {_MAX_PAGES} pages")

    def _request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """One call with retries: 5xx (idempotent calls only), rate limits, connection errors."""
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                answer = self.http.request(method, url, json=json, params=params)
            except httpx.TransportError as error:
                retry = idempotent or isinstance(error, httpx.ConnectError)
                if last or not retry:
                    raise UnreachableError(
                        f"could not reach GitHub for {method} {url}: {error}; check the network "
                        "and GITHUB_API_URL"
                    ) from None
                logger.warning("GitHub %s %s failed (%s); retrying", method, url, error)
                self.pause(attempt)
                continue
            if answer.is_success:
                return answer
            wait = self._retry_wait(answer, attempt, idempotent=idempotent)
            if wait is None or last:
                kind = RateLimitError if _rate_limited(answer) else error_class(answer.status_code)
                raise kind(method, str(answer.url), answer.status_code, _server_message(answer))
            logger.warning(
                "GitHub answered %s to %s %s; retrying in %.0f s",
                answer.status_code,
                method,
                answer.url,
                wait,
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_wait(
        self, answer: httpx.Response, attempt: int, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying, or None when this answer is final."""
        status, headers = answer.status_code, answer.headers
        limited = status == 429 or (
            status == 403
            and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")
        )
        if limited:
            wait = self._rate_limit_wait(headers, attempt)
            if wait > self.max_wait:
                return None  # an hour-long reset: failing now with the reason beats hanging
            return wait
        if status >= 500 and idempotent:
            return min(self.backoff * 2.0**attempt, self.max_wait)
        return None

    def _rate_limit_wait(self, headers: httpx.Headers, attempt: int) -> float:
        if "retry-after" in headers:
            value = headers["retry-after"]
            if value.strip().isdigit():
                return float(value)
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return min(60.0 * 2.0**attempt, self.max_wait)
            return max(0.0, when.timestamp() - self.clock())
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            return max(0.0, float(reset) - self.clock()) + 1.0
        return min(60.0 * 2.0**attempt, self.max_wait)  # GitHub's advice for secondary limits


def _rate_limited(answer: httpx.Response) -> bool:
    """A 429, or a 403 that GitHub marks as a primary or secondary rate limit."""
    headers = answer.headers
    return answer.status_code == 429 or (
        answer.status_code == 403
        and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")
    )


def _server_message(answer: httpx.Response) -> str:
    """GitHub's `message` (and validation `errors`), or the start of the body."""
    try:
        data = answer.json()
    except ValueError:
        return answer.text[:200]
    if not isinstance(data, dict):
        return str(data)[:200]
    message = str(data.get("message", ""))
    errors = data.get("errors")
    if errors:
        message += f" {errors}"
    reset = answer.headers.get("x-ratelimit-reset", "")
    if _rate_limited(answer) and reset.isdigit():
        when = datetime.fromtimestamp(int(reset), tz=UTC).strftime("%H:%M:%S UTC")
        message += f" (the limit resets at {when})"
    return message
