"""The pull-request loop end to end: push, reproduce, report, gate, comment, as CI runs it.

A temporary origin holds the base on `main`, reproduced and pushed with its run-cache. Each test
is a pull request: a developer branches, changes something and pushes; CI clones the PR head
fresh and runs the shell steps of `.github/workflows/pr.yml` read from the file itself
(tests/pr_loop.py); the publisher runs pr-comment.yml's `validate` and `comment` steps against a
local stand-in of GitHub's API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from churn.io import load_params
from tests.checkout import Checkout, Golden
from tests.corpus import assert_report_names, out_of_range
from tests.pr_loop import (
    CI_STEP_IDS,
    REPO,
    CiRun,
    Origin,
    StepRun,
    ci_run,
    develop,
    make_origin,
    pr_remote,
    publish,
    push_commit,
    restored,
    set_param,
)
from tests.standins.github import FakeGitHub

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
_METRIC_ROW = re.compile(r"^\| (\S+) \| (\S+) \| (\S+) \| (\S+) \| (\S+) \|$", re.MULTILINE)


@dataclass(frozen=True)
class Loop:
    """The scene every test shares: origin with its base, the GitHub stand-in, a work area."""

    origin: Origin
    github: FakeGitHub
    api_url: str
    root: Path
    mpl: dict[str, str]  # one matplotlib cache for every run: font discovery once, not per clone

    def open_pr(self, name: str) -> tuple[Checkout, Path]:
        """A developer's branch `name` and the PR's own DVC remote (the base's, copied)."""
        remote = pr_remote(self.origin, self.root / name / "remote")
        return develop(self.origin, self.root / name / "dev" / "repo", name, remote), remote

    def ci(self, name: str, pr: int, remote: Path, attempt: int = 1) -> CiRun:
        """pr.yml for this PR's branch head, in a fresh clone."""
        destination = self.root / name / f"ci-{attempt}" / "repo"
        run = ci_run(
            self.origin, destination, branch=name, pr=pr, remote=remote, extra_env=self.mpl
        )
        self.github.add_pull(REPO, pr, head_sha=run.head_sha)  # GitHub knows the PR's head
        print(run.timings())  # shown by pytest for a failed or slow test (-rP)
        return run

    def publish(self, run: CiRun) -> list[StepRun]:
        steps = publish(
            self.origin,
            run,
            api_url=self.api_url,
            token=self.github.token,
            workdir=self.root / f"publish-{run.pr}",
        )
        print(f"publish PR {run.pr}: " + " ".join(f"{s.id}={s.seconds:.1f}" for s in steps))
        for step in steps:
            assert step.result.returncode == 0, f"[{step.id}] {step.result}"
        assert [step.id for step in steps] == ["validate", "comment"]
        return steps

    def comments(self, pr: int) -> list[dict[str, Any]]:
        return [dict(comment) for comment in self.github.comments(REPO, pr)]


@pytest.fixture(scope="module")
def loop(golden: Golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("pr-loop")
    origin = make_origin(golden.checkout.copy_to(root / "main" / "repo"), root)
    github = FakeGitHub()
    github.add_repo(REPO)
    # The base's policy, which the publisher reads at the PR's base commit.
    github.add_files(REPO, {"params.yaml": (origin.main.path / "params.yaml").read_bytes()})
    with github.serve() as api_url:
        yield Loop(origin, github, api_url, root, {"MPLCONFIGDIR": str(root / "matplotlib")})


@dataclass(frozen=True)
class ParamsPr:
    """A PR that changes one training parameter, reproduced and published once."""

    pr: int
    dev: Checkout
    remote: Path
    run: CiRun
    comment: dict[str, Any]  # the comment as GitHub had it right after this run's publish


@pytest.fixture(scope="module")
def params_pr(loop: Loop) -> ParamsPr:
    dev, remote = loop.open_pr("tune")
    set_param(dev.path / "params.yaml", "learning_rate", 0.05)
    push_commit(dev, "Train with a higher learning rate", "params.yaml")
    run = loop.ci("tune", 7, remote)
    assert run.ran == list(CI_STEP_IDS), run
    for step in run.steps:
        assert step.result.returncode == 0, f"[{step.id}] {step.result}"
    loop.publish(run)
    (comment,) = loop.comments(7)
    return ParamsPr(7, dev, remote, run, comment)


def _dvc_json(checkout: Checkout, *command: str) -> Any:
    result = checkout.run("dvc", *command, "--json")
    assert result.returncode == 0, str(result)
    return json.loads(result.stdout)


def _report(run: CiRun) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run.report_dir / "report.json").read_text())
    return loaded


def _table_numbers(body: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(file, metric) -> (base, head) cells of the comment's metrics table."""
    section = body.split("#### Full metrics", 1)[1].split("####", 1)[0]
    return {
        (row[0], row[1]): (row[2], row[3])
        for row in _METRIC_ROW.findall(section)
        if row[0] not in ("File", "---")
    }


def _cell_value(cell: str) -> float | None:
    return None if cell == "-" else float(cell)


def test_a_params_pr_runs_only_the_training_stages(params_pr: ParamsPr, loop: Loop) -> None:
    """prepare and validate are not run: their outputs come from what the base's run pushed.

    The base committed its dvc.lock, so the PR's lock still matches prepare and validate: the
    pull step fetches their outputs from the remote, and `dvc repro` finds them unchanged.
    """
    repro = params_pr.run.repro
    assert repro.ran == ["train_params", "train", "evaluate"], str(repro)
    assert repro.skipped == ["prepare", "validate"], str(repro)
    # A fresh clone has no DVC cache: the pull step is where their outputs came from.
    pulled = params_pr.run.step("pull").output
    assert "data/prepared/train.parquet" in pulled, pulled
    upstream = ("data/prepared", "reports/validation.json")  # not evaluate's predictions
    assert params_pr.run.checkout.digests(*upstream) == loop.origin.main.digests(*upstream)


def test_the_report_metrics_and_params_are_dvcs_own_diff(params_pr: ParamsPr) -> None:
    run = params_pr.run
    report = _report(run)
    with ThreadPoolExecutor(max_workers=2) as pool:
        metrics = pool.submit(_dvc_json, run.checkout, "metrics", "diff", run.base_sha)
        params = pool.submit(_dvc_json, run.checkout, "params", "diff", run.base_sha)
        assert report["metrics"] == metrics.result()
        assert report["params"] == params.result()
    assert report["params"] == {"params.yaml": {"train.learning_rate": {
        "old": 0.03, "new": 0.05, "diff": pytest.approx(0.02)}}}  # fmt: skip
    assert "test.roc_auc" in report["metrics"]["metrics.json"]
    assert report["base"]["sha"] == run.base_sha and report["head"]["sha"] == run.head_sha
    assert report["pipeline"]["status"] == "ok"
    assert [stage["stage"] for stage in report["stages"]] == ["train_params", "train", "evaluate"]


def test_the_report_says_whether_each_change_is_real(params_pr: ParamsPr) -> None:
    """The base's predictions come through DVC in a fresh CI clone: paired intervals for every
    test metric the pipeline writes, gated ones first, on the pipeline's own figures."""
    report = _report(params_pr.run)
    evidence = report["evidence"]
    assert evidence["status"] == "paired", evidence["note"]
    assert evidence["rows"] == {"base": 1376, "head": 1376, "shared": 1376}
    assert list(evidence["metrics"])[:2] == ["test.roc_auc", "test.log_loss"]  # the gate's
    assert len(evidence["metrics"]) == 6
    changed = report["metrics"]["metrics.json"]  # DVC's diff: the metrics that changed
    assert "test.roc_auc" in changed
    for key, record in evidence["metrics"].items():
        if key in changed:
            assert record["base"] == pytest.approx(changed[key]["old"], abs=2e-6), key
            assert record["head"] == pytest.approx(changed[key]["new"], abs=2e-6), key
        low, high = record["delta_ci"]
        assert low <= record["delta"] <= high, (key, record)
        assert record["label"] in ("better", "worse", "within noise"), record
    assert evidence["slices"] and evidence["worst_slice"] is not None


def test_the_comment_carries_the_reports_numbers_and_images(
    params_pr: ParamsPr, loop: Loop
) -> None:
    body = str(params_pr.comment["body"])
    assert body.startswith(f"<!-- mlgitops-report pr={params_pr.pr} -->")
    report = _report(params_pr.run)
    shown = _table_numbers(body)
    expected = {
        (path, key): (entry["old"], entry["new"])
        for path, entries in report["metrics"].items()
        for key, entry in entries.items()
    }
    assert set(shown) == set(expected), body
    for where, (old, new) in expected.items():
        cells = shown[where]
        assert _cell_value(cells[0]) == pytest.approx(old, abs=1e-5), (where, cells)
        assert _cell_value(cells[1]) == pytest.approx(new, abs=1e-5), (where, cells)
    roc = report["metrics"]["metrics.json"]["test.roc_auc"]
    old, new = (format(round(roc[side], 5), ".10g") for side in ("old", "new"))
    assert f"| **test.roc_auc** | {old} | {new} |" in body
    assert "Quality gate: passed" in body

    links = _IMAGE_LINK.findall(body)
    assert len(links) == len(report["plots"]) == 5, links
    head = params_pr.run.head_sha
    for link, plot in zip(links, report["plots"], strict=True):
        name = Path(plot["image"]).name
        pinned = re.fullmatch(
            rf"{loop.api_url}/{REPO}/blob/([0-9a-f]{{40}})/pr-{params_pr.pr}/{head}/{name}\?raw=true",
            link,
        )
        assert pinned, link
        sent = (params_pr.run.report_dir / plot["image"]).read_bytes()
        assert sent.startswith(PNG_SIGNATURE)
        assert loop.github.file_at(REPO, pinned[1], f"pr-{params_pr.pr}/{head}/{name}") == sent
        assert httpx.get(link).content == sent  # the link itself serves the picture


def test_a_second_push_edits_the_same_comment(params_pr: ParamsPr, loop: Loop) -> None:
    """A docs-only push: a new head, the same numbers, the same comment edited."""
    readme = params_pr.dev.path / "README.md"
    readme.write_text(readme.read_text() + "\nA higher learning rate, see the PR comment.\n")
    push_commit(params_pr.dev, "Say why", "README.md")
    second = loop.ci("tune", params_pr.pr, params_pr.remote, attempt=2)
    for step in second.steps:
        assert step.result.returncode == 0, f"[{step.id}] {step.result}"
    repro = second.repro
    assert repro.skipped == ["prepare", "validate"], str(repro)
    # The PR's dvc.lock is still the base's, so the training stages are reproduced again:
    # train_params and train come back from the run-cache the first run pushed; evaluate's
    # outputs are cache: false, which the run-cache cannot restore on a fresh runner, so it
    # runs (see docs/pr-loop.md).
    assert restored(repro) == ["train_params", "train"], str(repro)
    assert repro.ran == ["evaluate"], str(repro)
    assert _report(second)["metrics"] == _report(params_pr.run)["metrics"]

    loop.publish(second)

    (comment,) = loop.comments(params_pr.pr)  # one comment in total
    assert len(loop.github.calls("POST", rf"/issues/{params_pr.pr}/comments$")) == 1
    assert comment["id"] == params_pr.comment["id"]
    body = str(comment["body"])
    assert body != params_pr.comment["body"]
    assert f"on `{second.head_sha[:7]}`" in body
    assert f"/pr-{params_pr.pr}/{second.head_sha}/" in body
    assert params_pr.run.head_sha not in body


def test_a_worse_model_fails_the_gate(loop: Loop) -> None:
    dev, remote = loop.open_pr("tiny-model")
    set_param(dev.path / "params.yaml", "num_boost_round", 3)
    push_commit(dev, "Train three rounds only", "params.yaml")

    run = loop.ci("tiny-model", 8, remote)

    assert run.ran == list(CI_STEP_IDS), run
    assert run.repro.ran == ["train_params", "train", "evaluate"], str(run.repro)
    assert run.step("gate").returncode == 1, str(run.step("gate"))
    assert run.step("pr-json").returncode == 0  # the report still goes out
    roc = next(line for line in _report(run)["headline"] if line["metric"] == "test.roc_auc")
    assert roc["verdict"] == "worse" and roc["diff"] < -0.01, roc
    gate_md = (run.report_dir / "gate.md").read_text()
    assert "Quality gate: failed" in gate_md
    broken = [line for line in gate_md.splitlines() if line.startswith("- ")]
    assert any("test.roc_auc dropped by" in line for line in broken), gate_md

    loop.publish(run)

    (comment,) = loop.comments(8)
    body = str(comment["body"])
    opening = body.split("\n\n")[1]  # right under the hidden marker
    assert opening.startswith("❌ **Gate failed**: test.roc_auc "), body[:500]
    assert (
        body.index("**test.roc_auc**")
        < body.index("Quality gate: failed")
        < body.index("#### Full metrics")
    )
    base = loop.github.repos[REPO].pulls[8]["base"]["sha"]  # the publisher decides, at the base
    base_policy = f"(params.yaml at base {base[:7]} gate)"
    for line in broken:
        assert line.replace("(params.yaml gate)", base_policy) in body


def test_bad_data_fails_the_pr_with_the_validation_report_in_the_comment(
    loop: Loop, golden: Golden
) -> None:
    """A data pointer PR whose new table breaks the schema: red at validate, explained."""
    dev, remote = loop.open_pr("new-data")
    good = (golden.checkout.path / "data/raw/telco_churn.csv").read_bytes()
    bad, breakage = out_of_range(good, load_params("validate", dev.path / "params.yaml"))
    (dev.path / "data/raw/telco_churn.csv").write_bytes(bad)
    for command in (("add", "data/raw/telco_churn.csv"), ("push", "data/raw/telco_churn.csv.dvc")):
        result = dev.run("dvc", *command)
        assert result.returncode == 0, str(result)
    push_commit(dev, "New customer snapshot", "data/raw/telco_churn.csv.dvc")

    run = loop.ci("new-data", 9, remote)

    assert run.ran == list(CI_STEP_IDS), run
    repro = run.repro
    assert repro.returncode != 0
    assert repro.ran == ["prepare", "validate"], str(repro)
    assert "failed to reproduce 'validate'" in repro.stdout, str(repro)
    assert run.step("report").returncode == 0, str(run.step("report"))
    assert run.step("gate").returncode == 1, str(run.step("gate"))
    report = _report(run)
    assert report["pipeline"]["status"] == "failed"
    assert report["pipeline"]["failed_stage"] == "validate"
    changed = {entry["path"]: entry for entry in report["data"]}
    raw = changed["data/raw/telco_churn.csv"]
    assert raw["change"] == "modified" and raw["new"]["size"] == len(bad), raw
    gate_md = (run.report_dir / "gate.md").read_text()
    (broken,) = [line for line in gate_md.splitlines() if line.startswith("- ")]
    assert "the pipeline failed at stage 'validate'" in broken, gate_md

    loop.publish(run)

    (comment,) = loop.comments(9)
    body = str(comment["body"])
    assert "the pipeline failed** at stage `validate`" in body and broken in body
    validation = json.loads((run.checkout.path / "reports/validation.json").read_text())
    assert_report_names(validation, body, breakage)  # column, rule, lines and customers
