"""`mlgitops retrain-pr` at the CLI edge: exit codes and messages before any work starts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlgitops import cli
from tests.checkout import REPO_ROOT


def _drift(folder: Path, *, due: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    report = {"retraining_due": due, "rows": 800, "drifted": ["tenure"] if due else [],
              "features": {}, "policy": {}}  # fmt: skip
    (folder / "drift.json").write_text(json.dumps(report))
    (folder / "drift.md").write_text("# Drift\n")
    return folder


@dataclass(frozen=True)
class Ran:
    """An exit code and what went to stderr."""

    returncode: int
    stderr: str


Runner = Callable[..., Ran]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runner:
    """`mlgitops retrain-pr ARGS` in process, through cli.main (where errors become exits)."""

    def invoke(*args: str, cwd: Path, token: str | None = None) -> Ran:
        monkeypatch.chdir(cwd)
        monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        if token is not None:
            monkeypatch.setenv("GITHUB_TOKEN", token)
        monkeypatch.setattr(sys, "argv", ["mlgitops", "retrain-pr", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            cli.main()
        code = exited.value.code
        return Ran(code if isinstance(code, int) else 0, capsys.readouterr().err)

    return invoke


def test_not_due_exits_0_saying_why_without_params_or_token(run: Runner, tmp_path: Path) -> None:
    result = run("--drift", str(_drift(tmp_path / "d", due=False)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "retraining is not due: 800 logged rows, no feature drifted" in result.stderr


def test_due_without_a_token_is_a_usage_error(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    drift = _drift(tmp_path / "d", due=True)
    result = run("--drift", str(drift), "--repo", "octo/churn", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "GITHUB_TOKEN is not set" in result.stderr and "Traceback" not in result.stderr


def test_a_repo_that_is_not_owner_name_is_refused(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    drift = _drift(tmp_path / "d", due=True)
    result = run("--drift", str(drift), "--repo", "churn", cwd=tmp_path, token="t")
    assert result.returncode == 2, result.stderr
    assert "--repo 'churn' is not OWNER/NAME" in result.stderr


def test_a_token_over_plain_http_to_another_host_is_refused_before_any_work(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 item 12, for the GitHub client: GITHUB_API_URL over http:// to another host."""
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    drift = _drift(tmp_path / "d", due=True)
    monkeypatch.setenv("GITHUB_API_URL", "http://github.example/api/v3")
    monkeypatch.delenv("MLGITOPS_ALLOW_PLAIN_HTTP", raising=False)
    result = run("--drift", str(drift), "--repo", "octo/churn", cwd=tmp_path, token="ghp_secret1")
    assert result.returncode == 2, result.stderr
    assert "refusing to send the token over plain http:// to github.example" in result.stderr
    assert "MLGITOPS_ALLOW_PLAIN_HTTP=1" in result.stderr
    assert "ghp_secret1" not in result.stderr


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("branch_prefix", "retrain", "retrain.branch_prefix is 'retrain': must end with '/'"),
        ("validate_stages", [], "retrain.validate_stages is []; expected at least 1 item"),
        ("id_column", 3, "retrain.id_column is 3; expected a valid string"),
        ("pr_titel", "x", "retrain.pr_titel is not a known key; did you mean `pr_title`?"),
    ],
)
def test_a_bad_retrain_setting_is_named(
    run: Runner, tmp_path: Path, key: str, value: object, named: str
) -> None:
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["retrain"][key] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    drift = _drift(tmp_path / "d", due=True)
    result = run("--drift", str(drift), "--dry-run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr


def test_a_missing_drift_report_says_what_to_run(run: Runner, tmp_path: Path) -> None:
    result = run("--drift", str(tmp_path / "nothing"), cwd=tmp_path)
    assert result.returncode == 2
    assert "run `mlgitops drift" in result.stderr
