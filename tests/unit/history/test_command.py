"""`mlgitops history`'s wrong inputs: one clear UsageError (exit 2) each, nothing read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlgitops.errors import UsageError
from mlgitops.history.command import app


@pytest.fixture
def git_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit and no DVC."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, timeout=30,
                       capture_output=True)  # fmt: skip

    git("init", "-q", "-b", "main")
    (tmp_path / "README.md").write_text("x\n")
    git("add", "README.md")
    git("-c", "user.name=a", "-c", "user.email=a@x", "commit", "-q", "-m", "one")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--since", "last week"], "--since 'last week' is not a date (2026-01-31) nor days (90d)"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "is not before --until"),
        (["--format", "yaml"], "--format 'yaml': use markdown or json"),
        (["--branch", "nope"], "'nope' is not a branch or commit"),
        ([], "is not a DVC repository"),
        (["--repo", "not-a-repo"], "--repo 'not-a-repo' is not OWNER/NAME"),
        (["--issue"], "this needs --repo OWNER/NAME"),
    ],
)
def test_a_wrong_input_is_one_usage_error(git_only: Path, args: list[str], said: str) -> None:
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, UsageError), result.output
    assert said in str(result.exception)
