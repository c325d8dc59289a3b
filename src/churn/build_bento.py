"""Build the service's Bento from bentofile.yaml, labelled with the git revision and model sha.

bentofile.yaml holds every build setting; this adds what cannot be static there: the Python
pins, exported from uv.lock for the `serve` dependency group (so the image installs exactly the
locked versions, with no resolution at build time), and the labels. Prints the Bento's tag.

    python -m churn.build_bento            # then: bentoml serve <tag>
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from churn.io import CARD_PATH

logger = logging.getLogger(__name__)

BENTOFILE = Path("bentofile.yaml")
REQUIREMENTS = Path(
    "build/requirements.txt"
)  # bentofile.yaml: python.requirements_txt (git-ignored)


def export_requirements(path: Path = REQUIREMENTS) -> None:
    """The `serve` group's packages with their uv.lock versions, as a requirements file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        *("uv", "export", "--frozen", "--only-group", "serve"),
        *("--no-hashes", "--no-emit-project", "--no-header", "--no-annotate"),
        *("--output-file", str(path)),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def labels(card: dict[str, Any]) -> dict[str, str]:
    """The git revision the Bento is built from, and the model it serves."""
    revision = _git("rev-parse", "HEAD") or "unknown"
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "git_revision": revision + ("-dirty" if dirty else ""),
        "model_sha256": str(card["model"]["sha256"]),
    }


def build(bentofile: Path = BENTOFILE, card_path: Path = CARD_PATH) -> str:
    """Build the Bento in the current BENTOML_HOME and return its tag."""
    import bentoml

    card = json.loads(card_path.read_text())
    export_requirements()
    bento = bentoml.bentos.build_bentofile(str(bentofile), labels=labels(card))
    return str(bento.tag)


def main() -> None:
    try:
        tag = build()
    except subprocess.CalledProcessError as error:
        sys.exit(f"build_bento: {' '.join(error.cmd)} failed:\n{error.stderr}")
    except FileNotFoundError as error:
        sys.exit(f"build_bento: {error.filename} not found; run `make run` (or `dvc pull`) first")
    print(tag)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    main()
