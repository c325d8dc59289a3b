"""The service as it was at another git revision, built beside the current one in the same run.

`benchmarks.serving --servers before ours` measures both on the same machine, minutes apart, so
their ratio means something on a shared machine where absolute figures move by ±30% between
runs. The revision's tree comes from `git archive` into the benchmark's temporary directory
(removed with it), gets the current model file and a card converted to the card format that
revision reads, and is built by its own `churn.build_bento`, as `make serve` built it then.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

DEFAULT_REVISION = "76916e1"  # the last revision before the serving runtime moved to mlgitops


def _card_for_then(card: dict[str, Any]) -> dict[str, Any]:
    """The current card as a service of before the move reads it: golden cases as a list of
    {"customer", "churn_probability"}, and a `git` section (it labels answers with it)."""
    then = dict(card)
    golden = card.get("golden")
    if isinstance(golden, dict):
        then["golden"] = [
            {"customer": case["input"], "churn_probability": case["expected"]["churn_probability"]}
            for case in golden["cases"]
        ]
    then.setdefault("git", {"revision": None, "dirty": False})
    return then


def checkout(root: Path, revision: str, destination: Path) -> Path:
    """`revision`'s tracked files under `destination`, with the current model and card."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=root,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    destination.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    models = destination / "models"
    models.mkdir(exist_ok=True)
    (models / "model.txt").write_bytes((root / "models" / "model.txt").read_bytes())
    card = json.loads((root / "models" / "card.json").read_text())
    (models / "card.json").write_text(json.dumps(_card_for_then(card), indent=2))
    return destination


def build(tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m churn.build_bento` of that tree, its own code first on the path."""
    return subprocess.run(
        ["python", "-m", "churn.build_bento"],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree / "src")},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
