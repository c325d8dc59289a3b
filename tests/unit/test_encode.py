"""The array encoder gives the training frame's probabilities, on every row of the real data.

The model is trained here, in process, on the real prepared data with params.yaml's settings,
and goes through LightGBM's text format as the service loads it; the encoder is built from the
model card train writes. Requests are the raw rows as JSON, validated by the request model.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from churn import schema
from churn.encode import Encoder
from churn.io import load_params
from churn.prepare import clean, split
from churn.request import Customers
from churn.train import golden_customers, model_card, train
from churn.train_params import resolve
from mlgitops.golden import parse_golden
from tests.checkout import REPO_ROOT

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Trained:
    raw: pd.DataFrame  # the whole raw table as pandas reads the CSV
    prepared: pd.DataFrame  # prepare.clean of it: the frame training and evaluation see
    train_frame: pd.DataFrame
    booster: Any  # lightgbm.Booster, loaded back from the text format
    card: dict[str, Any]
    model_path: Path


@pytest.fixture(scope="module")
def trained(good_raw_csv: bytes, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    raw = pd.read_csv(io.BytesIO(good_raw_csv))
    prepared = clean(raw)
    split_params = load_params("prepare", REPO_ROOT / "params.yaml")
    train_frame, _ = split(
        prepared, test_fraction=split_params["test_fraction"], salt=split_params["split_salt"]
    )
    directory = tmp_path_factory.mktemp("model")
    model_path, raw_path = directory / "model.txt", directory / "raw.csv"
    params = resolve(load_params("train", REPO_ROOT / "params.yaml"))
    train(train_frame, params).save_model(str(model_path))
    raw_path.write_bytes(good_raw_csv)
    card = model_card(
        model_path=model_path,
        frame=train_frame,
        params=params,
        threshold=0.5,
        raw_path=raw_path,
        lock_path=REPO_ROOT / "uv.lock",
    )
    booster = lgb.Booster(model_file=str(model_path))
    return Trained(raw, prepared, train_frame, booster, card, model_path)


def _requests(raw: pd.DataFrame) -> list[Any]:
    """Every raw row as a client sends it (JSON, a blank total as null), validated."""
    records = [
        {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()}
        for r in raw.drop(columns=[schema.LABEL]).to_dict("records")
    ]
    body = json.dumps(records)
    return list(TypeAdapter(Customers).validate_json(body))


def _expected(trained: Trained) -> np.ndarray:
    return np.asarray(trained.booster.predict(trained.prepared[list(schema.FEATURES)]))


def test_every_request_scores_as_the_training_frame(trained: Trained) -> None:
    encoder = Encoder.from_card(trained.card)
    customers = _requests(trained.raw)
    assert len(customers) == len(trained.raw) == 7043

    got = trained.booster.predict(encoder.encode(customers))

    np.testing.assert_allclose(got, _expected(trained), rtol=0, atol=TOLERANCE)
    new = trained.raw["tenure"] == 0
    assert trained.raw.loc[new, "total_charges"].isna().all() and new.sum() > 0  # rule covered


@pytest.mark.parametrize("arrow", [False, True], ids=["python strings", "arrow strings"])
def test_every_table_row_scores_as_the_training_frame(trained: Trained, arrow: bool) -> None:
    encoder = Encoder.from_card(trained.card)
    raw = trained.raw.astype(
        dict.fromkeys(schema.CATEGORICAL, "string[pyarrow]" if arrow else object)
    )
    columns = {column: raw[column].array for column in encoder.features}
    assert hasattr(columns["contract"], "__arrow_array__") == arrow

    got = trained.booster.predict(encoder.encode_columns(columns))

    np.testing.assert_allclose(got, _expected(trained), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("strings", ["string[pyarrow]", "str", object])
def test_a_level_maps_to_its_position_and_anything_else_to_nan_in_a_table(
    trained: Trained, strings: Any
) -> None:
    encoder = Encoder.from_card(trained.card)
    column = pd.Series(["Two year", "Month-to-month", "Weekly", None], dtype=strings)
    np.testing.assert_array_equal(encoder.codes("contract", column.array), [2, 0, np.nan, np.nan])


def test_the_cards_levels_are_the_models_own_category_codes(trained: Trained) -> None:
    levels = trained.card["categorical_levels"]
    in_model_order = [levels[c] for c in trained.card["features"] if c in levels]
    assert trained.booster.pandas_categorical == in_model_order
    assert trained.card["features"] == list(schema.FEATURES)


def test_a_level_maps_to_its_position_and_an_unknown_one_to_nan(trained: Trained) -> None:
    encoder = Encoder.from_card(trained.card)
    codes = encoder.codes("contract", ["Two year", "Month-to-month", "Weekly"])
    np.testing.assert_array_equal(codes, [2.0, 0.0, np.nan])


def test_only_a_new_customers_missing_total_becomes_zero(trained: Trained) -> None:
    encoder = Encoder.from_card(trained.card)
    columns: dict[str, Any] = {c: trained.raw[c].to_numpy()[:2] for c in encoder.features}
    columns["tenure"] = np.array([0, 5])
    columns["total_charges"] = [None, None]
    rows = encoder.encode_columns(columns)
    total = rows[:, encoder.features.index("total_charges")]
    assert total[0] == 0.0 and np.isnan(total[1])  # as prepare.clean: validation rejects row 2


def test_the_golden_customers_store_the_saved_models_probabilities(trained: Trained) -> None:
    golden = parse_golden(
        {"golden": golden_customers(trained.train_frame, trained.model_path, threshold=0.5)}
    )
    assert (golden.route, golden.request_key) == ("/predict", "customers")
    assert golden.response_key is None
    assert len(golden.cases) == 5
    assert any(case.input["total_charges"] is None for case in golden.cases)
    customers = list(TypeAdapter(Customers).validate_python([c.input for c in golden.cases]))
    got = trained.booster.predict(Encoder.from_card(trained.card).encode(customers))
    stored = [case.expected["churn_probability"] for case in golden.cases]
    np.testing.assert_allclose(got, stored, rtol=0, atol=TOLERANCE)
    assert [case.expected["churn"] for case in golden.cases] == [p >= 0.5 for p in got]
