"""`mlgitops comment --dry-run` prints exactly the body a real publish sends to the GitHub
stand-in (the images' links aside: their URLs exist only once uploaded), and writes nothing.

The stand-in is a real HTTP server (tests/standins/github.py); the report directory is
hand-written from the contract, with `evidence` (tests/standins/evidence.py) and real PNGs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgitops.publish.comment import rewrite_image_links
from tests.e2e.test_comment_github import PR, REPO, Setup
from tests.standins.evidence import evidence, record
from tests.standins.github import FakeGitHub
from tests.standins.report_dir import HEAD_SHA, report_data, write_report_dir

POLICY = b"""gate:
  - metric: test.roc_auc
    better: higher
    at_least: 0.80
    max_worsening: 0.01
"""
_UPLOADED = re.compile(r"\]\((https?://[^)\s]+/pr-7/[0-9a-f]{40}/([\w.-]+\.png)\?raw=true)\)")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    fake = FakeGitHub()
    fake.add_repo(REPO)
    fake.add_files(REPO, {"params.yaml": POLICY})  # the policy at the PR's base commit
    fake.add_pull(REPO, PR, head_sha=HEAD_SHA)
    data = report_data(roc_auc=(0.843236, 0.837126))
    data["evidence"] = evidence(roc_auc=record(0.843236, 0.837126, (-0.0098, -0.0023)))
    report = write_report_dir(tmp_path / "report", data)
    with fake.serve() as api_url:
        yield Setup(fake, api_url, report, tmp_path)


def _writes(fake: FakeGitHub) -> list[str]:
    return [f"{seen.method} {seen.path}" for seen in fake.seen if seen.method != "GET"]


def test_the_dry_run_prints_what_the_publish_then_posts(setup: Setup) -> None:
    dry = setup.comment("--dry-run", "--base-params", "params.yaml", token=setup.fake.token)
    assert dry.returncode == 0, dry.output
    assert _writes(setup.fake) == []  # nothing uploaded, nothing commented
    verdict = (
        "✅ **Gate passed**: test.roc_auc −0.0061 (95% CI −0.0098 to −0.0023) is within the "
        "allowed −0.0100, all of its interval"
    )
    assert dry.stdout.startswith(f"<!-- mlgitops-report pr={PR} -->\n\n{verdict}\n\n")
    assert "](images/roc.png)" in dry.stdout

    setup.publish("--base-params", "params.yaml")
    (comment,) = setup.fake.comments(REPO, PR)
    posted = str(comment["body"])
    urls = {name: url for url, name in _UPLOADED.findall(posted)}
    assert sorted(urls) == ["confusion.png", "roc.png"]
    assert rewrite_image_links(dry.stdout, urls) == posted


def test_without_a_token_the_dry_run_asks_nothing_and_reads_the_local_policy(
    setup: Setup,
) -> None:
    policy = setup.tmp / "params.yaml"
    policy.write_bytes(POLICY.replace(b"0.80", b"0.90"))  # this checkout's policy: floor 0.9
    dry = setup.comment("--dry-run", "--base-params", str(policy))
    assert dry.returncode == 0, dry.output
    assert setup.fake.seen == []
    first = dry.stdout.split("\n\n")[1]
    assert first == "❌ **Gate failed**: test.roc_auc 0.8371 is below the floor 0.9"
    assert f"({policy} in this checkout gate)" in dry.stdout
