"""The model file and its card: the one place that loads the LightGBM model and predicts.

Train (golden cases), evaluate and the service all score through `predict`; evaluate and the
service load through `load_model`, which refuses a model file that is missing or is not the one
the card describes (its sha256, checked by the serving runtime's mlgitops.card), or whose
categorical levels are not the card's. LightGBM is imported lazily: train keeps scikit-learn
out of its imports first, the service imports in its `__init__`.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churn import schema
from mlgitops.card import ModelRefusedError, verified_model

if TYPE_CHECKING:
    import lightgbm as lgb

# A small batch is scored on one thread: waking LightGBM's second OpenMP thread for a few rows
# cost up to a scheduler slice on a busy core (single requests took 12 ms instead of 0.9 ms).
PARALLEL_FROM_ROWS = 1_000


def _root() -> Path:
    """Where models/ is: beside the package in a Bento, else the repository.

    Not the working directory: the deployment hook runs in the `bentoml serve` process.
    """
    package_parent = Path(__file__).resolve().parents[1]
    return package_parent if (package_parent / "models").is_dir() else package_parent.parent


ROOT = _root()
CARD_PATH = ROOT / "models" / "card.json"  # absolute, for the service; stages use churn.io's


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify_levels(card: Mapping[str, Any], trained: list[list[str]]) -> None:
    """The card's categorical levels must be the ones the model file was trained with.

    `trained` is the booster's `pandas_categorical`: the levels of each categorical feature,
    in the order of the features.
    """
    levels = card["categorical_levels"]
    carded = [list(levels[column]) for column in card["features"] if column in levels]
    if trained != carded:
        raise ModelRefusedError(
            "refusing to start: the card's categorical levels are not the model file's"
        )


def import_lightgbm_alone() -> None:
    """Import LightGBM without scikit-learn (~3 s), whose wrappers train never uses."""
    if "sklearn" not in sys.modules:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    import lightgbm  # noqa: F401


def load_booster(path: Path) -> lgb.Booster:
    """The booster saved at `path`, unchecked (train reads back the file it just wrote)."""
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))


def load_model(card: Mapping[str, Any], *, root: Path = ROOT) -> lgb.Booster:
    """The booster the card describes, after checking its file's sha256 and its levels."""
    path, _ = verified_model(card, root=root)
    booster = load_booster(path)
    verify_levels(card, booster.pandas_categorical or [])
    return booster


def threshold(card: Mapping[str, Any]) -> float:
    """The score at or above which the answer is the positive class (params, via the card)."""
    return float(card["threshold"])


def predict(booster: lgb.Booster, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The model's scores: of a frame's schema features, or of rows already encoded.

    A small batch is scored on one thread, a bulk one on the threads the model was trained
    with (see PARALLEL_FROM_ROWS); the scores are the same either way.
    """
    features = rows[list(schema.FEATURES)] if isinstance(rows, pd.DataFrame) else rows
    if len(features) < PARALLEL_FROM_ROWS:
        return np.asarray(booster.predict(features, num_threads=1), dtype=np.float64)
    return np.asarray(booster.predict(features), dtype=np.float64)
