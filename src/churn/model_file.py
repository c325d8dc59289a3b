"""The model file and its card as the service finds them: read, and refuse a wrong model.

The card (written by the train stage) names the model file and its sha256; a file that is
missing or has another digest is not the model the card describes, so the service must not
start. Paths are found beside the package in a Bento, else in the repository.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _root() -> Path:
    """Where models/ and params.yaml are: beside the package in a Bento, else the repository.

    Not the working directory: the deployment hook runs in the `bentoml serve` process.
    """
    package_parent = Path(__file__).resolve().parents[1]
    return package_parent if (package_parent / "models").is_dir() else package_parent.parent


ROOT = _root()
CARD_PATH = ROOT / "models" / "card.json"
PARAMS_PATH = ROOT / "params.yaml"


class ModelRefusedError(RuntimeError):
    """Raised at start-up when the model file is missing or is not the one the card describes."""


def read_card(path: Path) -> dict[str, Any]:
    """The model card, which must list golden customers (readiness scores them)."""
    try:
        card: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelRefusedError(f"cannot read the model card {path}: {error}") from error
    if not card.get("golden"):
        raise ModelRefusedError(f"the model card {path} has no golden customers; retrain")
    return card


def verified_model(card: Mapping[str, Any]) -> tuple[Path, str]:
    """The model file the card names and its sha256, which must be the card's."""
    path = ROOT / card["model"]["path"]
    if not path.is_file():
        raise ModelRefusedError(f"refusing to start: the model file {path} is missing")
    with path.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != card["model"]["sha256"]:
        raise ModelRefusedError(
            f"refusing to start: {path} has sha256 {actual}, the card {CARD_PATH} says "
            f"{card['model']['sha256']}; build the Bento again from the DVC-tracked model"
        )
    return path, actual


def verify_levels(card: Mapping[str, Any], trained: list[list[str]]) -> None:
    """The card's categorical levels must be the ones the model file was trained with.

    `trained` is the booster's `pandas_categorical`: the levels of each categorical feature,
    in the order of the features.
    """
    levels = card["categorical_levels"]
    carded = [list(levels[column]) for column in card["features"] if column in levels]
    if trained != carded:
        raise ModelRefusedError(
            f"refusing to start: the categorical levels in {CARD_PATH} are not the model file's"
        )
