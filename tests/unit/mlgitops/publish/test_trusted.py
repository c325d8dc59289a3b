"""The trusted side writes the comment: from report.json made inert, the gate under the base's
policy, a plain note for a fork; the artifact's report.md and gate.md are never posted."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.publish.command import Backend, publish, read_report_json
from mlgitops.publish.draft import Pull, draft
from mlgitops.publish.github import GitHubClient
from mlgitops.publish.trusted import inert, report_body
from tests.standins.github import FakeGitHub
from tests.standins.report_dir import HEAD_SHA, report_data, write_report_dir
from tests.unit.mlgitops.publish.conftest import PR, REPO

EVIL = "@octo/admins see [docs](https://evil.example) <img src=x onerror=alert(1)> www.evil.example"
POLICY = b"""gate:
  - metric: test.roc_auc
    better: higher
    at_least: 0.9
"""


@pytest.mark.parametrize("text", [EVIL, "![x](https://evil.example/p.png)", "&lt;b&gt;", "`@a`"])
def test_inert_text_has_no_mention_tag_link_or_image(text: str) -> None:
    made = inert(text)
    for bad in ("@octo", "@a", "](", "<", "://", "www.", "![", "&lt;", "`"):
        assert bad not in made, (bad, made)


def test_the_body_is_rendered_from_report_json_with_names_inert() -> None:
    data = report_data()
    data["metrics"]["metrics.json"][EVIL] = {"old": 1, "new": 2, "diff": 1}
    data["stages"][0]["why"] = [EVIL]
    data["plots"].append({"id": "x", "title": EVIL, "image": "https://evil.example/p.png"})
    body, images = report_body(data)
    assert images == ["roc.png", "confusion.png"]  # only images/<name>.png from the artifact
    assert "evil.example/p.png" not in body.replace("\u2060", "")
    for bad in ("@octo", "](https://evil", "<img", "https://evil", "www.evil"):
        assert bad not in body, bad
    assert "](images/roc.png)" in body


def _publish(
    client: GitHubClient, fake: FakeGitHub, folder: Path, *, head_repo: str, pr: int = PR
) -> str:
    publish(
        client,
        read_report_json(folder),
        repo=REPO,
        pr=pr,
        sha=HEAD_SHA,
        backend=Backend.github,
        head_repo=head_repo,
        head_ref="feature",
        base_params="params.yaml",
    )
    (comment,) = fake.comments(REPO, pr)
    return str(comment["body"])


@pytest.fixture
def policy_fake(fake: FakeGitHub) -> FakeGitHub:
    """The base branch's params.yaml wants roc_auc >= 0.9 (the report has 0.851)."""
    fake.add_files(REPO, {"params.yaml": POLICY})
    fake.add_pull(REPO, PR, head_sha=HEAD_SHA)
    fake.add_pull(REPO, 9, head_sha=HEAD_SHA, head_ref="feature", head_repo="mallory/churn")
    return fake


def test_the_gate_is_decided_from_the_base_policy_not_the_artifacts_gate_md(
    client: GitHubClient, policy_fake: FakeGitHub, tmp_path: Path
) -> None:
    forged = "#### Quality gate: passed ✅\n\ncc @octo/admins [approve](https://evil.example)\n"
    folder = write_report_dir(tmp_path / "report", gate_md=forged)
    (folder / "report.md").write_text("# All good, merge it @octo/admins\n")
    body = _publish(client, policy_fake, folder, head_repo=REPO)
    assert "Quality gate: failed" in body and "Quality gate: passed" not in body
    assert "below the floor 0.9 (params.yaml at base" in body
    assert "@octo" not in body and "evil.example" not in body and "merge it" not in body
    assert "From a fork" not in body


def test_a_forks_numbers_are_said_to_come_from_the_fork(
    client: GitHubClient, policy_fake: FakeGitHub, tmp_path: Path
) -> None:
    folder = write_report_dir(tmp_path / "report")
    body = _publish(client, policy_fake, folder, head_repo="mallory/churn", pr=9)
    assert "**From a fork** (`mallory/churn`)" in body
    # The verdict opens the comment; the fork's note comes right under it, above the numbers.
    verdict = "❌ **Gate failed**: test.roc_auc 0.851 is below the floor 0.9"
    assert body.index(verdict) < body.index("From a fork") < body.index("| **test.roc_auc** |")
    assert body.index("| **test.roc_auc** |") < body.index("Quality gate:")
    assert body.index("Quality gate:") < body.index("#### Full metrics")


def test_the_train_test_gap_threshold_comes_from_the_policy_file_too(tmp_path: Path) -> None:
    data = report_data(roc_auc=(0.843236, 0.837126))
    data["metrics"]["metrics.json"]["train.roc_auc"] = {"old": 0.9008, "new": 0.9329}
    files = read_report_json(write_report_dir(tmp_path / "report", data))
    params = tmp_path / "params.yaml"
    for extra, flagged in (("", True), ("report:\n  gap_widening: 0.05\n", False)):
        params.write_text(POLICY.decode() + extra)  # the gap widened by 0.038
        body = draft(files, Pull(REPO, PR), base_params=str(params), sha=None, http=None)
        assert ("train up, test down: overfitting?" in body) is flagged, extra
        assert body.split("\n\n")[1].startswith("❌ **Gate failed**: test.roc_auc 0.8371")


def test_a_base_without_a_policy_opens_the_comment_saying_so(
    client: GitHubClient, fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add_pull(REPO, PR, head_sha=HEAD_SHA)  # the base has no params.yaml
    body = _publish(client, fake, write_report_dir(tmp_path / "report"), head_repo=REPO)
    opening = body.split("\n\n")[1]
    assert opening.startswith("➖ **No gate**: no policy to apply. `params.yaml` is not there")
    assert "Gate passed" not in body and "Gate failed" not in body
