"""DVC stage `train`: fit LightGBM on the prepared training set and write the model card.

The model is saved in LightGBM's own text format (safe to load, diffable). The card carries the
model file's sha256 (the service checks it before it serves), the threshold and what the model
was trained from: the data's md5, the parameters, the environment's lock. It holds no clock and
no git revision, so the same inputs give the same bytes and a fresh clone's `dvc repro` leaves
dvc.lock as committed; which commit a Bento was built from is a label of the Bento.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from churn import schema
from churn.io import CARD_PATH, MODEL_PATH, RAW_PATH, TRAIN_PATH, load_params
from churn.model import file_sha256, import_lightgbm_alone, load_booster, predict
from churn.timing import StageTimer
from churn.train_params import read_backend, read_train_params
from mlgitops.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from distributed import Client

    from mlgitops.settings.compute import DaskSettings

logger = logging.getLogger(__name__)

LOCK_PATH = Path("uv.lock")
_PROGRESS_STEPS = 5
GOLDEN_COUNT = 5  # customers whose stored probabilities the smoke test checks against a service
GOLDEN_TOLERANCE = 1e-6  # a service computes the same float as the booster here, bar rounding


def file_digest(path: Path, algorithm: str) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def _log_progress(total_rounds: int) -> Any:
    step = max(1, total_rounds // _PROGRESS_STEPS)

    def callback(env: Any) -> None:
        done = env.iteration + 1
        if done % step == 0 or done == total_rounds:
            logger.info("train: %d/%d boosting rounds", done, total_rounds)

    return callback


def train(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    """A LightGBM booster fitted on the schema's features of `frame` (returns lightgbm.Booster).

    `params` is what the train_params stage wrote: `num_boost_round` and `lightgbm`, the
    checked parameters under LightGBM's own names.
    """
    import lightgbm as lgb

    dataset = lgb.Dataset(
        frame[list(schema.FEATURES)],
        label=frame[schema.LABEL],
        categorical_feature=list(schema.CATEGORICAL),
        free_raw_data=True,
    )
    rounds = int(params["num_boost_round"])
    return lgb.train(
        dict(params["lightgbm"]),
        dataset,
        num_boost_round=rounds,
        callbacks=[_log_progress(rounds)],
    )


def model_card(
    *,
    model_path: Path,
    frame: pd.DataFrame,
    params: dict[str, Any],
    threshold: float,
    raw_path: Path = RAW_PATH,
    lock_path: Path = LOCK_PATH,
) -> dict[str, Any]:
    """What a reviewer or the service needs to know about the model file: inputs, not times.

    Of `frame` only the label column is read (the rows and label rate the card records).
    """
    import lightgbm as lgb

    return {
        "model": {
            "path": str(model_path),
            "format": "lightgbm-text",
            "sha256": file_sha256(model_path),
        },
        "threshold": threshold,
        "data": {
            "raw_path": str(raw_path),
            "raw_md5": file_digest(raw_path, "md5"),  # the md5 DVC records for the file
            "train_rows": len(frame),
            "train_churn_rate": round(float(frame[schema.LABEL].mean()), 6),
        },
        "environment": {
            # major.minor: the lock pins the packages, not the interpreter's patch release
            "python": "{}.{}".format(*sys.version_info[:2]),
            "lightgbm": lgb.__version__,
            "pandas": pd.__version__,
            "lock_sha256": file_digest(lock_path, "sha256") if lock_path.exists() else None,
        },
        "params": params,
        "label": schema.LABEL,
        "features": list(schema.FEATURES),
        "categorical_levels": {
            column: list(levels) for column, levels in schema.CATEGORICAL.items()
        },
    }


def request_fields(row: pd.Series) -> dict[str, Any]:
    """One prepared row in the raw form a client sends: 0/1 ints, numbers, level strings.

    A new customer's total_charges goes back to null, as it arrives (prepare fills 0).
    """
    fields: dict[str, Any] = {schema.ID: str(row[schema.ID])}
    for column in schema.FEATURES:
        value = row[column]
        if column in schema.CATEGORICAL:
            fields[column] = str(value)
        elif column in schema.BINARY or column in schema.INTEGER:
            fields[column] = int(value)
        else:
            fields[column] = float(value)
    if fields["tenure"] == 0:
        fields["total_charges"] = None
    return fields


def golden_candidates(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows `golden_customers` can pick from: the smallest ids and the first new customer.

    Taken from each part of a partitioned table, their union holds the whole table's picks.
    """
    ordered = frame.sort_values(schema.ID)
    return pd.concat([ordered.head(GOLDEN_COUNT), ordered[ordered["tenure"] == 0].head(1)])


def golden_customers(
    frame: pd.DataFrame, model_path: Path, *, threshold: float | None = None
) -> dict[str, Any]:
    """The card's golden cases (mlgitops.golden): a fixed handful of training customers as
    /predict takes them, with the saved model's probabilities (and labels, given the threshold).

    The smallest ids, plus the first new customer (tenure 0, blank total_charges), so a
    deployed service can be checked against known answers, the null rule included.
    """
    ordered = golden_candidates(frame).drop_duplicates(schema.ID).sort_values(schema.ID)
    newcomers = ordered[ordered["tenure"] == 0].head(1)
    picked = pd.concat([ordered.head(GOLDEN_COUNT - len(newcomers)), newcomers])
    scores = predict(load_booster(model_path), picked)
    cases = []
    for (_, row), score in zip(picked.iterrows(), scores, strict=True):
        expected: dict[str, Any] = {"churn_probability": float(score)}
        if threshold is not None:
            expected["churn"] = bool(score >= threshold)
        cases.append({"input": request_fields(row), "expected": expected})
    return {
        "route": "/predict",
        "request_key": "customers",
        "response_key": None,  # a batchable BentoML API answers with the bare list
        "tolerance": GOLDEN_TOLERANCE,
        "cases": cases,
    }


def fit_on_dask(
    client: Client, settings: DaskSettings, params: dict[str, Any], path: Path = TRAIN_PATH
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The model file's text fitted on the client's Dask cluster, the labels (the card's data
    figures) and the golden candidates, gathered while the table streams to the workers."""
    from churn import train_dask

    labels: list[pd.DataFrame] = []
    candidates: list[pd.DataFrame] = []

    def training_parts() -> Iterator[pd.DataFrame]:
        columns = [schema.ID, *schema.FEATURES, schema.LABEL]
        for part in train_dask.read_parts(path, columns, settings.partitions):
            labels.append(part[[schema.LABEL]])
            candidates.append(golden_candidates(part))
            yield part.drop(columns=[schema.ID])

    started = time.perf_counter()
    table = train_dask.scatter_parts(client, training_parts(), settings.timeout_seconds)
    sent = time.perf_counter()
    booster = train_dask.fit_booster(client, table, params)
    logger.info(
        "train: %d parts sent to the workers in %.2f s, lightgbm.dask fit in %.2f s",
        table.npartitions,
        sent - started,
        time.perf_counter() - sent,
    )
    return train_dask.model_text(booster), pd.concat(labels), pd.concat(candidates)


def _fit_on_cluster(
    params: dict[str, Any], settings: DaskSettings
) -> tuple[str, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    import dask.config

    from churn import train_dask

    # A DaskCluster's scheduler when the task was given one (DASK_SCHEDULER_ADDRESS, read by
    # Dask's own config), else a LocalCluster here.
    address = dask.config.get("scheduler-address", None)
    logging.getLogger("distributed").setLevel(logging.WARNING)  # the cluster's life line by line
    with train_dask.dask_client(settings, address=address) as client:
        text, labels, candidates = fit_on_dask(client, settings, params)
        shape = train_dask.cluster_shape(client, settings, address=address)
    return text, labels, candidates, shape


def main() -> None:
    timer = StageTimer("train")
    try:
        backend = read_backend()
    except UsageError as error:
        sys.exit(f"train: {error}")
    on_dask = backend.dask if backend.backend == "dask" else None
    with timer.phase("imports"):
        if on_dask is None:
            import_lightgbm_alone()
        else:
            import lightgbm.dask  # noqa: F401  # its estimators need scikit-learn
    gc.freeze()  # what is imported lives to the end: keep the GC off it (docs/benchmarks.md)
    params = read_train_params()
    threshold = float(load_params("evaluate")["threshold"])
    if on_dask is None:
        with timer.phase("read"):
            columns = [schema.ID, *schema.FEATURES, schema.LABEL]
            frame = candidates = pd.read_parquet(TRAIN_PATH, columns=columns)
        with timer.phase("work"):
            text = train(frame, params).model_to_string()
        training = {"backend": "single", "threads": params["lightgbm"].get("num_threads")}
    else:
        with timer.phase("work"):
            text, frame, candidates, training = _fit_on_cluster(params, on_dask)
    with timer.phase("write"):
        MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
        MODEL_PATH.write_text(text)
        card = model_card(model_path=MODEL_PATH, frame=frame, params=params, threshold=threshold)
        card["training"] = training  # the backend and, on Dask, the cluster's shape
        card["golden"] = golden_customers(candidates, MODEL_PATH, threshold=threshold)
        CARD_PATH.write_text(json.dumps(card, indent=2) + "\n")
    trees = load_booster(MODEL_PATH).num_trees()
    logger.info("train: %d rows, %d trees -> %s", len(frame), trees, MODEL_PATH)
    timer.report()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
