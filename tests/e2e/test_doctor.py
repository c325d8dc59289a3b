"""`mlgitops doctor` run as a user runs it: one real git+DVC repository per break.

A clean repository is built and reproduced once (git init, dvc init, a default remote, params,
a Python stage script, `dvc repro`, commit); each test copies it, makes one break, commits,
and checks that doctor names exactly that break (check, file, line) and exits 1. The clean
copy, and a fresh clone of this repository, must get exit 0 and no finding.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from tests.adopt_repos import LAYOUTS, make_repo, run

MLGITOPS = str(Path(sys.executable).with_name("mlgitops"))
REPO_ROOT = Path(__file__).resolve().parents[2]
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
_TIMEOUT_SECONDS = 120

TRAIN_PY = dedent(
    """\
    import json

    import yaml

    params = yaml.safe_load(open("params.yaml"))
    lr = params["train"]["lr"]
    rows = open("data/rows.csv").read().splitlines()
    scores = {"test": {"auc": 0.8 + lr / 10, "rows": len(rows)}}
    json.dump(scores, open("metrics.json", "w"))
    open("roc.csv", "w").write("fpr,tpr\\n0,0\\n1,1\\n")
    """
)
DVC_YAML = dedent(
    """\
    stages:
      train:
        cmd: python train.py
        deps:
          - train.py
          - data/rows.csv
        params:
          - train.lr
        metrics:
          - metrics.json:
              cache: false
        plots:
          - roc.csv:
              cache: false
              x: fpr
              y: tpr
    """
)
PARAMS_YAML = dedent(
    """\
    train:
      lr: 0.1
      epochs: 3
    gate:
      - metric: test.auc
        better: higher
        at_least: 0.5
    """
)
PR_YML = dedent(
    f"""\
    on:
      pull_request:
    permissions:
      contents: read
    jobs:
      report:
        runs-on: ubuntu-24.04
        steps:
          - uses: actions/checkout@{SHA} # v4.2.2
          - run: mlgitops report --base "$BASE_SHA"
    """
)
CLEAN = {
    "train.py": TRAIN_PY,
    "dvc.yaml": DVC_YAML,
    "params.yaml": PARAMS_YAML,
    "data/rows.csv": "a\n1\n2\n",
    "extra.csv": "b\n3\n",
    ".github/workflows/pr.yml": PR_YML,
}


def doctor(root: Path, *args: str) -> tuple[int, str, str]:
    """`mlgitops doctor` in `root`: exit code, stdout, stderr (rich wrapping undone)."""
    done = subprocess.run(
        [MLGITOPS, "doctor", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, " ".join(done.stderr.split())


def findings(root: Path) -> tuple[int, list[dict[str, Any]]]:
    code, out, err = doctor(root, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


def commit(root: Path, message: str, *, repro: bool = True) -> None:
    if repro:
        run("dvc", "repro", "--quiet", cwd=root)
    run("git", "add", "--all", cwd=root)
    run("git", "commit", "--quiet", "--no-verify", "-m", message, cwd=root)


@pytest.fixture(scope="module")
def clean_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("doctor") / "clean", CLEAN)
    commit(root, "reproduced")
    return root


@pytest.fixture
def repo(clean_repo: Path, tmp_path: Path) -> Path:
    """This test's own copy of the clean repository (its DVC remote stays the shared one)."""
    return Path(shutil.copytree(clean_repo, tmp_path / "repo", symlinks=True))


def edit(root: Path, path: str, old: str, new: str) -> None:
    target = root / path
    text = target.read_text()
    assert old in text, (path, old)
    target.write_text(text.replace(old, new, 1))


def line_of(root: Path, path: str, text: str) -> int:
    lines = (root / path).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def only(root: Path) -> dict[str, Any]:
    """The one finding doctor reports, after checking it exits 1."""
    code, found = findings(root)
    assert len(found) == 1, json.dumps(found, indent=2)
    assert code == 1
    return found[0]


def test_a_clean_repository_exits_0(clean_repo: Path) -> None:
    code, out, err = doctor(clean_repo)
    assert (code, out) == (0, ""), err
    assert "follows the convention" in err


def test_json_shape(repo: Path) -> None:
    edit(repo, "dvc.yaml", "      - data/rows.csv\n", "")
    commit(repo, "undeclared dependency")
    code, out, err = doctor(repo, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == {"schema_version", "root", "checks", "errors", "warnings", "findings"}
    assert (report["schema_version"], report["errors"], report["warnings"]) == (1, 1, 0)
    assert report["root"] == str(repo.resolve())
    assert "undeclared-deps" in report["checks"] and "action-pin" in report["checks"]
    [finding] = report["findings"]
    assert set(finding) == {"check", "severity", "file", "line", "message", "why", "fix"}
    assert "1 error(s)" in err


def test_cached_metrics(repo: Path) -> None:
    edit(repo, "dvc.yaml", "- metrics.json:\n          cache: false", "- metrics.json")
    commit(repo, "cached metrics")
    finding = only(repo)
    assert finding["check"] == "cached-metrics"
    assert (finding["file"], finding["line"]) == (
        "dvc.yaml",
        line_of(repo, "dvc.yaml", "metrics.json"),
    )
    assert "cache: false" in finding["fix"]


def test_cached_plots(repo: Path) -> None:
    edit(repo, "dvc.yaml", "- roc.csv:\n          cache: false\n", "- roc.csv:\n")
    commit(repo, "cached plots")
    finding = only(repo)
    assert finding["check"] == "cached-plots"
    assert (finding["file"], finding["line"]) == ("dvc.yaml", line_of(repo, "dvc.yaml", "roc.csv"))


def test_declared_param_missing_from_params_file(repo: Path) -> None:
    edit(repo, "dvc.yaml", "- train.lr\n", "- train.lr\n      - train.momentum\n")
    commit(repo, "a param that is not there", repro=False)  # dvc repro itself refuses
    finding = only(repo)
    assert finding["check"] == "declared-params"
    assert (finding["file"], finding["line"]) == ("dvc.yaml", line_of(repo, "dvc.yaml", "momentum"))


def test_param_read_but_not_declared(repo: Path) -> None:
    edit(repo, "train.py", "rows = ", 'epochs = params["train"]["epochs"]\nrows = ')
    commit(repo, "reads epochs")
    finding = only(repo)
    assert finding["check"] == "undeclared-params"
    assert (finding["file"], finding["line"]) == ("train.py", line_of(repo, "train.py", "epochs"))
    assert "train.epochs" in finding["message"] and "- train.epochs" in finding["fix"]


def test_file_read_but_not_in_deps(repo: Path) -> None:
    edit(repo, "train.py", "rows = ", 'extra = open("extra.csv").read()\nrows = ')
    commit(repo, "reads extra.csv")
    finding = only(repo)
    assert finding["check"] == "undeclared-deps"
    assert (finding["file"], finding["line"]) == ("train.py", line_of(repo, "train.py", "extra"))
    assert "- extra.csv" in finding["fix"]


def test_script_not_in_deps(repo: Path) -> None:
    edit(repo, "dvc.yaml", "      - train.py\n", "")
    commit(repo, "script not a dependency")
    finding = only(repo)
    assert finding["check"] == "undeclared-deps"
    assert (finding["file"], finding["line"]) == ("dvc.yaml", line_of(repo, "dvc.yaml", "cmd:"))


def test_a_script_several_stages_run_is_not_read_for_files_or_params(repo: Path) -> None:
    """One module with a subcommand per stage names every stage's files: which read belongs
    to which stage cannot be seen statically, so doctor stays quiet rather than cry wolf."""
    edit(repo, "train.py", "rows = ", 'extra = open("extra.csv").read()\nrows = ')
    edit(repo, "train.py", "lr = ", 'epochs = params["train"]["epochs"]\nlr = ')
    with (repo / "dvc.yaml").open("a") as dvc_yaml:
        dvc_yaml.write(
            "  again:\n    cmd: python train.py again\n    deps: [train.py, data/rows.csv]\n"
            "    params: [train.lr]\n    outs: [again.json]\n"
        )
    edit(repo, "train.py", 'open("roc.csv"', 'open("again.json", "w").write("{}")\nopen("roc.csv"')
    commit(repo, "two stages, one script")
    assert findings(repo) == (0, [])


@pytest.mark.parametrize(
    ("layout", "expected"),
    [("nested", []), ("foreach", []), ("old-style", [("cached-metrics", "dvc.yaml", 9)])],
)
def test_layouts_of_other_repositories(
    tmp_path: Path, layout: str, expected: list[tuple[str, str, int]]
) -> None:
    """The layouts `mlgitops init` is tested on (a dvc.yaml in a subdirectory, foreach stages
    with JSON params, old-style cached stage metrics with TOML params), reproduced."""
    root = make_repo(tmp_path / layout, LAYOUTS[layout])
    run("dvc", "repro", "--quiet", "--all-pipelines", cwd=root)
    commit(root, "reproduced", repro=False)
    code, found = findings(root)
    assert [(f["check"], f["file"], f["line"]) for f in found] == expected
    assert code == (1 if expected else 0)


def test_lock_ignored_by_git(repo: Path) -> None:
    (repo / ".gitignore").write_text("# generated\ndvc.lock\n")
    run("git", "rm", "--cached", "--quiet", "dvc.lock", cwd=repo)
    commit(repo, "lock ignored", repro=False)
    finding = only(repo)
    assert finding["check"] == "lock-in-git"
    assert (finding["file"], finding["line"]) == (".gitignore", 2)


def test_lock_missing(repo: Path) -> None:
    run("git", "rm", "--quiet", "dvc.lock", cwd=repo)
    commit(repo, "no lock", repro=False)
    finding = only(repo)
    assert (finding["check"], finding["file"], finding["line"]) == ("lock-in-git", "dvc.lock", None)


def test_lock_stale(repo: Path) -> None:
    edit(repo, "params.yaml", "lr: 0.1", "lr: 0.2")
    commit(repo, "changed lr, not reproduced", repro=False)
    finding = only(repo)
    assert finding["check"] == "lock-current"
    assert (finding["file"], finding["line"]) == ("dvc.lock", line_of(repo, "dvc.lock", "train:"))
    assert "train.lr" in finding["message"]


def test_no_default_remote(repo: Path) -> None:
    run("dvc", "remote", "default", "--unset", cwd=repo)
    commit(repo, "no default remote", repro=False)
    code, [finding] = findings(repo)
    assert code == 0  # a warning: without a remote every stage runs in CI, and that works
    assert (finding["check"], finding["severity"], finding["file"]) == (
        "default-remote",
        "warning",
        ".dvc/config",
    )
    assert "dvc remote add --default" in finding["fix"]


def test_action_by_tag(repo: Path) -> None:
    edit(repo, ".github/workflows/pr.yml", f"checkout@{SHA}", "checkout@v4")
    commit(repo, "action by tag", repro=False)
    finding = only(repo)
    assert finding["check"] == "action-pin"
    workflow = ".github/workflows/pr.yml"
    assert (finding["file"], finding["line"]) == (workflow, line_of(repo, workflow, "checkout@v4"))


def test_warnings_alone_exit_0(repo: Path) -> None:
    """A container image by tag is a warning: listed, yet the repository passes."""
    edit(
        repo,
        ".github/workflows/pr.yml",
        "      - run: mlgitops",
        "      - uses: docker://alpine:3.20\n      - run: mlgitops",
    )
    commit(repo, "an image by tag", repro=False)
    code, out, err = doctor(repo)
    assert code == 0, err
    assert out.startswith(".github/workflows/pr.yml:10: warning [action-pin] docker://alpine:3.20")
    assert "(1 warning(s) above)" in err


def test_workflow_grants_write(repo: Path) -> None:
    edit(repo, ".github/workflows/pr.yml", "contents: read", "contents: write")
    commit(repo, "write token on pull requests", repro=False)
    finding = only(repo)
    assert finding["check"] == "workflow-permissions"
    workflow = ".github/workflows/pr.yml"
    assert (finding["file"], finding["line"]) == (workflow, line_of(repo, workflow, "contents:"))


def test_gate_metric_no_stage_writes(repo: Path) -> None:
    edit(repo, "params.yaml", "metric: test.auc", "metric: test.f1")
    commit(repo, "gate on a metric nobody writes", repro=False)
    finding = only(repo)
    assert finding["check"] == "gate-metric"
    assert (finding["file"], finding["line"]) == ("params.yaml", line_of(repo, "params.yaml", "f1"))
    assert "test.auc" in finding["message"]  # the keys that do exist


def test_not_a_git_or_dvc_repository_is_usage(tmp_path: Path) -> None:
    code, _, err = doctor(tmp_path)
    assert code == 2 and "git init" in err
    make_repo(tmp_path / "plain", {"a.txt": "a\n"}, dvc=False)
    code, _, err = doctor(tmp_path / "plain")
    assert code == 2 and "dvc init" in err
    make_repo(tmp_path / "broken", {"dvc.yaml": "stages:\n  a:\n    cmd: [\n"})
    code, _, err = doctor(tmp_path / "broken")
    assert code == 2 and "DVC cannot read the pipeline" in err and "dvc.yaml" in err


def test_this_repository_is_clean(tmp_path: Path) -> None:
    """A fresh clone of this repository's HEAD: the convention's own example follows it.
    (Its speed is measured, not asserted: benchmarks/doctor.py, docs/benchmarks.md.)"""
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone), cwd=tmp_path)
    assert findings(clone) == (0, [])
