"""A GitHub stand-in behind `httpx.MockTransport`, and a client that records its waits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mlgitops.publish.github import GitHubClient, make_http_client
from tests.standins.github import FakeGitHub

REPO = "octo/churn"
PR = 7


@pytest.fixture
def fake() -> FakeGitHub:
    """octo/churn with pull request #7 (head sha 'abc…')."""
    github = FakeGitHub()
    github.add_repo(REPO)
    github.add_pull(REPO, PR, head_sha="a" * 40)
    return github


class Waits(list[float]):
    """The seconds a client asked to sleep, in order; nobody actually waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def client(fake: FakeGitHub, waits: Waits) -> Iterator[GitHubClient]:
    """The real client setup (`make_http_client`) with the stand-in as transport."""
    transport = httpx.MockTransport(fake)
    with make_http_client(fake.token, transport=transport) as http:
        yield GitHubClient(http, sleep=waits)
