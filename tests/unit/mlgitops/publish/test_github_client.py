"""GitHubClient against the stand-in: headers, pages, retries, rate limits, errors."""

from __future__ import annotations

import base64

import httpx
import pytest

from mlgitops.errors import (
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    RemoteError,
    ServerError,
    UnauthorizedError,
    UnreachableError,
)
from mlgitops.http import RetryPolicy
from mlgitops.publish.github import GitHubClient, make_http_client
from tests.standins.github import FakeGitHub
from tests.unit.mlgitops.publish.conftest import PR, REPO, Waits


def test_requests_carry_what_github_requires(client: GitHubClient, fake: FakeGitHub) -> None:
    assert client.get_repo(REPO)["default_branch"] == "main"
    assert client.get_pull(REPO, PR)["head"]["sha"] == "a" * 40
    assert [seen.status for seen in fake.seen] == [200, 200]


def test_a_client_without_the_api_version_header_is_refused(fake: FakeGitHub) -> None:
    """The stand-in checks headers as GitHub does (so the test above can fail)."""
    headers = {"Authorization": f"Bearer {fake.token}", "Accept": "application/vnd.github+json"}
    transport = httpx.MockTransport(fake)
    http = httpx.Client(base_url="https://api.github.com", headers=headers, transport=transport)
    with http, pytest.raises(RemoteError, match=r"400 .*X-GitHub-Api-Version"):
        GitHubClient(http).get_repo(REPO)


def test_comments_are_read_across_pages(client: GitHubClient, fake: FakeGitHub) -> None:
    fake.add_comments(REPO, PR, [f"comment {n}" for n in range(250)])
    comments = client.list_issue_comments(REPO, PR)
    assert [c["body"] for c in comments] == [f"comment {n}" for n in range(250)]
    pages = fake.calls("GET", r"/issues/7/comments$")
    assert len(pages) == 3


def test_create_and_update_a_comment(client: GitHubClient, fake: FakeGitHub) -> None:
    created = client.create_issue_comment(REPO, PR, "first")
    client.update_issue_comment(REPO, int(created["id"]), "second")
    assert [c["body"] for c in fake.comments(REPO, PR)] == ["second"]
    assert fake.calls("POST")[0].body == {"body": "first"}


def test_put_file_commits_the_bytes_and_returns_the_commit(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    commit = client.put_file(REPO, "pr-7/x.png", b"\x89PNG bytes", message="m", branch="main")
    assert fake.file_at(REPO, commit, "pr-7/x.png") == b"\x89PNG bytes"
    body = fake.calls("PUT")[0].body
    assert base64.b64decode(body["content"]) == b"\x89PNG bytes"
    assert body["branch"] == "main" and body["message"] == "m"


def test_server_errors_are_retried_with_growing_waits(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    fake.fail_next(2, status=502)
    assert client.get_repo(REPO)["full_name"] == REPO
    assert waits == [1.0, 2.0]
    assert [seen.status for seen in fake.seen] == [502, 502, 200]


def test_server_errors_give_up_after_the_attempts_allowed(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    fake.fail_next(10)
    with pytest.raises(ServerError) as error:
        client.get_repo(REPO)
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert len(fake.seen) == 5
    assert "GitHub answered 500 to GET https://api.github.com/repos/octo/churn" in str(error.value)
    assert "re-run the job later" in str(error.value)


def test_a_create_is_not_blindly_retried_on_a_server_error(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    """GitHub may have made the comment before failing; the caller decides (upsert_comment)."""
    fake.fail_next(1)
    with pytest.raises(ServerError):
        client.create_issue_comment(REPO, PR, "hello")
    assert len(fake.calls("POST")) == 1
    assert waits == []


def test_rate_limit_waits_until_the_reset(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    fake.rate_limit_next(1, reset_in=30)
    fake.add_comments(REPO, PR, ["hi"])
    assert len(client.list_issue_comments(REPO, PR)) == 1
    assert len(waits) == 1 and 29.0 <= waits[0] <= 32.0


def test_secondary_rate_limit_honours_retry_after(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    fake.rate_limit_next(2, retry_after=7)
    client.create_issue_comment(REPO, PR, "hello")  # a 403 limit means nothing was done
    assert waits == [7.0, 7.0]
    assert [c["body"] for c in fake.comments(REPO, PR)] == ["hello"]


def test_a_reset_far_away_fails_at_once_with_the_reset_time(
    client: GitHubClient, fake: FakeGitHub, waits: Waits
) -> None:
    fake.rate_limit_next(1, reset_in=3600)
    with pytest.raises(RateLimitError) as error:
        client.get_repo(REPO)
    assert waits == []
    assert "API rate limit exceeded" in str(error.value)
    assert "the limit resets at" in str(error.value)


def test_a_bad_token_is_a_clear_error_without_the_token(fake: FakeGitHub, waits: Waits) -> None:
    transport = httpx.MockTransport(fake)
    http = make_http_client("ghp_wrong_secret_value", transport=transport)
    with http, pytest.raises(UnauthorizedError) as error:
        GitHubClient(http, sleep=waits).get_repo(REPO)
    message = str(error.value)
    assert "401" in message and "Bad credentials" in message
    assert "check GITHUB_TOKEN" in message
    assert "ghp_wrong_secret_value" not in message
    assert waits == []


def test_a_forbidden_call_names_the_permissions(client: GitHubClient, fake: FakeGitHub) -> None:
    fake.fail_next(1, status=403, message="Resource not accessible by integration")
    with pytest.raises(ForbiddenError) as error:
        client.create_issue_comment(REPO, PR, "x")
    assert "Resource not accessible by integration" in str(error.value)
    assert "pull-requests: write" in str(error.value)
    assert "contents: write" in str(error.value)


def test_not_found_names_what_to_check(client: GitHubClient) -> None:
    with pytest.raises(NotFoundError) as error:
        client.list_issue_comments("octo/nope", 1)
    assert error.value.status == 404
    assert "check the repository (OWNER/NAME) and the pull request number" in str(error.value)


def test_connection_errors_are_retried_then_reported(waits: Waits) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    http = make_http_client("t", transport=httpx.MockTransport(refuse))
    with http, pytest.raises(UnreachableError, match=r"could not reach GitHub .*GITHUB_API_URL"):
        GitHubClient(http, sleep=waits, retry=RetryPolicy(attempts=3, backoff=1.0)).get_repo(REPO)
    assert waits == [1.0, 2.0]


def test_a_next_page_on_another_host_is_not_followed(waits: Waits) -> None:
    """The token travels with every request, so pages are read from the API's host only."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        link = '<https://elsewhere.example/repos/octo/churn/issues/7/comments?page=2>; rel="next"'
        return httpx.Response(200, json=[{"id": 1, "body": "x"}], headers={"Link": link})

    http = make_http_client("t", transport=httpx.MockTransport(answer))
    with http, pytest.raises(RemoteError, match="next page on another host"):
        GitHubClient(http, sleep=waits).list_issue_comments(REPO, PR)
    assert all(url.startswith("https://api.github.com/") for url in asked)
