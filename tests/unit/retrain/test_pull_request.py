"""Finding, opening and updating the retraining PR through GitHubClient, against the stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mlgitops.errors import ConflictError, ServerError
from mlgitops.publish.github import GitHubClient, make_http_client
from mlgitops.retrain.pull_request import OpenPull, find_open_pull, open_or_update
from tests.standins.github import FakeGitHub

REPO = "octo/churn"


@pytest.fixture
def fake() -> FakeGitHub:
    github = FakeGitHub()
    repo = github.add_repo(REPO)
    for branch in ("retrain/2026-11-01", "retrain/2026-11-08", "feature"):
        repo.branches[branch] = repo.branches["main"]
    return github


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    transport = httpx.MockTransport(fake)
    with make_http_client(fake.token, base_url="https://api.github.test", transport=transport) as h:
        yield GitHubClient(h, sleep=lambda _: None)


def _open(client: GitHubClient, branch: str) -> int:
    pull = client.create_pull(REPO, title="t", head=branch, base="main", body="b")
    return int(pull["number"])


def test_no_open_retraining_pr_is_none(fake: FakeGitHub, client: GitHubClient) -> None:
    _open(client, "feature")
    assert find_open_pull(client, REPO, prefix="retrain/") is None


def test_the_newest_open_retraining_pr_is_found(fake: FakeGitHub, client: GitHubClient) -> None:
    older, newer = _open(client, "retrain/2026-11-01"), _open(client, "retrain/2026-11-08")
    found = find_open_pull(client, REPO, prefix="retrain/")
    assert found == OpenPull(newer, "retrain/2026-11-08", f"https://github.com/{REPO}/pull/{newer}")
    client.update_pull(REPO, newer, body="x")
    fake.repos[REPO].pulls[newer]["state"] = "closed"
    assert find_open_pull(client, REPO, prefix="retrain/") == OpenPull(
        older, "retrain/2026-11-01", f"https://github.com/{REPO}/pull/{older}"
    )


def test_a_fork_branch_with_the_prefix_is_not_ours(fake: FakeGitHub, client: GitHubClient) -> None:
    number = _open(client, "retrain/2026-11-01")
    fake.repos[REPO].pulls[number]["head"]["repo"] = {"full_name": "someone/churn"}
    assert find_open_pull(client, REPO, prefix="retrain/") is None


def _publish(client: GitHubClient, existing: OpenPull | None, body: str) -> tuple[str, int, str]:
    return open_or_update(
        client, REPO, existing=existing, branch="retrain/2026-11-01", base="main",
        title="Retrain", body=body,
    )  # fmt: skip


def test_open_then_update_keeps_one_pr(fake: FakeGitHub, client: GitHubClient) -> None:
    action, number, url = _publish(client, None, "first")
    assert (action, url) == ("opened", f"https://github.com/{REPO}/pull/{number}")
    existing = find_open_pull(client, REPO, prefix="retrain/")
    assert _publish(client, existing, "second")[:2] == ("updated", number)
    (pull,) = fake.pulls(REPO)
    assert pull["body"] == "second" and pull["title"] == "Retrain"
    assert pull["labels"] == []  # added last, by flow._publish (test_publish.py)
    assert len(fake.calls("POST", r"/pulls$")) == 1


def test_a_second_pr_from_the_same_branch_is_refused(client: GitHubClient) -> None:
    _open(client, "retrain/2026-11-01")
    with pytest.raises(ConflictError, match="already exists"):
        _open(client, "retrain/2026-11-01")


def test_opening_a_pr_is_not_retried_on_a_server_error(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    fake.fail_next(1, status=502)
    with pytest.raises(ServerError):
        _open(client, "retrain/2026-11-01")
    assert len(fake.calls("POST", r"/pulls$")) == 1  # GitHub may have opened it: never twice


def test_listing_follows_pages(fake: FakeGitHub, client: GitHubClient) -> None:
    repo = fake.repos[REPO]
    for day in range(1, 131):
        repo.branches[f"retrain/x{day}"] = repo.branches["main"]
        _open(client, f"retrain/x{day}")
    assert len(client.list_pulls(REPO)) == 130
    assert len(fake.calls("GET", r"/pulls$")) == 2
