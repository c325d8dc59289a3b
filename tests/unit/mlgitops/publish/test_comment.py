"""The comment's body (marker, headline, gate, rest, links, limit) and the one-comment upsert."""

from __future__ import annotations

import pytest

from mlgitops.errors import ServerError
from mlgitops.publish.comment import (
    COMMENT_LIMIT,
    build_body,
    fit_limit,
    linked_images,
    marker,
    rewrite_image_links,
    split_headline,
    upsert_comment,
)
from mlgitops.publish.github import GitHubClient
from mlgitops.report.markdown import render_markdown
from tests.standins.github import BOT_LOGIN as BOT
from tests.standins.github import FakeGitHub
from tests.standins.report_dir import report_data, report_markdown
from tests.unit.mlgitops.publish.conftest import PR, REPO

VERDICT = "✅ **Gate passed**: the pipeline reproduced and no rule sets a limit"
GATE_MD = (
    f"{VERDICT}\n\n"
    "#### Quality gate: passed ✅\n\n| Check | Result |\n|---|---|\n| pipeline | ✅ pass |\n"
)
URLS = {"roc.png": "https://github.com/octo/churn/blob/c0ffee/pr-7/2b7e151/roc.png?raw=true"}


# report.md as `mlgitops report` renders it, and a hand-written one with other heading levels.
MARKDOWNS = [render_markdown(report_data()), report_markdown(report_data())]


@pytest.mark.parametrize("markdown", MARKDOWNS, ids=["mlgitops-report", "hand-written"])
def test_body_is_marker_headline_gate_then_the_rest(markdown: str) -> None:
    body = build_body(markdown, pr=PR, gate_md=GATE_MD, image_urls=URLS)
    assert body.startswith(f"<!-- mlgitops-report pr=7 -->\n\n{VERDICT}\n\n")
    headline = body.index("test.log_loss")
    gate = body.index("#### Quality gate: passed")
    metrics = body.index("etrics\n")  # "## Metrics" or "#### Full metrics"
    assert headline < gate < metrics
    assert "](https://github.com/octo/churn/blob/c0ffee/pr-7/2b7e151/roc.png?raw=true)" in body
    assert "](images/roc.png)" not in body


def test_body_without_gate_md_keeps_the_report_order() -> None:
    markdown = render_markdown(report_data())
    body = build_body(markdown, pr=3, gate_md=None, image_urls={})
    assert body == marker(3) + "\n\n" + markdown


def test_split_headline_does_not_split_inside_a_code_fence() -> None:
    markdown = "Headline text\n```\n# not a heading\n```\n## Section\nbody\n"
    headline, rest = split_headline(markdown)
    assert headline == "Headline text\n```\n# not a heading\n```\n"
    assert rest == "## Section\nbody\n"


def test_image_links_in_markdown_and_html_are_found_and_rewritten() -> None:
    markdown = (
        '![a](images/roc.png) ![b](./images/pr.png "PR") <img src="images/roc.png" width=400>'
        " [csv](images/table.csv) ![elsewhere](https://x.invalid/images/roc.png)"
    )
    assert linked_images(markdown) == ["roc.png", "pr.png"]
    urls = {"roc.png": "https://g/roc", "pr.png": "https://g/pr"}
    assert rewrite_image_links(markdown, urls) == (
        '![a](https://g/roc) ![b](https://g/pr "PR") <img src="https://g/roc" width=400>'
        " [csv](images/table.csv) ![elsewhere](https://x.invalid/images/roc.png)"
    )


def test_a_long_body_is_cut_under_the_limit_with_open_blocks_closed() -> None:
    rows = "\n".join(f"| {n} | {'x' * 80} |" for n in range(2000))
    markdown = f"Headline\n\n## Data\n\n<details><summary>rows</summary>\n\n```\n{rows}\n"
    body = build_body(markdown, pr=PR, image_urls={})
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker(PR))
    kept = body[: body.index("> **Truncated**")]
    assert kept.rstrip().endswith("```\n</details>".rstrip())
    assert kept.count("```") % 2 == 0
    assert "the full report is in the workflow run's `report` artifact" in body


def test_a_short_body_is_left_alone() -> None:
    assert fit_limit("short\n") == "short\n"


def test_first_publish_creates_and_the_next_edits(client: GitHubClient, fake: FakeGitHub) -> None:
    fake.add_comments(REPO, PR, ["LGTM"])
    action, first = upsert_comment(client, REPO, PR, marker(PR) + "\nrun 1", author=BOT)
    assert action == "created"
    action, second = upsert_comment(client, REPO, PR, marker(PR) + "\nrun 2", author=BOT)
    assert action == "updated" and second["id"] == first["id"]
    bodies = [c["body"] for c in fake.comments(REPO, PR)]
    assert bodies == ["LGTM", marker(PR) + "\nrun 2"]


def test_our_comment_on_page_two_is_edited_not_duplicated(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    fake.add_comments(REPO, PR, [f"review {n}" for n in range(120)])
    fake.add_comments(REPO, PR, [marker(PR) + "\nold report"], author=BOT)
    fake.add_comments(REPO, PR, ["a later remark"])
    action, _ = upsert_comment(client, REPO, PR, marker(PR) + "\nnew report", author=BOT)
    assert action == "updated"
    ours = [c for c in fake.comments(REPO, PR) if c["body"].startswith(marker(PR))]
    assert [c["body"] for c in ours] == [marker(PR) + "\nnew report"]
    assert len(fake.comments(REPO, PR)) == 122
    assert fake.calls("POST") == []


def test_only_our_marker_for_this_pr_counts(client: GitHubClient, fake: FakeGitHub) -> None:
    fake.add_comments(REPO, PR, [marker(PR + 1) + "\nanother PR's report"])
    fake.add_comments(REPO, PR, ["> " + marker(PR) + "\n> quoted by a reviewer"])
    action, _ = upsert_comment(client, REPO, PR, marker(PR) + "\nreport", author=BOT)
    assert action == "created"
    assert len(fake.comments(REPO, PR)) == 3


def test_duplicates_left_by_a_race_are_folded_into_one(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    fake.add_comments(REPO, PR, [marker(PR) + "\nfirst"], author=BOT)
    fake.add_comments(REPO, PR, ["human"])
    fake.add_comments(REPO, PR, [marker(PR) + "\nsecond"], author=BOT)
    upsert_comment(client, REPO, PR, marker(PR) + "\nlatest", author=BOT)
    assert [c["body"] for c in fake.comments(REPO, PR)] == [marker(PR) + "\nlatest", "human"]


def test_a_create_whose_answer_was_lost_is_not_repeated(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    """GitHub made the comment but answered 502: the retry finds it and edits it."""
    fake.lose_next(1, method="POST")
    action, _ = upsert_comment(client, REPO, PR, marker(PR) + "\nreport", author=BOT)
    bodies = [c["body"] for c in fake.comments(REPO, PR)]
    assert bodies == [marker(PR) + "\nreport"]
    assert action == "updated"


def test_a_create_that_keeps_failing_gives_up(
    client: GitHubClient, fake: FakeGitHub, waits: list[float]
) -> None:
    fake.fail_next(50)
    with pytest.raises(ServerError):
        upsert_comment(client, REPO, PR, marker(PR) + "\nreport", author=BOT)
    assert fake.comments(REPO, PR) == []
    assert len(waits) >= 4  # the client's own backoff on each listing, and between creates


def test_a_marker_typed_by_someone_else_is_never_edited_nor_deleted(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    """Anyone can start a comment with the marker: before ours it is not edited, after ours
    it is not deleted as a duplicate."""
    fake.add_comments(REPO, PR, [marker(PR) + "\nQuality gate: passed (says mallory)"])
    action, ours = upsert_comment(client, REPO, PR, marker(PR) + "\nreport", author=BOT)
    assert action == "created"
    fake.add_comments(REPO, PR, [marker(PR) + "\na later impostor"], author="mallory")
    action, again = upsert_comment(client, REPO, PR, marker(PR) + "\nreport 2", author=BOT)
    assert action == "updated" and again["id"] == ours["id"]
    bodies = [c["body"] for c in fake.comments(REPO, PR)]
    assert bodies == [
        marker(PR) + "\nQuality gate: passed (says mallory)",
        marker(PR) + "\nreport 2",
        marker(PR) + "\na later impostor",
    ]
    assert fake.calls("DELETE") == []


@pytest.mark.parametrize("user", [None, "mlgitops-bot"])
def test_the_identity_is_the_tokens_user_or_the_actions_bot(user: str | None) -> None:
    """GET /user names a user token's login; GITHUB_TOKEN gets 403 and posts as the bot."""
    import httpx

    from mlgitops.publish.github import make_http_client

    fake = FakeGitHub(user=user)
    with make_http_client(fake.token, transport=httpx.MockTransport(fake)) as http:
        assert GitHubClient(http).identity() == (user or BOT)
