"""The `train` section is checked against LightGBM's own parameter list, aliases included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from churn import schema
from churn.io import load_params
from churn.train import train
from churn.train_params import FIXED, TrainParamsError, lightgbm_names, resolve
from tests.checkout import REPO_ROOT

SOURCE = Path("params.yaml")


@pytest.fixture
def section() -> dict[str, Any]:
    """The repository's own `train` section (a fresh dict per test, free to change)."""
    return load_params("train", REPO_ROOT / "params.yaml")


def _refusal(section: dict[str, Any]) -> str:
    with pytest.raises(TrainParamsError) as caught:
        resolve(section, source=SOURCE)
    return str(caught.value)


def test_the_names_are_lightgbms_own_with_aliases() -> None:
    names = lightgbm_names()
    assert names["num_leaves"] == "num_leaves"
    assert names["num_leaf"] == names["max_leaves"] == "num_leaves"
    assert names["num_boost_round"] == names["n_estimators"] == "num_iterations"
    assert len(set(names.values())) > 100  # the whole list, not a hand-picked few


def test_the_repositorys_section_resolves_to_canonical_names(section: dict[str, Any]) -> None:
    resolved = resolve(section, source=SOURCE)

    assert resolved["num_boost_round"] == section["num_boost_round"]
    knobs = resolved["lightgbm"]
    names = lightgbm_names()
    assert all(names[key] == key for key in knobs), knobs
    assert {key: knobs[key] for key in FIXED} == FIXED
    assert knobs["num_leaves"] == section["num_leaves"]
    assert knobs["verbosity"] >= 0  # LightGBM's warnings are shown
    assert "num_boost_round" not in knobs and "num_iterations" not in knobs


def test_a_misspelt_key_is_refused_with_file_key_and_nearest_name(
    section: dict[str, Any],
) -> None:
    section["num_leafs"] = section.pop("num_leaves")

    assert _refusal(section) == (
        "params.yaml: train.num_leafs is not a LightGBM parameter; did you mean num_leaves?"
    )


def test_a_key_near_only_an_alias_names_the_alias_and_its_parameter(
    section: dict[str, Any],
) -> None:
    section["subsampl"] = 0.8

    assert _refusal(section).endswith(
        "train.subsampl is not a LightGBM parameter; "
        "did you mean subsample (LightGBM's alias of bagging_fraction)?"
    )


def test_a_key_like_nothing_points_to_lightgbms_list(section: dict[str, Any]) -> None:
    section["owner"] = "data team"

    message = _refusal(section)
    assert "train.owner is not a LightGBM parameter" in message
    assert "lightgbm.readthedocs.io" in message


def test_an_alias_is_accepted_under_its_parameters_name(section: dict[str, Any]) -> None:
    section.pop("num_leaves")
    section["max_leaves"] = 31

    assert resolve(section, source=SOURCE)["lightgbm"]["num_leaves"] == 31


def test_one_parameter_under_two_names_is_refused(section: dict[str, Any]) -> None:
    section["max_leaves"] = 31

    message = _refusal(section)
    assert "train.num_leaves and train.max_leaves both set LightGBM's num_leaves" in message


def test_the_rounds_under_another_name_are_refused(section: dict[str, Any]) -> None:
    section["n_estimators"] = 50

    message = _refusal(section)
    assert "train.n_estimators sets the boosting rounds" in message
    assert "train.num_boost_round" in message


@pytest.mark.parametrize("rounds", [None, 0, "ten", 2.5, True])
def test_the_rounds_are_a_whole_number_of_at_least_one(
    section: dict[str, Any], rounds: object
) -> None:
    if rounds is None:
        section.pop("num_boost_round")
    else:
        section["num_boost_round"] = rounds

    message = _refusal(section)
    assert message.startswith("params.yaml: train.num_boost_round must be"), message
    assert repr(rounds) in message


@pytest.mark.parametrize(
    ("key", "value", "objection"),
    [
        ("learning_rate", "fast", "fast"),
        ("num_leaves", 1, "num_leaves"),
        ("bagging_fraction", 1.5, "bagging_fraction"),
        ("objective", "binaryy", "binaryy"),
    ],
)
def test_a_value_lightgbm_refuses_is_refused_before_training(
    section: dict[str, Any], key: str, value: object, objection: str
) -> None:
    section[key] = value

    message = _refusal(section)
    assert message.startswith(f"params.yaml: train.{key}: LightGBM refuses {value!r} ("), message
    assert objection in message.split("(", 1)[1]
    assert "config_auto.cpp" not in message  # LightGBM's source line is not the user's business


def test_a_user_value_overrides_a_fixed_one(section: dict[str, Any]) -> None:
    section["verbose"] = 1  # an alias of verbosity

    assert resolve(section, source=SOURCE)["lightgbm"]["verbosity"] == 1


def test_lightgbms_warnings_are_not_hidden(
    section: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    """200 rows of noise leave LightGBM nothing to split: it says so, and it must be seen."""
    section["num_boost_round"] = 2
    rows = 200
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            column: (
                pd.Categorical(rng.choice(list(levels), rows), categories=list(levels))
                if (levels := schema.CATEGORICAL.get(column))
                else rng.random(rows)
            )
            for column in schema.FEATURES
        }
    ).assign(**{schema.LABEL: rng.integers(0, 2, rows)})

    train(frame, resolve(section, source=SOURCE))
    assert "[LightGBM] [Warning] No further splits" in capfd.readouterr().out

    section["verbosity"] = -1  # what the train section used to pass: the same run, silent
    train(frame, resolve(section, source=SOURCE))
    assert "[LightGBM]" not in capfd.readouterr().out
