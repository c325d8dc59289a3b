"""The drift policy: the `drift` section of params.yaml, checked once and passed on explicitly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.params import read_params


@dataclass(frozen=True)
class DriftPolicy:
    """Every knob of the drift check; params.yaml's `drift` section documents each key."""

    ignore: tuple[str, ...] = ()
    score: str | None = None
    min_rows: int = 500
    bins: int = 10
    max_levels: int = 10
    psi_threshold: float = 0.2
    p_value: float = 0.01
    epsilon: float = 1e-4
    min_drifted_features: int = 2
    score_drift_retrains: bool = True
    sample_size: int = 10_000
    chunk_rows: int = 50_000
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["ignore"] = list(self.ignore)
        return values


_POSITIVE_INTS = ("min_rows", "bins", "max_levels", "min_drifted_features", "sample_size")
_FRACTIONS = ("psi_threshold", "p_value", "epsilon")


def parse_policy(section: Any, *, source: str = "params.yaml") -> DriftPolicy:
    """The policy of a `drift` section; a malformed key is a UsageError naming it."""
    if not isinstance(section, dict):
        raise UsageError(f"{source}: 'drift' must be a mapping of settings (see docs/drift.md)")
    known = {field.name for field in fields(DriftPolicy)}
    unknown = set(section) - known
    if unknown:
        raise UsageError(
            f"{source}: drift has unknown keys {sorted(unknown)}; allowed: {sorted(known)}"
        )
    values = dict(section)
    ignore = values.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(name, str) for name in ignore):
        raise UsageError(f"{source}: drift.ignore must be a list of column names, got {ignore!r}")
    values["ignore"] = tuple(ignore)
    score = values.get("score")
    if score is not None and not (isinstance(score, str) and score):
        raise UsageError(f"{source}: drift.score must be a column name or null, got {score!r}")
    for key in (*_POSITIVE_INTS, "chunk_rows", "seed"):
        value = values.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise UsageError(f"{source}: drift.{key} must be a whole number, got {value!r}")
        if key in _POSITIVE_INTS and value is not None and value < 1:
            raise UsageError(f"{source}: drift.{key} must be at least 1, got {value}")
    if values.get("chunk_rows", 1) < 1:
        raise UsageError(f"{source}: drift.chunk_rows must be at least 1")
    for key in _FRACTIONS:
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise UsageError(f"{source}: drift.{key} must be a number in (0, 1], got {value!r}")
        values[key] = float(value)
    if "bins" in values and values["bins"] < 2:
        raise UsageError(f"{source}: drift.bins must be at least 2, got {values['bins']}")
    flag = values.get("score_drift_retrains")
    if flag is not None and not isinstance(flag, bool):
        raise UsageError(f"{source}: drift.score_drift_retrains must be true or false")
    return DriftPolicy(**values)


def load_policy(params_path: Path) -> DriftPolicy:
    """The policy from a params file; a missing file or section is a UsageError."""
    params = read_params(params_path)
    if "drift" not in params:
        raise UsageError(f"{params_path} has no 'drift' section; see docs/drift.md for its keys")
    return parse_policy(params["drift"], source=str(params_path))
