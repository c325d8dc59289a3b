"""`mlgitops comment` as CI runs it: a subprocess, GITHUB_API_URL at the GitHub stand-in.

The stand-in is a real HTTP server on a free port (tests/standins/github.py). The report
directory is hand-written from the contract, with real PNG files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.checkout import Result
from tests.standins.github import BOT_LOGIN, FakeGitHub
from tests.standins.report_dir import HEAD_SHA, report_data, write_report_dir

REPO = "octo/churn"
PR = 7
MARKER = f"<!-- mlgitops-report pr={PR} -->"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Setup:
    fake: FakeGitHub
    api_url: str
    report: Path
    tmp: Path

    def comment(
        self,
        *args: str,
        token: str | None = None,
        path_first: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Result:
        """Runs `mlgitops comment --repo octo/churn --pr 7 --report-dir ...` and more args."""
        env = {
            "PATH": os.pathsep.join(
                [*([str(path_first)] if path_first else []), str(VENV_BIN), "/usr/bin", "/bin"]
            ),
            "HOME": str(self.tmp / "home"),
            "LANG": "C.UTF-8",
            "GITHUB_API_URL": self.api_url,
        }
        if token is not None:
            env["GITHUB_TOKEN"] = token
        env.update(extra_env or {})
        argv = [str(VENV_BIN / "mlgitops"), "comment", "--repo", REPO, "--pr", str(PR)]
        argv += ["--report-dir", str(self.report), *args]
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        return Result(("mlgitops", "comment"), done.returncode, done.stdout, done.stderr)

    def publish(self, *args: str) -> Result:
        run = self.comment("--backend", "github", *args, token=self.fake.token)
        assert run.returncode == 0, run.output
        return run


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    fake = FakeGitHub()
    fake.add_repo(REPO)
    fake.add_pull(REPO, PR, head_sha=HEAD_SHA)
    report = write_report_dir(tmp_path / "report", gate_md="#### Quality gate: passed ✅\n")
    with fake.serve() as api_url:
        yield Setup(fake, api_url, report, tmp_path)


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [c for c in fake.comments(REPO, PR) if str(c["body"]).startswith(MARKER)]


def test_first_publish_creates_one_comment_with_numbers_and_in_repo_images(setup: Setup) -> None:
    run = setup.publish()
    assert "comment: created https://github.com/octo/churn/pull/7#issuecomment-" in run.flat
    (comment,) = setup.fake.comments(REPO, PR)
    body = str(comment["body"])
    assert body.startswith(MARKER)
    assert "0.8432" in body and "0.8510" in body  # the headline's numbers
    assert (
        body.index("**test.roc_auc**")
        < body.index("Quality gate: passed")
        < body.index("## Metrics")
    )
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert len(links) == 2
    for link, name in zip(links, ["roc.png", "confusion.png"], strict=True):
        pinned = re.fullmatch(
            rf"{setup.api_url}/octo/churn/blob/([0-9a-f]{{40}})/pr-7/{HEAD_SHA}/{name}\?raw=true",
            link,
        )
        assert pinned, link
        sent = (setup.report / "images" / name).read_bytes()
        assert setup.fake.file_at(REPO, pinned[1], f"pr-7/{HEAD_SHA}/{name}") == sent
        assert httpx.get(link).content == sent  # the link itself serves the PNG
    assert "](images/" not in body  # no relative link left


def test_second_publish_edits_the_same_comment(setup: Setup) -> None:
    setup.publish()
    (first,) = _ours(setup.fake)
    write_report_dir(setup.report, report_data(roc_auc=(0.843236, 0.8675)))
    run = setup.publish()
    assert "comment: updated" in run.flat
    (second,) = _ours(setup.fake)
    assert second["id"] == first["id"]
    assert "0.8675" in str(second["body"]) and "0.8510" not in str(second["body"])
    assert len(setup.fake.calls("POST", r"/issues/7/comments$")) == 1
    assert len(setup.fake.calls("PATCH")) == 1


def test_our_comment_on_page_two_of_a_busy_pr_is_edited(setup: Setup) -> None:
    setup.fake.add_comments(REPO, PR, [f"review note {n}" for n in range(105)])
    setup.fake.add_comments(REPO, PR, [MARKER + "\nstale report"], author=BOT_LOGIN)
    setup.fake.add_comments(REPO, PR, ["thanks!"])
    setup.publish()
    assert len(setup.fake.comments(REPO, PR)) == 107
    (ours,) = _ours(setup.fake)
    assert "stale report" not in str(ours["body"])
    assert setup.fake.calls("POST", r"/issues/7/comments$") == []
    pages = setup.fake.calls("GET", r"/issues/7/comments$")
    assert len(pages) == 2


def test_server_errors_twice_then_ok(setup: Setup) -> None:
    setup.fake.fail_next(2, status=502)
    run = setup.publish()
    assert "retrying" in run.stderr
    assert len(_ours(setup.fake)) == 1
    assert [seen.status for seen in setup.fake.seen[:3]] == [502, 502, 200]


def test_a_rate_limit_then_ok(setup: Setup) -> None:
    setup.fake.rate_limit_next(1, reset_in=0)
    setup.publish()
    assert setup.fake.seen[0].status == 403
    assert len(_ours(setup.fake)) == 1


def test_a_bad_token_exits_1_with_a_clear_message_and_no_token(setup: Setup) -> None:
    secret = "ghp_this_is_not_the_right_token_42"
    run = setup.comment("--backend", "github", token=secret)
    assert run.returncode == 1
    assert "UnauthorizedError" in run.flat and "check GITHUB_TOKEN" in run.flat
    assert "Traceback" not in run.output
    assert secret not in run.output
    assert setup.fake.comments(REPO, PR) == []


def test_a_missing_pull_request_exits_1_naming_it(setup: Setup) -> None:
    run = setup.comment("--backend", "github", "--pr", "99", token=setup.fake.token)
    assert run.returncode == 1
    assert "octo/churn has no pull request #99" in run.flat
    assert "check the repository (OWNER/NAME) and the pull request number" in run.flat
    assert setup.fake.calls("PUT") == []  # nothing uploaded for a PR that is not there


def test_a_token_without_permission_names_the_scopes(setup: Setup) -> None:
    setup.fake.fail_next(1, status=403, message="Resource not accessible by integration")
    run = setup.comment("--backend", "github", token=setup.fake.token)
    assert run.returncode == 1
    assert "Resource not accessible by integration" in run.flat
    assert "`pull-requests: write`" in run.flat and "`contents: write`" in run.flat


def test_missing_token_exits_2_saying_to_set_it(setup: Setup) -> None:
    run = setup.comment("--backend", "github")
    assert run.returncode == 2
    assert "GITHUB_TOKEN is not set" in run.flat
    assert setup.fake.seen == []


def test_cml_backend_runs_cml_with_in_repo_image_links(setup: Setup) -> None:
    """auto picks `cml` when it is on PATH; images still go to the repository, not a host."""
    bin_dir = setup.tmp / "bin"
    bin_dir.mkdir()
    record = setup.tmp / "cml-call.json"
    fake_cml = bin_dir / "cml"
    fake_cml.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        "call = {'argv': sys.argv, 'body': pathlib.Path(sys.argv[-1]).read_text()}\n"
        f"pathlib.Path({str(record)!r}).write_text(json.dumps(call))\n"
    )
    fake_cml.chmod(0o755)
    run = setup.comment(token=setup.fake.token, path_first=bin_dir)
    assert run.returncode == 0, run.output
    assert "published with cml" in run.flat
    call = json.loads(record.read_text())
    assert call["argv"][1:-1] == [
        "comment",
        "update",
        "--target=pr/7",
        "--watermark-title=mlgitops-report",
        f"--repo={setup.api_url}/{REPO}",
        "--no-publish",
    ]
    body = call["body"]
    assert body.startswith(MARKER)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert len(links) == 2
    assert all(link.startswith(f"{setup.api_url}/{REPO}/blob/") for link in links)
    assert (
        setup.fake.branch_files(REPO, "mlgitops-assets")[f"pr-7/{HEAD_SHA}/roc.png"]
        == (setup.report / "images" / "roc.png").read_bytes()
    )
    assert setup.fake.calls("POST", r"/issues/7/comments$") == []  # cml posted, not us


def test_a_marker_typed_by_a_user_is_left_alone_and_ours_is_created(setup: Setup) -> None:
    setup.fake.add_comments(REPO, PR, [MARKER + "\n#### Quality gate: passed ✅ (not ours)"])
    setup.publish("--head-repo", REPO, "--head-ref", "feature")
    first, ours = setup.fake.comments(REPO, PR)
    assert first["body"].endswith("(not ours)") and first["user"]["login"] == "octocat"
    assert ours["user"]["login"] == BOT_LOGIN and "test.log_loss" in ours["body"]


def test_a_report_naming_a_pr_of_another_branch_is_refused(setup: Setup) -> None:
    run = setup.comment(
        "--backend", "github", "--head-repo", "mallory/churn", "--head-ref", "feature",
        token=setup.fake.token,
    )  # fmt: skip
    assert run.returncode == 1, run.output
    assert "not an open pull request from mallory/churn:feature" in run.output
    assert setup.fake.comments(REPO, PR) == [] and setup.fake.calls("PUT") == []


def test_a_pr_that_moved_on_gets_nothing_and_exits_0(setup: Setup) -> None:
    run = setup.publish("--sha", "f" * 40, "--head-repo", REPO, "--head-ref", "feature")
    assert "not publishing" in " ".join(run.output.split())  # rich wraps the line
    assert setup.fake.comments(REPO, PR) == [] and setup.fake.calls("PUT") == []


def test_plain_http_to_another_host_needs_the_explicit_switch(setup: Setup) -> None:
    """No token over http:// to another machine; the command's switch (flag or environment)
    is what lets it through, and the client then simply cannot reach the made-up host."""
    setup.api_url = "http://github.invalid/api/v3"
    refused = setup.comment("--backend", "github", token="ghp_plain_http_secret")
    assert refused.returncode == 2, refused.output
    assert "refusing to send the token over plain http:// to github.invalid" in refused.flat
    allowed = setup.comment("--backend", "github", "--allow-plain-http", token="ghp_x")
    assert allowed.returncode == 1, allowed.output
    assert "refusing" not in allowed.flat and "github.invalid" in allowed.flat
    assert "ghp_plain_http_secret" not in refused.output
    switched = {"MLGITOPS_ALLOW_PLAIN_HTTP": "1"}
    from_env = setup.comment("--backend", "github", token="ghp_x", extra_env=switched)
    assert from_env.returncode == 1 and "refusing" not in from_env.flat, from_env.output
