"""`mlgitops build`'s checks before BentoML runs: the card, the bentofile's requirements."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlgitops.build import labels, requirements_path


def _build(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgitops.build", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_card_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "bentofile.yaml").write_text("service: svc:Service\n")
    result = _build(tmp_path, "--card", "models/none.json")
    assert result.returncode == 2, result.stderr
    assert "models/none.json not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_card_without_a_model_sha_is_refused(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text(json.dumps({"model": {}}))
    result = _build(tmp_path, "--card", "card.json")
    assert result.returncode == 2
    assert "has no model.sha256" in result.stderr


def test_labels_name_the_commit_and_the_model(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.strip()

    git("init", "-q")
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"model": {"sha256": "ab" * 32}}))
    git("add", "card.json")
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "card")
    head = git("rev-parse", "HEAD")
    assert labels(card) == {"git_revision": head, "model_sha256": "ab" * 32}
    card.write_text(json.dumps({"model": {"sha256": "cd" * 32}}))
    assert labels(card) == {"git_revision": f"{head}-dirty", "model_sha256": "cd" * 32}


def test_the_requirements_file_is_the_one_the_bentofile_names(tmp_path: Path) -> None:
    bentofile = tmp_path / "bentofile.yaml"
    bentofile.write_text("python:\n  requirements_txt: build/requirements.txt\n")
    assert requirements_path(bentofile) == tmp_path / "build" / "requirements.txt"
    bentofile.write_text("python:\n  packages: [numpy]\n")
    assert requirements_path(bentofile) is None
