"""`mlgitops init` on real git+DVC repositories of different layouts, built and reproduced here.

Each generated workflow must pass actionlint, zizmor (offline, no finding) and GitHub's workflow
schema; a second run changes nothing; --dry-run writes nothing; an edited workflow survives
unless --force; a directory that is not git, not DVC or has no pipeline gets exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlgitops.policy import load_policy
from tests.adopt_repos import LAYOUTS, OLD_STYLE, WRITE_PY, make_repo, reproduce, run

BIN = Path(sys.executable).parent
SHA = "0123456789abcdef0123456789abcdef01234567"
PIN = ("--repo", "octo/mlgitops", "--sha", SHA)
WORKFLOWS = (".github/workflows/mlgitops-pr.yml", ".github/workflows/mlgitops-comment.yml")
_TIMEOUT_SECONDS = 120

# The rules init proposes per layout: (metric, better, max_worsening), and what it leaves out.
EXPECTED = {
    "nested": ([("test.roc_auc", "higher", 0.01), ("test.log_loss", "lower", 0.01)], ["rows"]),
    "foreach": ([("accuracy", "higher", 0.01), ("rmse", "lower", 0.075)], ["latency_ms"]),
    "old-style": ([("f1", "higher", 0.01), ("mape", "lower", 0.01), ("r2", "higher", 0.01)], []),
}


def init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mlgitops"), "init", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file outside .git and .dvc/cache, by path: what a run may have changed."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts and "cache" not in path.parts
    }


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS
    )


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    root = make_repo(tmp_path / request.param, LAYOUTS[request.param])
    reproduce(root)
    return request.param, root


def test_init_writes_workflows_that_lint_clean_and_a_gate_from_the_metrics(
    layout: tuple[str, Path],
) -> None:
    name, root = layout
    done = init(root, *PIN)
    assert done.returncode == 0, done.stderr
    rules, ungated = EXPECTED[name]
    policy = load_policy(root / "params.yaml")
    assert [(rule.metric, rule.better, rule.max_worsening) for rule in policy] == rules
    for key in ungated:
        assert key in done.stdout.split("not gated")[1].splitlines()[0]
    assert "report/" in (root / ".gitignore").read_text().splitlines()
    for path in WORKFLOWS:
        text = (root / path).read_text()
        assert f"octo/mlgitops/.github/workflows/reusable-{path.split('-')[-1]}" in text
        assert f"@{SHA}" in text
    assert "next: commit these files" in done.stdout
    assert "is a local directory, which GitHub's runners cannot reach" in done.stdout

    actionlint = tool("actionlint", *WORKFLOWS, cwd=root)
    assert actionlint.returncode == 0, actionlint.stdout
    zizmor = tool("zizmor", "--offline", ".github/", cwd=root)
    assert zizmor.returncode == 0, zizmor.stdout
    assert "No findings to report" in zizmor.stdout
    schema = tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS, cwd=root
    )
    assert schema.returncode == 0, schema.stdout

    before = snapshot(root)
    again = init(root, *PIN)
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == before
    assert "nothing to change" in again.stdout


def test_dry_run_prints_the_diffs_and_writes_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", LAYOUTS["nested"])
    reproduce(root)
    before = snapshot(root)
    done = init(root, *PIN, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert snapshot(root) == before
    for path in (*WORKFLOWS, ".gitignore", "params.yaml"):
        assert f"+++ b/{path}" in done.stdout
    assert "+  - metric: test.roc_auc" in done.stdout
    assert "would write:" in done.stdout


def test_an_edited_workflow_survives_and_force_overwrites_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", LAYOUTS["old-style"])
    reproduce(root)
    assert init(root, *PIN).returncode == 0
    pr = root / WORKFLOWS[0]
    edited = pr.read_text().replace("contents: read", "contents: read\n      packages: read")
    pr.write_text(edited)
    # A new pin: the untouched comment workflow follows it, the edited one is kept.
    other = "f" * 40
    done = init(root, "--repo", "octo/mlgitops", "--sha", other)
    assert done.returncode == 0, done.stderr
    assert pr.read_text() == edited
    assert f"kept {WORKFLOWS[0]}: edited since mlgitops init wrote it" in done.stdout
    assert "--force overwrites it" in done.stdout
    assert f"@{other}" in (root / WORKFLOWS[1]).read_text()

    forced = init(root, "--repo", "octo/mlgitops", "--sha", other, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "packages: read" not in pr.read_text()
    assert f"@{other}" in pr.read_text()


def test_an_existing_gate_is_left_as_it_is(tmp_path: Path) -> None:
    files = {**OLD_STYLE, "params.yaml": "gate:\n  - metric: f1\n    better: higher\n"}
    root = make_repo(tmp_path / "r", files)
    reproduce(root)
    done = init(root, *PIN)
    assert done.returncode == 0, done.stderr
    assert (root / "params.yaml").read_text() == files["params.yaml"]
    assert "kept params.yaml: already has a gate: section" in done.stdout


def test_no_metric_to_gate_means_a_report_only_workflow(tmp_path: Path) -> None:
    files = {
        "write.py": WRITE_PY,
        "dvc.yaml": "stages:\n  count:\n    cmd: python write.py m.json rows=3\n"
        "    metrics:\n      - m.json:\n          cache: false\n",
    }
    root = make_repo(tmp_path / "r", files)
    reproduce(root)
    done = init(root, *PIN)
    assert done.returncode == 0, done.stderr
    assert not (root / "params.yaml").exists()
    workflow = yaml.safe_load((root / WORKFLOWS[0]).read_text())
    assert workflow["jobs"]["reproduce"]["with"]["gate"] is False
    assert "m.json: rows" in done.stdout


@pytest.mark.parametrize(
    ("kind", "words"),
    [("plain", "git init"), ("git", "dvc init"), ("dvc", "no DVC pipeline")],
)
def test_what_is_missing_is_one_sentence_and_exit_2(tmp_path: Path, kind: str, words: str) -> None:
    root = tmp_path / "r"
    root.mkdir()
    if kind != "plain":
        make_repo(root, {"README.md": "x\n"}, dvc=kind == "dvc")
    done = init(root, *PIN)
    assert done.returncode == 2
    assert words in done.stderr
    assert not (root / ".github").exists()


def test_a_pin_that_is_not_a_full_sha_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", LAYOUTS["nested"])
    done = init(root, "--repo", "octo/mlgitops", "--sha", "main")
    assert done.returncode == 2
    assert "'main' is not a full 40-character commit sha" in done.stderr


def test_dry_run_on_this_repository_writes_nothing() -> None:
    """Its speed is measured, not asserted: docs/benchmarks.md, Adoption."""
    root = Path(__file__).resolve().parents[2]
    before = _status(root)
    done = init(root, *PIN, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "mlgitops-pr.yml" in done.stdout
    assert _status(root) == before


def _status(root: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_git_identity_is_not_needed_to_read(tmp_path: Path) -> None:
    # init only reads git through DVC; a repository without commits is still adoptable.
    root = tmp_path / "r"
    root.mkdir()
    run("git", "init", "--quiet", cwd=root)
    run("dvc", "init", "--quiet", cwd=root)
    (root / "dvc.yaml").write_text("stages:\n  a:\n    cmd: echo 1 > a.txt\n    outs: [a.txt]\n")
    done = init(root, *PIN, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "found: 1 stage(s) in dvc.yaml" in done.stdout
