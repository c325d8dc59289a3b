"""The training reference: its columns, the kind of each feature, and its fixed bins.

The reference is a table of training rows (CSV or Parquet) with the model's inputs and,
optionally, the model's score. Each feature's kind comes from the reference's column type:
text, categories and booleans are categorical, and so is a numeric column with few distinct
values (0/1 flags); other numeric columns are numeric, binned at the reference's quantiles.
The bins are fixed here, before any log is read, so the logs can be counted chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlgitops.drift.policy import DriftPolicy
from mlgitops.drift.stats import FloatArray, IntArray, Reservoir, bin_counts, quantile_edges
from mlgitops.errors import UsageError

Kind = Literal["numeric", "categorical", "score"]
ValueType = Literal["number", "string", "bool"]
MISSING = "(missing)"
UNSEEN = "(unseen)"


@dataclass(frozen=True)
class FeatureSpec:
    """One compared column: how its values look in the log and the reference's histogram.

    Numeric and score columns have `edges` (bins: len(edges) + 1, then missing); categorical
    ones have `levels` (bins: each level, then missing, then unseen).
    """

    name: str
    kind: Kind
    value_type: ValueType
    counts: IntArray
    edges: FloatArray | None = None
    levels: tuple[str, ...] = ()
    sample: FloatArray | None = None  # for the KS test (numeric and score only)

    @property
    def labels(self) -> list[str]:
        """A readable name per bin, in the order of `counts`."""
        if self.edges is None:
            return [*self.levels, MISSING, UNSEEN]
        cuts = [f"{edge:.4g}" for edge in self.edges]
        bounds = ["-inf", *cuts, "inf"]
        return [f"({low}, {high}]" for low, high in pairwise(bounds)] + [MISSING]


@dataclass(frozen=True)
class Reference:
    """The reference's features (model inputs), its score column if it has one, its size."""

    path: Path
    rows: int
    features: tuple[FeatureSpec, ...]
    score: FeatureSpec | None


def level_key(value: Any) -> str:
    """The one spelling of a categorical value, the same for the reference and the log.

    1, 1.0 and numpy's 1 are all "1"; null and NaN are MISSING; text stays as it is.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return MISSING
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame; UsageError when it is missing or unreadable."""
    if not path.is_file():
        raise UsageError(
            f"drift: reference {path} not found; pass --reference with the training rows"
        )
    suffixes = "".join(path.suffixes).lower()
    try:
        if ".parquet" in suffixes or suffixes.endswith(".pq"):
            return pd.read_parquet(path)
        if ".csv" in suffixes:
            return pd.read_csv(path)
    except Exception as error:  # pandas and pyarrow raise many types for a broken file
        raise UsageError(f"drift: reference {path} is not a readable table ({error})") from None
    raise UsageError(f"drift: reference {path} must be a .csv or .parquet file")


def _value_type(column: pd.Series) -> ValueType:
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    return "string"


def _numeric(name: str, values: FloatArray, kind: Kind, policy: DriftPolicy) -> FeatureSpec:
    edges = quantile_edges(values, policy.bins)
    sample = Reservoir(policy.sample_size, seed=policy.seed)
    sample.add(values)
    return FeatureSpec(
        name, kind, "number", bin_counts(values, edges), edges=edges, sample=sample.values
    )


def _categorical(name: str, column: pd.Series, value_type: ValueType) -> FeatureSpec:
    counts: dict[str, int] = {}
    for value, count in column.value_counts(dropna=False).items():
        key = level_key(value)
        counts[key] = counts.get(key, 0) + int(count)
    missing = counts.pop(MISSING, 0)
    levels = tuple(sorted(counts, key=lambda level: (-counts[level], level)))
    histogram = np.array([*(counts[level] for level in levels), missing, 0], dtype=np.int64)
    return FeatureSpec(name, "categorical", value_type, histogram, levels=levels)


def load_reference(path: Path, policy: DriftPolicy) -> Reference:
    """The reference's features and score, binned; UsageError when it has no usable rows."""
    frame = read_table(path)
    if frame.empty:
        raise UsageError(f"drift: reference {path} has no rows")
    features = []
    for name in frame.columns:
        if name in policy.ignore or name == policy.score:
            continue
        column = frame[name]
        value_type = _value_type(column)
        few = column.nunique(dropna=True) <= policy.max_levels
        if value_type == "number" and not few:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            features.append(_numeric(str(name), values, "numeric", policy))
        else:
            features.append(_categorical(str(name), column, value_type))
    if not features:
        raise UsageError(
            f"drift: reference {path} has no feature columns besides drift.ignore and drift.score"
        )
    score = None
    if policy.score is not None and policy.score in frame.columns:
        column = frame[policy.score]
        if _value_type(column) != "number":
            raise UsageError(f"drift: reference {path} column {policy.score} is not numeric")
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        score = _numeric(policy.score, values, "score", policy)
    return Reference(path, len(frame), tuple(features), score)
