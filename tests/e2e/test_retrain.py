"""The retraining loop end to end: request logs -> `mlgitops drift` -> `mlgitops retrain-pr`.

One temporary origin (a bare git repository) holds the reproduced base on `main`; the scheduled
job is a clone of it with the DVC remote the base pushed to, and newly labelled CSV files in
retrain.incoming. The GitHub API is the local stand-in (tests/standins/github.py), whose pull
routes check what they receive and whose branches are the bare repository's. Then the PR's
branch goes through pr.yml's own steps (tests/pr_loop.py), whose report shows the data change.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.checkout import Checkout, Golden, Result
from tests.pr_loop import CI_STEP_IDS, REPO, CiRun, Origin, ci_run, develop, git, make_origin
from tests.pr_loop import pr_remote as copy_remote
from tests.standins.github import FakeGitHub
from tests.workflow_steps import WORKFLOWS, shell_steps

pytestmark = pytest.mark.e2e

DATA = "data/raw/telco_churn.csv"
POINTER = DATA + ".dvc"
INCOMING = "data/incoming"
DRIFT_DIR = "drift-report"
REFERENCE = "data/reference.parquet"  # the evaluate stage's drift reference
SCORE = "churn_probability"
LOGGED_ROWS = 1_000
RETRAIN_WORKFLOW = WORKFLOWS / "retrain.yml"
# retrain.yml's steps after checkout and setup (plumbing), in order: the drift job's, then the
# retrain job's (its data fetch and pull repeat the drift job's in a fresh runner; here the
# clone has the data already, and the report is where the artifact download puts it). Upload,
# download and the cache save are plumbing too.
DRIFT_STEP_IDS = ("fetch-logs", "fetch-data", "pull", "drift")
WORKFLOW_STEP_IDS = (*DRIFT_STEP_IDS, "retrain")
NEW_IDS = 40  # rows with ids the table does not have
RELABELLED = 5  # existing customers whose label changed
MORE_IDS = 15  # the second batch


@dataclass
class Scene:
    """Origin, the job's clone, the shared DVC remote, the GitHub stand-in."""

    origin: Origin
    job: Checkout
    remote: Path
    github: FakeGitHub
    api_url: str
    root: Path
    base_rows: pd.DataFrame
    reference: pd.DataFrame
    runs: dict[str, Result] = field(default_factory=dict)

    def workflow(self, logs: Path) -> dict[str, Result]:
        """retrain.yml's shell steps, read from the file, run in the job's clone as CI runs them
        (stops at the first failure)."""
        given = {"LOGS_SOURCE": str(logs), "DRY_RUN": "false", "BASE_BRANCH": "main",
                 "GITHUB_TOKEN": self.github.token}  # fmt: skip
        runner = {"GITHUB_API_URL": self.api_url, "GITHUB_REPOSITORY": REPO,
                  "GITHUB_SERVER_URL": "https://github.com"}  # fmt: skip
        done: dict[str, Result] = {}
        steps = [
            *shell_steps(RETRAIN_WORKFLOW, "drift", given, ids=DRIFT_STEP_IDS),
            *shell_steps(RETRAIN_WORKFLOW, "retrain", given, ids=["retrain"]),
        ]
        for step in steps:
            completed = subprocess.run(
                step.argv, cwd=self.job.path, env={**self.job.env, **runner, **step.env},
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            done[step.id] = Result(("step", step.id), completed.returncode, completed.stdout,
                                   completed.stderr)  # fmt: skip
            if completed.returncode != 0:
                break
        return done

    def drift(self, logs: Path, out: str) -> Result:
        return self.job.run(
            "mlgitops", "drift", "--reference", REFERENCE, "--current", str(logs), "--out", out
        )

    def retrain(self) -> Result:
        return self.job.run(
            "mlgitops", "retrain-pr", "--drift", DRIFT_DIR, "--repo", REPO, "--base", "main",
            extra_env={"GITHUB_TOKEN": self.github.token, "GITHUB_API_URL": self.api_url},
        )  # fmt: skip

    def bare_git(self, *args: str) -> str:
        return git(self.origin.main, "--git-dir", str(self.origin.bare), *args)

    def remote_files(self) -> set[str]:
        files = self.remote.rglob("*")
        return {path.relative_to(self.remote).as_posix() for path in files if path.is_file()}


def _labelled(base: pd.DataFrame, start: int, count: int) -> pd.DataFrame:
    """Real customers' rows under new ids (valid by construction), labels as they were."""
    rows = base.iloc[start : start + count].copy()
    rows["customer_id"] = [f"N{start + i:06d}" for i in range(count)]
    return rows


def _write_logs(folder: Path, reference: pd.DataFrame, *, shifted: bool, seed: int) -> Path:
    """Request log lines as the service writes them, drawn from the training reference; shifted:
    monthly charges up 30% and most customers on month-to-month contracts."""
    rows = reference.sample(n=LOGGED_ROWS, random_state=seed).reset_index(drop=True)
    if shifted:
        rows["monthly_charges"] = (rows["monthly_charges"] * 1.3).round(2)
        rows.loc[rows.index % 10 < 8, "contract"] = "Month-to-month"
    inputs = json.loads(rows.drop(columns=[SCORE]).to_json(orient="records"))
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "requests-worker0.jsonl").open("w") as handle:
        for values, score in zip(inputs, rows[SCORE], strict=True):
            outputs = {SCORE: float(score), "churn": bool(score >= 0.5)}
            line = {"time": "2026-11-23T05:00:00+00:00", "endpoint": "predict",
                    "customer_id_hmac": "ab" * 32, "model_sha256": "cd" * 32,
                    "inputs": values, "outputs": outputs}  # fmt: skip
            handle.write(json.dumps(line) + "\n")
    return folder


@pytest.fixture(scope="module")
def scene(golden: Golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("retrain")
    origin = make_origin(golden.checkout.copy_to(root / "main" / "repo"), root)
    remote = copy_remote(origin, root / "dvc-remote")  # the team's DVC remote
    job = develop(origin, root / "job" / "repo", "scheduled-job", remote)
    pulled = job.run("dvc", "pull", "--quiet")
    assert pulled.returncode == 0, str(pulled)
    github = FakeGitHub()
    github.add_repo(REPO)
    github.link_git(REPO, origin.bare)
    base_rows = pd.read_csv(job.path / DATA, dtype=str, keep_default_na=False)
    reference = pd.read_parquet(job.path / REFERENCE)
    with github.serve() as api_url:
        yield Scene(origin, job, remote, github, api_url, root, base_rows, reference)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first(scene: Scene) -> Result:
    """Drift found; 40 new customers and 5 relabelled ones land in retrain.incoming."""
    incoming = scene.job.path / INCOMING
    incoming.mkdir(parents=True)
    batch = _labelled(scene.base_rows, 100, NEW_IDS)
    relabelled = scene.base_rows.iloc[:RELABELLED].copy()
    relabelled["churn"] = relabelled["churn"].map({"Yes": "No", "No": "Yes"})
    pd.concat([batch, relabelled]).to_csv(incoming / "2026-11-01.csv", index=False)
    logs = _write_logs(scene.root / "logs-shifted", scene.reference, shifted=True, seed=1)
    steps = scene.workflow(logs)
    assert list(steps) == list(WORKFLOW_STEP_IDS), {k: str(v) for k, v in steps.items()}
    assert "drift: exit 3" in steps["drift"].stdout, str(steps["drift"])  # due: not a failure
    scene.runs["first"] = result = steps["retrain"]
    return result


@pytest.fixture(scope="module")
def second(scene: Scene, first: Result) -> Result:
    """More labelled data, a second run: the same PR gets a new commit."""
    assert first.returncode == 0, str(first)
    batch = _labelled(scene.base_rows, 500, MORE_IDS)
    batch.to_parquet(scene.job.path / INCOMING / "2026-11-08.parquet", index=False)
    steps = scene.workflow(scene.root / "logs-shifted")
    scene.runs["second"] = result = steps["retrain"]
    return result


def _branch(scene: Scene) -> str:
    return f"retrain/{datetime.now(UTC).date().isoformat()}"


def test_not_due_does_nothing(scene: Scene, tmp_path: Path) -> None:
    logs = _write_logs(tmp_path / "logs", scene.reference, shifted=False, seed=2)
    folder = tmp_path / "calm"
    drift = scene.drift(logs, str(folder))
    assert drift.returncode == 0, str(drift)
    seen = len(scene.github.seen)
    result = scene.job.run(
        "mlgitops", "retrain-pr", "--drift", str(folder), "--repo", REPO,
        extra_env={"GITHUB_TOKEN": scene.github.token, "GITHUB_API_URL": scene.api_url},
    )  # fmt: skip
    assert result.returncode == 0, str(result)
    assert "not due" in result.stderr
    assert scene.github.seen[seen:] == []


def test_the_first_run_opens_one_pr_changing_only_the_pointer(scene: Scene, first: Result) -> None:
    assert first.returncode == 0, str(first)
    (pull,) = scene.github.pulls(REPO)
    branch = _branch(scene)
    assert pull["state"] == "open" and pull["head"]["ref"] == branch
    assert pull["base"]["ref"] == "main"
    assert pull["title"] == "Retrain on newly labelled data"
    assert [label["name"] for label in pull["labels"]] == ["retraining"]
    changed = scene.bare_git("diff", "--name-only", "main", branch).splitlines()
    assert changed == [POINTER]
    assert pull["head"]["sha"] == scene.bare_git("rev-parse", branch)
    # The body is the drift report, then the data change.
    body = pull["body"]
    drift_md = (scene.job.path / DRIFT_DIR / "drift.md").read_text().strip()
    assert drift_md.splitlines()[0] in body and body.index(drift_md.splitlines()[0]) < 40
    drifted = json.loads((scene.job.path / DRIFT_DIR / "drift.json").read_text())["drifted"]
    assert {"monthly_charges", "contract"} <= set(drifted)
    for name in ("monthly_charges", "contract"):
        assert name in body
    # The drift pictures are committed to the assets branch and linked, pinned by commit.
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert len(links) >= 2, body
    for link in links:
        assert link.startswith(f"{scene.api_url}/{REPO}/blob/") and "/pr-" in link, link
        picture = httpx.get(link, timeout=10)
        assert picture.content.startswith(b"\x89PNG\r\n\x1a\n"), link
    before = len(scene.base_rows)
    assert f"| {before} | {before + NEW_IDS} | {NEW_IDS} | {RELABELLED} | 0 |" in body
    assert f"PR #{pull['number']}" in first.stderr


def test_the_pushed_snapshot_is_in_the_dvc_remote_and_holds_the_rows(
    scene: Scene, first: Result
) -> None:
    assert first.returncode == 0, str(first)
    pointer = scene.bare_git("show", f"{_branch(scene)}:{POINTER}")
    md5 = re.search(r"md5: ([0-9a-f]{32})", pointer)
    assert md5 is not None, pointer
    stored = scene.remote / "files" / "md5" / md5[1][:2] / md5[1][2:]
    assert stored.is_file(), sorted(scene.remote_files())[:5]
    table = pd.read_csv(stored, dtype=str, keep_default_na=False)
    base = scene.base_rows
    assert len(table) == len(base) + NEW_IDS
    assert table["customer_id"].is_unique
    # Untouched rows keep their place and bytes; relabelled rows moved to the end, flipped.
    kept = base.iloc[RELABELLED:].reset_index(drop=True)
    pd.testing.assert_frame_equal(table.iloc[: len(kept)], kept)
    moved = table.set_index("customer_id").loc[base["customer_id"][:RELABELLED], "churn"]
    assert list(moved) != list(base["churn"][:RELABELLED])


def test_a_second_run_updates_the_same_pr_with_a_new_commit(
    scene: Scene, first: Result, second: Result
) -> None:
    assert second.returncode == 0, str(second)
    (pull,) = scene.github.pulls(REPO)
    branch = _branch(scene)
    commits = scene.bare_git("rev-list", f"main..{branch}").splitlines()
    assert len(commits) == 2
    assert scene.bare_git("diff", "--name-only", "main", branch).splitlines() == [POINTER]
    assert len(scene.github.calls("POST", r"/pulls$")) == 1
    assert scene.github.calls("PATCH", rf"/pulls/{pull['number']}$")  # updated in place
    before = len(scene.base_rows)
    after = before + NEW_IDS + MORE_IDS
    assert f"| {before} | {after} | {NEW_IDS + MORE_IDS} | {RELABELLED} | 0 |" in pull["body"]
    assert "updated PR" in second.stderr


def test_bad_labelled_data_stops_before_anything_is_pushed(scene: Scene, second: Result) -> None:
    assert second.returncode == 0, str(second)
    job = scene.job
    bad = _labelled(scene.base_rows, 900, 3)
    bad.loc[bad.index[1], "tenure"] = "-4"
    path = job.path / INCOMING / "2026-11-15.csv"
    bad.to_csv(path, index=False)
    remote_before, seen_before = scene.remote_files(), len(scene.github.seen)
    refs_before = scene.bare_git("for-each-ref")
    pointer_before = (job.path / POINTER).read_text()
    data_before = _md5(job.path / DATA)
    try:
        result = scene.retrain()
    finally:
        path.unlink()
    assert result.returncode == 1, str(result)
    assert "tenure" in result.stderr and "Traceback" not in result.stderr
    assert "nothing was pushed" in result.stderr
    assert (job.path / POINTER).read_text() == pointer_before
    assert _md5(job.path / DATA) == data_before
    assert git(job, "status", "--porcelain", "--untracked-files=no") == ""
    assert scene.remote_files() == remote_before
    assert scene.bare_git("for-each-ref") == refs_before
    writes = [s for s in scene.github.seen[seen_before:] if s.method != "GET"]
    assert writes == []


@pytest.fixture(scope="module")
def ci(scene: Scene, second: Result) -> CiRun:
    """pr.yml on the retraining PR's branch, as for any pull request."""
    assert second.returncode == 0, str(second)
    (pull,) = scene.github.pulls(REPO)
    run = ci_run(
        scene.origin, scene.root / "ci" / "repo", branch=pull["head"]["ref"],
        pr=int(pull["number"]), remote=scene.remote,
        extra_env={"MPLCONFIGDIR": str(scene.root / "matplotlib")},
    )  # fmt: skip
    print(run.timings())
    return run


def test_the_pr_loop_reports_the_data_change(scene: Scene, ci: CiRun) -> None:
    assert ci.ran == list(CI_STEP_IDS), ci
    for step in ("fetch-data", "pull", "repro", "report"):
        assert ci.step(step).returncode == 0, f"[{step}] {ci.step(step)}"
    assert ci.repro.ran[:2] == ["prepare", "validate"], str(ci.repro)
    report = json.loads((ci.report_dir / "report.json").read_text())
    (entry,) = [item for item in report["data"] if item["path"] == DATA]
    before = len(scene.base_rows)
    assert entry["change"] == "modified"
    assert (entry["old"]["rows"], entry["new"]["rows"]) == (before, before + NEW_IDS + MORE_IDS)
    markdown = (ci.report_dir / "report.md").read_text()
    (row,) = [line for line in markdown.splitlines() if line.startswith(f"| {DATA} |")]
    assert "| modified |" in row and f"{before:,} → {before + NEW_IDS + MORE_IDS:,}" in row


def test_a_dry_run_validates_and_prints_the_body_but_pushes_nothing(
    scene: Scene, second: Result
) -> None:
    assert second.returncode == 0, str(second)
    job = scene.job
    path = job.path / INCOMING / "2026-11-20.csv"
    _labelled(scene.base_rows, 1200, 3).to_csv(path, index=False)
    remote_before, seen_before = scene.remote_files(), len(scene.github.seen)
    refs_before = scene.bare_git("for-each-ref")
    pointer_before = (job.path / POINTER).read_text()
    try:
        result = job.run("mlgitops", "retrain-pr", "--drift", DRIFT_DIR, "--dry-run")
    finally:
        path.unlink()
    assert result.returncode == 0, str(result)
    rows = len(scene.base_rows) + NEW_IDS + MORE_IDS  # what the PR branch (checked out) holds
    earlier = NEW_IDS + RELABELLED + MORE_IDS  # the earlier files' rows: already on the branch
    assert f"| {rows} | {rows + 3} | 3 | 0 | {earlier} |" in result.stdout
    assert "dry run: nothing pushed" in result.stderr
    assert (job.path / POINTER).read_text() == pointer_before
    assert git(job, "status", "--porcelain", "--untracked-files=no") == ""
    assert scene.remote_files() == remote_before
    assert scene.bare_git("for-each-ref") == refs_before
    assert len(scene.github.seen) == seen_before


def test_a_run_with_nothing_new_refreshes_the_open_prs_report_only(
    scene: Scene, second: Result
) -> None:
    assert second.returncode == 0, str(second)
    (before,) = scene.github.pulls(REPO)
    refs_before, remote_before = scene.bare_git("for-each-ref"), scene.remote_files()
    patches = len(scene.github.calls("PATCH", r"/pulls/\d+$"))
    result = scene.retrain()
    assert result.returncode == 0, str(result)
    assert f"PR #{before['number']} already has these rows" in result.stderr
    (after,) = scene.github.pulls(REPO)
    assert after["number"] == before["number"]
    assert scene.bare_git("for-each-ref") == refs_before  # no new commit, no new branch
    assert scene.remote_files() == remote_before
    assert len(scene.github.calls("PATCH", r"/pulls/\d+$")) > patches
