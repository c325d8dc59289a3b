"""The check of GitHub stand-in requests against GitHub's published REST description
(`@octokit/openapi`, issue 18 item 13): what the real API would refuse is flagged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.standins import github_contract
from tests.standins.github import API_VERSION, FakeGitHub

REPO = "/repos/octo/churn"
PR = f"{REPO}/pulls"
COMMENTS = f"{REPO}/issues/7/comments"


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "problem"),
    [
        ("POST", COMMENTS, {}, {"body": "hi"}, None),
        ("GET", COMMENTS, {"per_page": "100", "page": "2"}, None, None),
        ("PATCH", f"{REPO}/issues/comments/1001", {}, {"body": "hi"}, None),
        ("DELETE", f"{REPO}/issues/comments/1001", {}, None, None),
        ("POST", f"{REPO}/issues/7/labels", {}, {"labels": ["retrain"]}, None),
        ("GET", f"{REPO}/git/ref/heads/retrain/2026-12", {}, None, None),
        ("GET", f"{REPO}/contents/reports/plots/roc.png", {"ref": "main"}, None, None),
        ("POST", PR, {}, {"title": "t", "head": "h", "base": "main", "body": ""}, None),
        ("GET", PR, {"state": "open", "head": "octo:h"}, None, None),
        ("GET", f"{REPO}/issues/7/reviewers", {}, None, "no such route"),
        ("GET", "/repos/octo", {}, None, "no such route"),
        ("PUT", COMMENTS, {}, {"body": "hi"}, "takes ['GET', 'POST'] only"),
        ("POST", COMMENTS, {}, {}, "'body' is a required property"),
        ("POST", PR, {}, {"title": "t", "base": "main"}, "'head' is a required property"),
        ("POST", COMMENTS, {}, {"body": 3}, "3 is not of type 'string'"),
        ("PATCH", f"{PR}/3", {}, {"state": "merged"}, "is not one of ['open', 'closed']"),
        ("POST", f"{REPO}/issues/x/comments", {}, {"body": "hi"}, "issue_number='x'"),
        ("GET", COMMENTS, {"perpage": "100"}, None, "['perpage'] not declared"),
        ("GET", COMMENTS, {"per_page": "many"}, None, "per_page='many'"),
        ("POST", COMMENTS, {}, {"body": "hi", "labels": []}, "['labels'] not in the schema"),
        ("DELETE", f"{REPO}/issues/comments/1001", {}, {"a": 1}, "takes no JSON body"),
        ("POST", f"{REPO}/git/refs", {}, None, "a JSON body is required"),
    ],
)
def test_the_check_flags_what_github_would_refuse(
    method: str, path: str, query: dict[str, str], body: Any, problem: str | None
) -> None:
    found = github_contract.violation(method, path, query, body)
    if problem is None:
        assert found is None, found
    else:
        assert found is not None and problem in found, found


def test_the_description_is_githubs_and_nullable_reads_as_json_schema() -> None:
    """OpenAPI 3.0's `nullable: true` becomes "or null", so an explicit null validates."""
    document = github_contract.description()
    assert document["servers"][0]["url"] == "https://api.github.com"
    assert len(github_contract.operations()) > 1000
    # Updating a milestone to none: `milestone` is nullable in the issue-update schema.
    body = {"milestone": None}
    assert github_contract.violation("PATCH", f"{REPO}/issues/7", {}, body) is None


def test_the_stand_in_records_a_refused_request_and_the_test_would_fail() -> None:
    fake = FakeGitHub()
    fake.add_repo("octo/churn")
    fake.add_pull("octo/churn", 7, head_sha="a" * 40)
    headers = {
        "Authorization": f"Bearer {fake.token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "Content-Type": "application/json",
    }
    client = httpx.Client(
        base_url="https://api.github.com", transport=httpx.MockTransport(fake), headers=headers
    )
    with client:
        assert client.post(COMMENTS, content=json.dumps({"body": "ok"})).status_code == 201
        assert fake.violations == []
        client.get(COMMENTS, params={"since_id": "3"})
    assert len(fake.violations) == 1
    assert "['since_id'] not declared" in fake.violations[0]
    fake.violations.clear()  # sent on purpose: tests/conftest.py would fail this test otherwise


def test_the_checker_reads_the_version_the_makefile_pins() -> None:
    """`make test` fetches the description the checker reads without make, too."""
    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"^OCTOKIT_OPENAPI := (\S+)$", makefile, re.MULTILINE)
    assert pinned is not None
    assert f"octokit-openapi-{pinned[1]}/" in str(github_contract.DEFAULT)
