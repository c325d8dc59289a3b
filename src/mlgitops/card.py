"""The model card as a service finds it: read it, and refuse a model file that is not the card's.

The card (written by the model's train stage) names the model file and its sha256 and declares
golden cases (mlgitops.golden); a file that is missing or has another digest is not the model
the card describes, so the service must not start.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ModelRefusedError(RuntimeError):
    """Raised at start-up when the card is unusable or the model file is not the one it names."""


def read_card(path: Path) -> dict[str, Any]:
    """The model card, which must declare golden cases (readiness scores them)."""
    # Imported here: pydantic (~0.3 s) is not needed to verify a model file (verified_model),
    # which a pipeline stage does on every run.
    from mlgitops.golden import GoldenFormatError, parse_golden

    try:
        card: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelRefusedError(f"cannot read the model card {path}: {error}") from error
    try:
        parse_golden(card)
    except GoldenFormatError as error:
        raise ModelRefusedError(
            f"the model card {path} has no usable golden cases ({error}); retrain"
        ) from None
    return card


def verified_model(card: Mapping[str, Any], *, root: Path) -> tuple[Path, str]:
    """The model file the card names (under `root`) and its sha256, which must be the card's."""
    path = root / card["model"]["path"]
    if not path.is_file():
        raise ModelRefusedError(f"refusing to start: the model file {path} is missing")
    with path.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != card["model"]["sha256"]:
        raise ModelRefusedError(
            f"refusing to start: {path} has sha256 {actual}, its model card says "
            f"{card['model']['sha256']}; build the Bento again from the DVC-tracked model"
        )
    return path, actual


def model_version(card: Mapping[str, Any]) -> dict[str, Any]:
    """Which model answers: its file's sha256."""
    return {"sha256": str(card["model"]["sha256"])}
