"""The churn job by hand in one Python process: the limit `dvc repro` is compared with.

Imports, reading the raw CSV, the same cleaning and split as `churn.prepare`, the same LightGBM
fit as `churn.train`, and predictions for train and test as `churn.evaluate` makes them; no
validation, no files written. `benchmarks/pipeline.py` runs it from the root of a repository
copy and times the whole process; this script prints one JSON line with the seconds of each
step it can see from the inside (everything but interpreter start-up and exit).
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import json  # noqa: E402

import lightgbm as lgb  # noqa: E402  (as a user writes it: scikit-learn comes along)
import pandas as pd  # noqa: E402

from churn import schema  # noqa: E402
from churn.io import RAW_PATH, load_params  # noqa: E402
from churn.prepare import clean, split  # noqa: E402
from churn.train import train  # noqa: E402
from churn.train_params import resolve  # noqa: E402


def main() -> None:
    seconds = {"imports": time.perf_counter() - _STARTED}
    prepare_params = load_params("prepare")
    train_params = resolve(load_params("train"))

    started = time.perf_counter()
    raw = pd.read_csv(RAW_PATH)
    seconds["read"] = time.perf_counter() - started

    started = time.perf_counter()
    train_frame, test_frame = split(
        clean(raw),
        test_fraction=prepare_params["test_fraction"],
        salt=prepare_params["split_salt"],
    )
    seconds["clean"] = time.perf_counter() - started

    started = time.perf_counter()
    booster: lgb.Booster = train(train_frame, train_params)
    seconds["fit"] = time.perf_counter() - started

    started = time.perf_counter()
    features = list(schema.FEATURES)
    for frame in (train_frame, test_frame):
        booster.predict(frame[features])
    seconds["predict"] = time.perf_counter() - started

    print(json.dumps({"seconds": seconds, "train_rows": len(train_frame)}))


if __name__ == "__main__":
    main()
