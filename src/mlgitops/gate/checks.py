"""The gate's decision: every rule of the policy applied to the report's numbers.

The gate never recomputes anything: it reads `report.json` (written by `mlgitops report`), so
what reviewers see in the comment and what the gate decides come from the same numbers.
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.gate.interval import fmt, slice_record, worsening_check
from mlgitops.gate.result import Check, GateResult, Kind
from mlgitops.policy import MetricRule


def evaluate_gate(report: dict[str, Any], rules: list[MetricRule], *, source: str) -> GateResult:
    """Every check of the policy against the report; `source` names the policy in messages."""
    checks = [_pipeline_check(report.get("pipeline") or {})]
    for rule in rules:
        checks.extend(_rule_checks(rule, report, source=source))
    return GateResult(tuple(checks))


def _pipeline_check(pipeline: dict[str, Any]) -> Check:
    status = pipeline.get("status", "unknown")
    if status == "failed":
        stage = pipeline.get("failed_stage") or "an unknown stage"
        reason = (
            f"gate: the pipeline failed at stage '{stage}' (dvc repro); fix what its log in the "
            "report says, in the code or the data, and push again"
        )
        return Check("pipeline", None, None, None, "reproduces", False, reason, kind="pipeline")
    reason = "the pipeline reproduced"
    if status != "ok":
        reason = f"the pipeline's status is {status} (the report was made without --repro-log)"
    return Check("pipeline", None, None, None, "reproduces", True, reason, kind="pipeline")


def _rule_checks(rule: MetricRule, report: dict[str, Any], *, source: str) -> list[Check]:
    path, old, new = _lookup(rule, report)
    where = f"({source} gate)"
    if not _is_number(new):
        seen = "is missing at head" if new is None else f"is not a number at head ({new!r})"
        reason = (
            f"gate: {rule.subject} {seen}{_missing(rule, report, path)} {where}; check that the "
            "pipeline still writes it, or change the rule in a reviewed PR"
        )
        return [Check(rule.subject, rule.file, _number(old), None, "present", False, reason)]
    assert isinstance(new, float | int)
    base, checks = _number(old), []
    bounds = (
        (rule.at_least, ">=", "floor", "at or above", "below"),
        (rule.at_most, "<=", "ceiling", "at or below", "above"),
    )
    for bound, sign, name, within, beyond in bounds:
        if bound is None:
            continue
        ok = new >= bound if sign == ">=" else new <= bound
        reason = f"{rule.subject} {fmt(new)} is {within if ok else beyond} the {name} "
        reason += f"{fmt(bound)} {where}"
        if not ok:
            reason = f"gate: {reason}; improve the model or change the {name} in a reviewed PR"
        limit = f"{sign} {fmt(bound)}"
        kind: Kind = "floor" if name == "floor" else "ceiling"
        checks.append(
            Check(rule.subject, rule.file, base, new, limit, ok, reason, kind=kind, bound=bound)
        )
    if rule.max_worsening is not None:
        checks.append(worsening_check(rule, report, base, float(new), where))
    if not checks:
        reason = f"{rule.subject} is present at head (the rule sets no limit)"
        checks.append(Check(rule.subject, rule.file, base, new, "present", True, reason))
    return checks


def _lookup(rule: MetricRule, report: dict[str, Any]) -> tuple[str | None, Any, Any]:
    """(file, old, new) of the rule's metric: DVC's diff first, the headline for unchanged ones;
    a slice's from the evidence."""
    if rule.slice is not None:
        record = slice_record(rule, report)[0]
        if record is None:
            return rule.file, None, None
        return record.get("path"), record.get("base"), record.get("head")
    found: dict[str, tuple[Any, Any]] = {}
    for entry in report.get("headline") or []:
        if entry.get("metric") == rule.metric and entry.get("path"):
            found[_norm(entry["path"])] = (entry.get("old"), entry.get("new"))
    for path, entries in (report.get("metrics") or {}).items():
        if isinstance(entries, dict) and rule.metric in entries:
            value = entries[rule.metric] or {}
            found[_norm(path)] = (value.get("old"), value.get("new"))
    if rule.file is not None:
        wanted = _norm(rule.file)
        old, new = found.get(wanted, (None, None))
        return wanted, old, new
    if len(found) > 1:
        raise UsageError(
            f"{rule.metric} is in several metric files ({', '.join(sorted(found))}); "
            "name one with 'file:' in its gate rule"
        )
    if not found:
        return None, None, None
    ((path, (old, new)),) = found.items()
    return path, old, new


def _missing(rule: MetricRule, report: dict[str, Any], file: str | None) -> str:
    """Why the rule's value is missing, as a clause."""
    if rule.slice is not None:
        return f" ({slice_record(rule, report)[1]})"
    return _head_errors(report, file)


def _head_errors(report: dict[str, Any], file: str | None) -> str:
    """Why DVC could not load metrics at head, as a clause, when the report knows."""
    head = (report.get("head") or {}).get("rev")
    errors = [
        error
        for error in report.get("metrics_errors") or []
        if error.get("rev") == head and (file is None or _norm(error.get("path", "")) == file)
    ]
    if not errors:
        return f" ({file})" if file else " (not in the report's metrics)"
    return " (" + "; ".join(f"{e.get('path')}: {e.get('error')}" for e in errors) + ")"


def _norm(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) else None
