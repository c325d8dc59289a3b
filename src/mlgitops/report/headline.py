"""The headline: the metrics the policy names, their change and whether it is for the better.

The policy is the `gate` section of params.yaml (`mlgitops.policy`); the values come from the
complete metrics diff, so a metric that did not change still shows, marked unchanged.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.policy import MetricRule


def build_headline(
    rules: list[MetricRule], metrics_full: dict[str, dict[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One record per rule of a whole metric: path, old, new, diff, direction and verdict (a
    slice's rule shows in the slices table and the gate's)."""
    return [_line(rule, metrics_full) for rule in rules if rule.slice is None]


def _line(rule: MetricRule, metrics_full: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    candidates = [
        path
        for path, entries in metrics_full.items()
        if rule.metric in entries and (rule.file is None or _same_path(path, rule.file))
    ]
    if len(candidates) > 1:
        # The gate refuses to guess which file a rule means; the headline must not guess either.
        raise UsageError(
            f"{rule.metric} is in several metric files ({', '.join(sorted(candidates))}); "
            "name one with 'file:' in its gate rule"
        )
    path = candidates[0] if candidates else rule.file
    entry = metrics_full[candidates[0]][rule.metric] if candidates else {}
    old, new = _number(entry.get("old")), _number(entry.get("new"))
    return {
        "metric": rule.metric,
        "path": path,
        "old": old,
        "new": new,
        "diff": new - old if old is not None and new is not None else None,
        "better": rule.better,
        "verdict": verdict(rule, old, new),
    }


def verdict(rule: MetricRule, old: float | None, new: float | None) -> str:
    """better, worse or unchanged against the base; new without a base, missing without a head."""
    if new is None:
        return "missing"
    if old is None:
        return "new"
    worsening = rule.worsening(old, new)
    if worsening > 0:
        return "worse"
    if worsening < 0:
        return "better"
    return "unchanged"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _same_path(path: str, wanted: str) -> bool:
    return PurePath(path).as_posix() == PurePath(wanted).as_posix()
