"""The quality policy: the `gate` section of params.yaml, read by the report and the gate.

gate:
  - metric: test.roc_auc      # dotted key, as `dvc metrics diff` shows it
    file: metrics.json        # optional: needed only when several files have the key
    better: higher            # or lower
    at_least: 0.80            # optional absolute floor (at_most: ceiling, for `lower`)
    max_worsening: 0.01       # optional: largest allowed change for the worse vs the base
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlgitops.errors import UsageError
from mlgitops.params import read_params

_KEYS = {"metric", "file", "better", "at_least", "at_most", "max_worsening"}


@dataclass(frozen=True)
class MetricRule:
    """One metric the policy watches, with its direction and limits."""

    metric: str
    better: Literal["higher", "lower"]
    file: str | None = None
    at_least: float | None = None
    at_most: float | None = None
    max_worsening: float | None = None

    def worsening(self, old: float, new: float) -> float:
        """How much worse `new` is than `old` (negative when it improved)."""
        return old - new if self.better == "higher" else new - old


def parse_policy(section: Any, *, source: str = "params.yaml") -> list[MetricRule]:
    """The rules of a `gate` section; a malformed one is a UsageError naming the entry."""
    if not isinstance(section, list) or not section:
        raise UsageError(f"{source}: 'gate' must be a non-empty list of metric rules")
    rules = []
    for position, entry in enumerate(section, start=1):
        where = f"{source}: gate rule {position}"
        if not isinstance(entry, dict) or "metric" not in entry:
            raise UsageError(f"{where} needs a 'metric' (a dotted key such as test.roc_auc)")
        unknown = set(entry) - _KEYS
        if unknown:
            raise UsageError(
                f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}"
            )
        if entry.get("better") not in ("higher", "lower"):
            raise UsageError(f"{where} ({entry['metric']}): 'better' must be 'higher' or 'lower'")
        for limit in ("at_least", "at_most", "max_worsening"):
            if limit in entry and not isinstance(entry[limit], int | float):
                raise UsageError(f"{where} ({entry['metric']}): '{limit}' must be a number")
        rules.append(MetricRule(**entry))
    return rules


def load_policy(params_path: Path) -> list[MetricRule]:
    """The policy from a params file; a missing file or section is a UsageError."""
    params = read_params(params_path)
    if "gate" not in params:
        raise UsageError(f"{params_path} has no 'gate' section; see docs/pr-loop.md for its shape")
    return parse_policy(params["gate"], source=str(params_path))
