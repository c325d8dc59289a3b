"""prepare: cleaning coerces without judging; the split depends on the customer id alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from churn import prepare, schema
from churn.prepare import clean, split

# --- clean ----------------------------------------------------------------------------------


def test_clean_keeps_every_row_and_column_in_model_ready_types(good_small: pd.DataFrame) -> None:
    frame = clean(good_small)

    assert set(frame.columns) == set(schema.PREPARED_COLUMNS)
    assert frame.index.equals(good_small.index)
    for column in schema.BINARY:
        assert frame[column].dtype == "int8", column
    for column, levels in schema.CATEGORICAL.items():
        assert frame[column].dtype == schema.category_dtype(column), column
        assert frame[column].notna().all(), column
        assert list(frame[column].cat.categories) == list(levels)
    assert frame[schema.LABEL].dtype == "int8"


def test_clean_maps_the_label_to_one_for_churners(good_small: pd.DataFrame) -> None:
    frame = clean(good_small)
    expected = (good_small[schema.LABEL] == schema.LABEL_POSITIVE).astype("int8")
    assert frame[schema.LABEL].tolist() == expected.tolist()
    assert set(frame[schema.LABEL]) == {0, 1}


def test_a_new_customers_blank_total_becomes_zero(good_small: pd.DataFrame) -> None:
    raw = good_small.copy()
    raw.loc[[0, 1], "total_charges"] = None
    raw.loc[0, "tenure"] = 0  # new, not billed yet; row 1 is an old customer

    frame = clean(raw)

    assert frame.loc[0, "total_charges"] == 0.0
    assert frame["total_charges"].isna().loc[1]  # left for validate to flag


def test_the_real_new_customers_have_blank_totals_that_become_zero(
    good_raw: pd.DataFrame,
) -> None:
    new = good_raw["tenure"] == 0
    assert new.any()
    assert good_raw.loc[new, "total_charges"].isna().all()

    frame = clean(good_raw)

    assert (frame.loc[new, "total_charges"] == 0.0).all()
    assert frame["total_charges"].notna().all()


@pytest.mark.filterwarnings("error")  # a deprecation today is a crash in a later pandas
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("contract", "Three year"),
        ("monthly_charges", "twenty dollars"),
        ("partner", "yes"),
        (schema.LABEL, "Maybe"),
    ],
)
def test_values_that_cannot_be_coerced_become_nulls(
    good_small: pd.DataFrame, column: str, value: str
) -> None:
    raw = good_small.copy()
    raw[column] = raw[column].astype(object)
    raw.loc[3, column] = value

    frame = clean(raw)

    assert frame[column].isna().loc[3]
    assert frame[column].drop(index=3).notna().all()


@pytest.mark.parametrize("dropped", ["tenure", schema.ID, schema.LABEL, "contract", "partner"])
def test_clean_leaves_out_missing_columns_without_failing(
    good_small: pd.DataFrame, dropped: str
) -> None:
    frame = clean(good_small.drop(columns=[dropped]))
    assert set(frame.columns) == set(schema.PREPARED_COLUMNS) - {dropped}


def test_clean_of_nothing_is_an_empty_frame() -> None:
    assert clean(pd.DataFrame()).empty


# --- split ----------------------------------------------------------------------------------


def test_about_the_test_fraction_of_customers_is_held_out(
    good_raw: pd.DataFrame, prepare_params: dict[str, Any]
) -> None:
    fraction = prepare_params["test_fraction"]
    mask = prepare.test_mask(
        good_raw[schema.ID], test_fraction=fraction, salt=prepare_params["split_salt"]
    )
    assert abs(mask.mean() - fraction) < 0.02


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_the_extreme_fractions_hold_out_no_one_or_everyone(
    good_small: pd.DataFrame, fraction: float
) -> None:
    mask = prepare.test_mask(good_small[schema.ID], test_fraction=fraction, salt="any")
    assert mask.all() if fraction else not mask.any()


def test_appending_customers_moves_none_of_the_old_ones(
    good_raw: pd.DataFrame, prepare_params: dict[str, Any]
) -> None:
    knobs = {"test_fraction": prepare_params["test_fraction"], "salt": prepare_params["split_salt"]}
    old = good_raw[schema.ID]
    new = pd.Series([f"N{number:06d}" for number in range(5000)])

    before = prepare.test_mask(old, **knobs)
    after = prepare.test_mask(pd.concat([old, new], ignore_index=True), **knobs)

    assert np.array_equal(after[: len(old)], before)
    assert 0 < after[len(old) :].sum() < len(new)


def test_the_split_depends_on_the_id_not_the_row_order(
    good_raw: pd.DataFrame, prepare_params: dict[str, Any]
) -> None:
    knobs = {"test_fraction": prepare_params["test_fraction"], "salt": prepare_params["split_salt"]}
    ids = good_raw[schema.ID]
    shuffled = ids.sample(frac=1.0, random_state=1)

    by_id = dict(zip(ids, prepare.test_mask(ids, **knobs), strict=True))
    shuffled_by_id = dict(zip(shuffled, prepare.test_mask(shuffled, **knobs), strict=True))
    reindexed = prepare.test_mask(ids.set_axis(range(10_000, 10_000 + len(ids))), **knobs)

    assert shuffled_by_id == by_id
    assert np.array_equal(reindexed, prepare.test_mask(ids, **knobs))


def test_a_new_salt_reshuffles_the_split(
    good_raw: pd.DataFrame, prepare_params: dict[str, Any]
) -> None:
    fraction = prepare_params["test_fraction"]
    ids = good_raw[schema.ID]
    one = prepare.test_mask(ids, test_fraction=fraction, salt=prepare_params["split_salt"])
    other = prepare.test_mask(
        ids, test_fraction=fraction, salt=prepare_params["split_salt"] + "-other"
    )
    # Independent draws share about fraction² of the customers, far from all of them.
    assert (one & other).sum() < 0.5 * one.sum()


def test_split_partitions_the_customers(
    good_raw: pd.DataFrame, prepare_params: dict[str, Any]
) -> None:
    frame = clean(good_raw)
    train, test = split(
        frame, test_fraction=prepare_params["test_fraction"], salt=prepare_params["split_salt"]
    )
    assert len(train) + len(test) == len(frame)
    assert set(train[schema.ID]).isdisjoint(test[schema.ID])
    assert set(train[schema.ID]) | set(test[schema.ID]) == set(frame[schema.ID])
    pd.testing.assert_frame_equal(pd.concat([train, test]).sort_index(), frame)


def test_a_frame_without_ids_all_goes_to_train(good_small: pd.DataFrame) -> None:
    frame = clean(good_small.drop(columns=[schema.ID]))
    train, test = split(frame, test_fraction=0.5, salt="any")
    assert len(train) == len(frame)
    assert test.empty
