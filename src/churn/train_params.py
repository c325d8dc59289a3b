"""DVC stage `train_params`: check params.yaml's `train` section against LightGBM's own list.

An unknown key (`num_leafs: 31`) would otherwise train with LightGBM's default and a warning.
This writes the parameters `train` uses, under LightGBM's canonical names, or stops with one
sentence naming the file, the key and the nearest valid name. It is a stage of its own because
DVC deletes a stage's outputs before running it: failing inside `train` would leave no model;
failing here leaves the previous model where it was.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from churn.io import PARAMS_PATH, load_params
from churn.model import import_lightgbm_alone
from churn.timing import StageTimer
from mlgitops.errors import UsageError

if TYPE_CHECKING:
    from mlgitops.settings.compute import TrainBackendSettings

logger = logging.getLogger(__name__)

TRAIN_PARAMS_PATH = Path("models/train_params.json")
SECTION = "train"
BACKEND_SECTION = "train_backend"  # where train fits: mlgitops.settings.compute
# The section's one key that is not a LightGBM parameter: the boosting rounds, given to
# lightgbm.train itself (LightGBM knows it only as an alias of num_iterations).
ROUNDS_KEY = "num_boost_round"
ROUNDS_PARAMETER = "num_iterations"
# What this model always is. `deterministic` with `force_col_wise` gives the same trees from the
# same data; verbosity 0 shows LightGBM's warnings and errors, not its progress lines.
FIXED = {"objective": "binary", "deterministic": True, "force_col_wise": True, "verbosity": 0}
_CUTOFF = 0.6  # difflib's similarity below which nothing is suggested
_WHERE_IN_LIGHTGBM = re.compile(r"\s+at \S+, line \d+\s*\.?\s*$")  # a C++ file and line


class TrainParamsError(ValueError):
    """Raised when the `train` section has a key LightGBM does not know, or one twice."""


@cache
def lightgbm_names() -> dict[str, str]:
    """Every name LightGBM accepts for a parameter, aliases included, mapped to its own name.

    The list is LightGBM's (its C API's LGBM_DumpParamAliases, read through the Python
    package), so it follows the installed version.
    """
    from lightgbm.basic import _ConfigAliases

    groups: dict[str, list[str]] = _ConfigAliases._get_all_param_aliases()
    return {name: canonical for canonical, names in groups.items() for name in names}


def _suggestion(key: str, names: Mapping[str, str]) -> str:
    """`; did you mean X?` with the nearest valid name, or a pointer to LightGBM's list."""
    nearest = difflib.get_close_matches(key, [*names, ROUNDS_KEY], n=1, cutoff=_CUTOFF)
    if not nearest:
        return "; see https://lightgbm.readthedocs.io/en/stable/Parameters.html"
    name = nearest[0]
    canonical = names.get(name, name)
    if canonical == name or difflib.SequenceMatcher(None, key, canonical).ratio() >= _CUTOFF:
        return f"; did you mean {canonical}?"
    return f"; did you mean {name} (LightGBM's alias of {canonical})?"


def resolve(section: Mapping[str, Any], *, source: Path = PARAMS_PATH) -> dict[str, Any]:
    """`{"num_boost_round": n, "lightgbm": {...}}` from the section; TrainParamsError if wrong.

    LightGBM's parameters come under their canonical names, over FIXED; two keys naming the
    same parameter, the rounds set under another name than num_boost_round, or a value
    LightGBM refuses (a type, a range: see `_probe`) are refused.
    """
    where = f"{source}: {SECTION}"
    names = lightgbm_names()
    rounds = section.get(ROUNDS_KEY)
    if type(rounds) is not int or rounds < 1:
        raise TrainParamsError(
            f"{where}.{ROUNDS_KEY} must be the number of boosting rounds, a whole number of at "
            f"least 1, not {rounds!r}"
        )
    chosen: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for key, value in section.items():
        if key == ROUNDS_KEY:
            continue
        canonical = names.get(key)
        if canonical is None:
            raise TrainParamsError(
                f"{where}.{key} is not a LightGBM parameter{_suggestion(key, names)}"
            )
        if canonical == ROUNDS_PARAMETER:
            raise TrainParamsError(
                f"{where}.{key} sets the boosting rounds, which this section sets with "
                f"{SECTION}.{ROUNDS_KEY}; keep that one"
            )
        if canonical in given_as:
            raise TrainParamsError(
                f"{where}.{given_as[canonical]} and {SECTION}.{key} both set LightGBM's "
                f"{canonical}; keep one"
            )
        given_as[canonical] = key
        chosen[canonical] = value
    if _probe({**FIXED, **chosen}):
        for canonical, key in given_as.items():  # which key: one at a time over FIXED
            refusal = _probe({**FIXED, canonical: chosen[canonical]})
            if refusal:
                raise TrainParamsError(
                    f"{where}.{key}: LightGBM refuses {chosen[canonical]!r} ({refusal})"
                )
        refusal = _probe({**FIXED, **chosen})
        raise TrainParamsError(f"{where}: LightGBM refuses these values together ({refusal})")
    return {"num_boost_round": rounds, "lightgbm": {**FIXED, **chosen}}


def _probe(params: Mapping[str, Any]) -> str | None:
    """LightGBM's objection to `params`, or None: it builds a booster on four rows (~40 ms).

    This checks types and ranges (a `learning_rate` that is not a number, `num_leaves: 1`)
    before the train stage runs, since DVC deletes the last model when that stage starts.
    """
    import lightgbm as lgb
    import numpy as np

    quiet = {**params, "verbosity": -1}  # LightGBM still prints its own [Fatal] line
    rows = lgb.Dataset(np.array([[0.0], [1.0], [0.0], [1.0]]), label=[0, 1, 0, 1], params=quiet)
    try:
        lgb.Booster(params=quiet, train_set=rows)
    except lgb.basic.LightGBMError as error:
        return _WHERE_IN_LIGHTGBM.sub("", str(error)).strip()
    return None


def read_backend(path: Path = PARAMS_PATH) -> TrainBackendSettings:
    """params.yaml `train_backend`: where train fits; without the section, in one process.

    UsageError naming the key when it is wrong (a misspelt key gets "did you mean").
    """
    # pydantic (~0.3 s) is imported when a stage reads the section, not with this module.
    from mlgitops.params import read_params
    from mlgitops.settings.compute import TrainBackendSettings
    from mlgitops.settings.load import parse_settings

    params = read_params(path)
    if BACKEND_SECTION not in params:
        return TrainBackendSettings(backend="single")
    return parse_settings(TrainBackendSettings, params, source=str(path), section=BACKEND_SECTION)


def read_train_params(path: Path = TRAIN_PARAMS_PATH) -> dict[str, Any]:
    """What this stage wrote: the rounds and LightGBM's parameters, for the train stage."""
    params: dict[str, Any] = json.loads(path.read_text())
    return params


def main() -> None:
    timer = StageTimer("train_params")
    with timer.phase("imports"):
        import_lightgbm_alone()
    with timer.phase("work"):
        try:
            params = resolve(load_params(SECTION))
            read_backend()  # checked here too: train, once started, has lost the last model
        except (TrainParamsError, UsageError) as error:
            sys.exit(f"train_params: {error}")
    with timer.phase("write"):
        TRAIN_PARAMS_PATH.parent.mkdir(parents=True, exist_ok=True)
        TRAIN_PARAMS_PATH.write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    count = len(params["lightgbm"])
    logger.info("train_params: %d LightGBM parameters -> %s", count, TRAIN_PARAMS_PATH)
    timer.report()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
