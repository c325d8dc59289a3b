"""Reading and writing the pipeline's tables and parameters, shared by the stage scripts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

logger = logging.getLogger(__name__)

RAW_PATH = Path("data/raw/telco_churn.csv")
TRAIN_PATH = Path("data/prepared/train.parquet")
TEST_PATH = Path("data/prepared/test.parquet")
MODEL_PATH = Path("models/model.txt")
CARD_PATH = Path("models/card.json")
PARAMS_PATH = Path("params.yaml")


class RawDataError(Exception):
    """Raised when the raw file cannot be parsed as a table at all (empty, not CSV)."""


def load_params(section: str, path: Path = PARAMS_PATH) -> dict[str, Any]:
    """One stage's section of params.yaml; a missing section is an error naming the file."""
    params = yaml.safe_load(path.read_text()) or {}
    if section not in params:
        raise KeyError(f"{path} has no '{section}' section")
    return dict(params[section])


def read_raw(path: Path) -> pd.DataFrame:
    """The raw CSV as pandas infers it; validation, not the reader, judges the types."""
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise RawDataError(f"{path} is not a readable CSV table: {error}") from error


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
