"""`mlgitops history` on a scripted repository: 12 merges, real `dvc repro` at each, and the
GitHub stand-in holding its PRs and deployments (with a rollback) at scripted times.

The expected measures are computed by hand from the script (tests/history_repo.py and
DEPLOYMENTS below), written here as numbers, never from the code under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.history_repo import MERGES, build_history_repo
from tests.standins.github import FakeGitHub
from tests.workflow_steps import WORKFLOWS, shell_steps

NAME = "octo/models"
WINDOW = ("--since", "2026-01-01", "--until", "2026-01-29")  # 28 days: 4 weeks
GONE = 9  # its metrics object is deleted from the cache and the remote
REMOTE_ONLY = 11  # its metrics object is only in the remote
# (PR whose merge is deployed, created, [(state, at, description)])
DEPLOYMENTS = [
    (1, "2026-01-05T15:10:00Z", [("in_progress", "2026-01-05T15:10:00Z", "rolling out"),
                                 ("success", "2026-01-05T15:30:00Z", "serving")]),
    (3, "2026-01-08T12:10:00Z", [("in_progress", "2026-01-08T12:10:00Z", "rolling out"),
                                 ("success", "2026-01-08T13:00:00Z", "serving")]),
    (4, "2026-01-09T11:10:00Z", [("in_progress", "2026-01-09T11:10:00Z", "rolling out"),
                                 ("failure", "2026-01-09T12:00:00Z",
                                  "rolled back: step smoke-test failed: 3 of 5 requests failed")]),
    (5, "2026-01-12T09:10:00Z", [("success", "2026-01-12T10:00:00Z", "serving")]),
    (6, "2026-01-13T10:10:00Z", [("error", "2026-01-13T10:30:00Z",
                                  "step rollout failed: timeout; the rollback did not finish")]),
    (7, "2026-01-13T15:10:00Z", [("success", "2026-01-13T15:30:00Z", "serving")]),
    (8, "2026-01-15T13:10:00Z", [("in_progress", "2026-01-15T13:10:00Z", "rolling out")]),
    (10, "2026-01-19T12:10:00Z", [("success", "2026-01-19T13:00:00Z", "serving")]),
    (12, "2026-01-22T08:10:00Z", [("success", "2026-01-22T08:30:00Z", "serving")]),
]  # fmt: skip
DRIFT_CHECKS = [  # (run created, drift found); the first is before the window
    ("2025-12-29T05:00:00Z", True),
    ("2026-01-05T05:00:00Z", False),
    ("2026-01-12T04:00:00Z", True),
    ("2026-01-19T05:00:00Z", False),
    ("2026-01-22T04:00:00Z", True),  # on demand
    ("2026-01-26T05:00:00Z", False),
]
DOC = Path(__file__).resolve().parents[2] / "docs" / "history.md"
DOC_START, DOC_END = "<!-- example: tests/e2e/test_history.py -->", "<!-- /example -->"
LABELS = {4: ("gate-failed",), 5: ("retraining",), 12: ("retraining",)}


@dataclass(frozen=True)
class Scripted:
    root: Path
    merges: dict[int, str]  # PR -> merge commit
    shown: dict[str, dict[str, float]]  # `dvc metrics show --all-commits`: sha -> metrics


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _object(root: Path, sha: str) -> str:
    lock = yaml.safe_load(
        subprocess.run(["git", "-C", str(root), "show", f"{sha}:dvc.lock"],
                       capture_output=True, text=True, timeout=30, check=True).stdout
    )  # fmt: skip
    (out,) = lock["stages"]["train"]["outs"]
    return f"files/md5/{out['md5'][:2]}/{out['md5'][2:]}"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Scripted:
    base = tmp_path_factory.mktemp("history")
    root, remote = base / "repo", base / "remote"
    merges = build_history_repo(root, remote)
    shown_json = subprocess.run(
        ["dvc", "metrics", "show", "--all-commits", "--json"],
        cwd=root, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    shown = {
        sha: _flat(found["data"]["metrics.json"]["data"])
        for sha, found in json.loads(shown_json).items()
        if sha != "workspace"
    }
    (root / ".dvc" / "cache" / _object(root, merges[GONE])).unlink()
    (remote / _object(root, merges[GONE])).unlink()
    (root / ".dvc" / "cache" / _object(root, merges[REMOTE_ONLY])).unlink()
    return Scripted(root, merges, shown)


def _script(fake: FakeGitHub, merges: dict[int, str], *, deployments: bool = True) -> None:
    fake.add_repo(NAME)
    for merge in MERGES:
        first = merge.commits[0]
        fake.add_merged_pull(
            NAME, merge.pr, title=merge.title, created_at=first.replace(":00Z", ":10Z"),
            merged_at=merge.merged, merge_commit_sha=merges[merge.pr],
            labels=LABELS.get(merge.pr, ()),
        )  # fmt: skip
    fake.add_merged_pull(NAME, 13, title="alpha 5", created_at="2026-01-14T09:00:00Z",
                         merged_at=None, merge_commit_sha=None,
                         labels=("gate-failed",))  # fmt: skip
    for pr, created, statuses in DEPLOYMENTS if deployments else []:
        fake.add_deployment(NAME, sha=merges[pr], created_at=created, statuses=statuses)
    # retrain.yml's drift checks: its `retraining PR` job runs only when drift was found.
    for created, found in DRIFT_CHECKS:
        jobs = {"drift check": "success", "retraining PR": "success" if found else "skipped"}
        fake.add_workflow_run(NAME, "retrain.yml", created_at=created, jobs=jobs)
    # What GitHub itself makes for a job with `environment: production`: not ours, not counted.
    fake.add_deployment(NAME, sha=merges[2], created_at="2026-01-07T10:10:00Z", task="deploy",
                        statuses=[("failure", "2026-01-07T10:20:00Z", "job failed")])  # fmt: skip


def _history(
    root: Path, *args: str, url: str | None = None, token: str | None = None, code: int = 0
) -> Any:
    env = {**os.environ, "GITHUB_API_URL": url or "", "GITHUB_TOKEN": token or ""}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mlgitops"), "history", *WINDOW, *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == code, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def served(scripted: Scripted, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One run of the CLI against the scripted stand-in: its JSON and its --out folder."""
    fake = FakeGitHub()
    _script(fake, scripted.merges)
    out = tmp_path_factory.mktemp("record")
    with fake.serve() as url:
        done = _history(scripted.root, "--repo", NAME, "--branch", "main", "--format", "json",
                        "--out", str(out), url=url, token=fake.token)  # fmt: skip
    assert fake.violations == []
    yield json.loads(done.stdout), out


def test_each_point_is_what_dvc_metrics_show_says_at_that_merge(
    scripted: Scripted, served: Any
) -> None:
    record, _ = served
    by_sha = {merge["sha"]: merge for merge in record["merges"]}
    assert len(by_sha) == 13  # the first commit and 12 merges
    for pr, sha in scripted.merges.items():
        merge = by_sha[sha]
        assert merge["pr"] == pr
        if pr == GONE:
            assert set(merge["metrics"].values()) == {None}
            (reason,) = merge["missing"].values()
            assert "neither the local DVC cache nor the remote" in reason
        else:
            assert merge["metrics"] == scripted.shown[sha], pr
            assert merge["missing"] == {}
    assert record["metrics"] == ["test.error", "test.rows", "train.error"]
    # The regression (#6) and its revert (#7): the revert is back at #5's numbers.
    assert by_sha[scripted.merges[7]]["metrics"] == by_sha[scripted.merges[5]]["metrics"]
    assert by_sha[scripted.merges[6]]["metrics"]["test.error"] == 22.7


def test_delivery_measures_equal_the_hand_computed_ones(served: Any) -> None:
    measures = served[0]["measures"]
    value = {name: (m["value"], m["count"]) for name, m in measures.items()}
    # 6 successes (deployments of #1 #3 #5 #7 #10 #12) in 4 weeks.
    assert value["deployment_frequency"] == (1.5, 6)
    # Hours from first commit to serving: #1 6.5, #2 51 (first of two commits, served by #3's
    # deploy), #3 5, #4 73 (its deploy rolled back; #5's served it), #5 5, #6 6.5, #7 1.5,
    # #8 100 (its deploy has no status), #9 76, #10 4, #11 47.5, #12 3.5: median 6.5.
    assert value["lead_time_hours"] == (6.5, 12)
    # 8 deployments with an outcome (#8's has none), 2 failed (#4 rolled back, #6 error).
    assert value["change_failure_rate"] == (0.25, 8)
    # #4 failed 01-09 12:00, #5 served 01-12 10:00: 70 h; #6 10:30 -> #7 15:30: 5 h.
    assert value["time_to_restore_hours"] == (37.5, 2)
    assert measures["rollbacks"]["value"] == 1
    assert value["gate_stopped"] == (2, 2)  # #4 and #13
    assert value["retraining_opened"] == (2, 2)
    assert value["retraining_merged"] == (2, 2)
    assert value["drift_found"] == (2, 5)  # 01-12 and 01-22 of five checks in the window
    for measure in measures.values():
        assert measure["definition"] and "\n" not in measure["definition"]


def test_a_deployment_without_a_status_is_reported_not_counted(
    scripted: Scripted, served: Any
) -> None:
    note = served[0]["measures"]["change_failure_rate"]["note"]
    assert "1 deployment(s) without a final status left out" in note
    assert scripted.merges[8][:7] in note
    releases = {m["pr"]: m["release"] for m in served[0]["merges"]}
    assert releases[4] == "rolled back" and releases[6] == "error" and releases[8] == "no status"
    assert releases[2] is None and releases[1] == "success"


def test_the_chart_and_the_markdown_are_written(served: Any) -> None:
    _, out = served
    png = (out / "images" / "history.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    markdown = (out / "history.md").read_text()
    assert "![metrics at each commit" in markdown
    assert "| Change failure rate | 25% of 8 |" in markdown
    assert "rolled back: step smoke-test failed" in markdown


def test_docs_history_shows_this_record(served: Any) -> None:
    """docs/history.md's example is this test's record, verbatim; MLGITOPS_WRITE_DOCS=1
    rewrites it (and its chart) after a deliberate change."""
    markdown = (served[1] / "history.md").read_text()
    markdown = markdown.replace("(images/history.png)", "(images/history-example.png)")
    text = DOC.read_text()
    before, rest = text.split(DOC_START, 1)
    _, after = rest.split(DOC_END, 1)
    if os.environ.get("MLGITOPS_WRITE_DOCS") == "1":
        DOC.write_text(f"{before}{DOC_START}\n{markdown}{DOC_END}{after}")
        png = (served[1] / "images" / "history.png").read_bytes()
        (DOC.parent / "images" / "history-example.png").write_bytes(png)
    assert DOC.read_text().split(DOC_START, 1)[1].split(DOC_END, 1)[0] == f"\n{markdown}"


def test_without_deployments_the_metric_history_stays_and_says_what_is_missing(
    scripted: Scripted,
) -> None:
    fake = FakeGitHub()
    _script(fake, scripted.merges, deployments=False)
    with fake.serve() as url:
        done = _history(scripted.root, "--repo", NAME, "--format", "json", url=url,
                        token=fake.token)  # fmt: skip
    record = json.loads(done.stdout)
    assert any("no deployments to 'production'" in line for line in record["missing"])
    for name in ("deployment_frequency", "lead_time_hours", "change_failure_rate"):
        assert record["measures"][name]["value"] is None
        assert "no deployments recorded" in record["measures"][name]["note"]
    assert record["measures"]["retraining_merged"]["value"] == 2
    assert sum(m["metrics"]["test.error"] is not None for m in record["merges"]) == 12


def test_without_github_the_record_is_git_and_dvc_only(scripted: Scripted) -> None:
    markdown = _history(scripted.root).stdout
    assert "\n- delivery: no GitHub repository given" in markdown and "**Missing**:" in markdown
    assert "| Deployment frequency | missing |" in markdown
    assert markdown.count("| missing | missing | missing |") == 1  # only #9's row


def _workflow_step(root: Path, url: str, token: str) -> Any:
    """history.yml's `history` step, as CI runs it, in the scripted repository."""
    given = {"GITHUB_TOKEN": token, "DEFAULT_BRANCH": "main"}
    (step,) = shell_steps(WORKFLOWS / "history.yml", "record", given, ids=["history"])
    env = {**os.environ, **step.env, "GITHUB_API_URL": url, "GITHUB_REPOSITORY": NAME}
    done = subprocess.run(
        [*step.argv[:-1], step.argv[-1].replace("--issue", "--issue " + " ".join(WINDOW))],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_record_is_one_issue_updated_in_place(scripted: Scripted) -> None:
    """Posted twice by the scheduled workflow's step: one issue, its body edited."""
    fake = FakeGitHub()
    _script(fake, scripted.merges)
    with fake.serve() as url:
        first = _workflow_step(scripted.root, url, fake.token)
        fake.deployments[NAME][6]["statuses"].append(
            {"id": 9, "state": "success", "created_at": "2026-01-15T14:00:00Z",
             "description": "serving", "environment": "production"}
        )  # fmt: skip
        second = _workflow_step(scripted.root, url, fake.token)
    (issue,) = fake.issues[NAME].values()
    assert "history: created" in first.stderr and "history: updated" in second.stderr
    assert issue["body"].startswith("<!-- mlgitops-history branch=main -->")
    assert issue["title"] == "Delivery record" and issue["labels"] == [{"name": "delivery-record"}]
    assert "| Change failure rate | 22% of 9 |" in issue["body"]  # #8's deploy now succeeded
    (image,) = [
        path for path in fake.branch_files(NAME, "mlgitops-assets") if path.endswith(".png")
    ]
    assert f"pr-{issue['number']}/" in image and image in issue["body"]
    assert (scripted.root / "history" / "images" / "history.png").is_file()  # the artifact


def test_a_refusing_github_is_an_error_not_a_gap(scripted: Scripted) -> None:
    fake = FakeGitHub()
    _script(fake, scripted.merges)
    with fake.serve() as url:
        refused = _history(scripted.root, "--repo", NAME, url=url, token="wrong", code=1)
        unset = _history(scripted.root, "--repo", NAME, url=url, token="", code=2)
    assert "GitHub answered 401" in refused.stderr and "GITHUB_TOKEN" in refused.stderr
    assert "--repo octo/models needs GITHUB_TOKEN" in unset.stderr
    assert "Traceback" not in refused.stderr + unset.stderr


def test_without_a_remote_a_merge_missing_from_the_cache_says_so(
    scripted: Scripted, tmp_path: Path
) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(scripted.root, copy, ignore=shutil.ignore_patterns("history"))
    (copy / ".dvc" / "config.local").unlink()  # the only remote
    (copy / ".dvc" / "cache" / _object(copy, scripted.merges[3])).unlink()
    record = json.loads(_history(copy, "--format", "json").stdout)
    by_pr = {merge["pr"]: merge for merge in record["merges"]}  # no GitHub: pr is None
    missing = {m["sha"]: m["missing"] for m in record["merges"] if m["missing"]}
    assert set(missing) == {scripted.merges[3], scripted.merges[GONE], scripted.merges[REMOTE_ONLY]}
    assert "is not in the local DVC cache, and there is no remote to look in" in str(
        missing[scripted.merges[3]]
    )
    assert list(by_pr) == [None]
